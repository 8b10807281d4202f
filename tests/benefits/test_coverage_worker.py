"""The recomputation through a real Celery worker, against Redis and PostgreSQL.

Eager mode hides serialisation, on-commit and retry bugs; here tasks go through the
broker to an embedded worker thread, which reads and writes the database on its own
connection (so the test's data must be committed: a transactional test). These tests
are marked postgres and redis: they skip locally without the services and fail in CI."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from actors.models import Job, Municipality, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import coverage, services, tasks
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from config.celery import app
from rollout.models import Solution
from rollout.services import HistoryEntry, status_history_load, statuses_bulk_change
from tests.conftest import celery_eager
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # One test process runs these: workers of two processes would share the broker's queue.
    pytest.mark.xdist_group("celery-worker"),
]
TODAY = timezone.localdate()


@pytest.fixture
def worker(settings):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    settings.COVERAGE_RECOMPUTE_DELAY = 1
    assert settings.REDIS_URL and app.conf.broker_url.startswith("redis"), "needs a real broker"
    celery_eager(False)
    app.control.purge()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
            yield w
    finally:
        celery_eager(True)


def wait_for(job_filter, timeout=60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.filter(**job_filter).order_by("-id").first()
        if job is not None and job.is_finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"No finished job matching {job_filter} within {timeout} s: {job!r}")


def gp_offices(n: int, number="4601"):
    gp = OrganisationType.objects.get(code="fastlegekontor")
    return [
        OrganisationFactory(municipality__number=number, type=gp, name=f"Lege {number} {i}")
        for i in range(n)
    ]


def test_recompute_through_the_worker_stores_the_right_snapshots(worker):
    offices = gp_offices(5) + gp_offices(3, "5501")
    multidose = Solution.objects.get(code="e-multidose")
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(o.pk, multidose.pk, "i_bruk", datetime.date(2024, 3, 1))
            for o in offices[:4]
        ],
    )
    # That write already queued a (debounced) recomputation; wait for it, then ask again.
    wait_for({"kind": Job.Kind.COVERAGE_RECOMPUTE})
    coordinator = UserFactory(username="coord-worker", role="coordinator", national_scope=True)
    job = services.coverage_job_request(
        user=coordinator, kind=Job.Kind.COVERAGE_RECOMPUTE, params={}
    )
    job = wait_for({"pk": job.pk})
    assert job.state == Job.State.DONE, job.message
    assert job.done == job.total == CoverageTarget.objects.filter(is_active=True).count()
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    nation = CoverageSnapshot.objects.get(target=target, day=TODAY, level=Level.NATION)
    assert (nation.numerator, nation.denominator) == (4, 8)
    assert (nation.numerator, nation.denominator) == coverage.independent_count(target)
    bergen = Municipality.objects.get(number="4601")
    mine = CoverageSnapshot.objects.get(
        target=target, day=TODAY, level=Level.MUNICIPALITY, scope_id=bergen.pk
    )
    assert (mine.numerator, mine.denominator) == (4, 5)
    # Re-running the day replaces the rows: no duplicates.
    rows = CoverageSnapshot.objects.filter(day=TODAY).count()
    again = services.coverage_job_request(
        user=coordinator, kind=Job.Kind.COVERAGE_RECOMPUTE, params={}
    )
    assert wait_for({"pk": again.pk}).state == Job.State.DONE
    assert CoverageSnapshot.objects.filter(day=TODAY).count() == rows


def test_a_bulk_change_makes_one_recomputation_on_the_worker(worker):
    offices = gp_offices(30)
    coordinator = UserFactory(username="coord-bulk", role="coordinator", national_scope=True)
    before = Job.objects.count()
    result = statuses_bulk_change(
        user=coordinator,
        organisation_ids=[o.pk for o in offices],
        solution=Solution.objects.get(code="e-multidose"),
        to_status="i_bruk",
    )
    assert result.changed == 30
    job = wait_for({"kind": Job.Kind.COVERAGE_RECOMPUTE, "pk__gt": 0})
    assert Job.objects.count() == before + 1
    assert job.state == Job.State.DONE
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    nation = CoverageSnapshot.objects.get(target=target, day=TODAY, level=Level.NATION)
    assert (nation.numerator, nation.denominator) == (30, 30)


def test_a_transient_database_error_is_retried(worker, monkeypatch):
    """The first attempt fails inside the job (marked failed, then put back in the queue
    with a retrying message); the retry through the broker finishes it."""
    calls = []
    real = coverage.compute

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(coverage, "compute", flaky)
    monkeypatch.setattr(tasks, "backoff", lambda retries: 2.0)  # long enough to see it wait
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE, params={}
    )
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add((job.state, "closed the connection" in job.message))
        if job.state == Job.State.DONE:
            break
        time.sleep(0.05)
    assert job.state == Job.State.DONE, job.message
    assert (Job.State.QUEUED, True) in seen  # waiting for its retry, saying why
    assert len(calls) > CoverageTarget.objects.filter(is_active=True).count()


def test_a_report_is_made_by_the_worker_for_its_owner(worker):
    gp_offices(3)
    owner = UserFactory(username="direktorat-worker", role="directorate")
    job = services.report_export_request(
        user=owner, kind="national", key=None, since=None, fmt="xlsx"
    )
    job = wait_for({"pk": job.pk})
    assert job.state == Job.State.DONE, job.message
    assert job.has_file and job.result["filename"].endswith(".xlsx")
    assert job.done == job.total > 1  # progress went section by section
