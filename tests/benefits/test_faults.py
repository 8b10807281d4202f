"""Faults injected into the real parts (README, "Faults and recovery"): a Redis server of
the test's own that is stopped and started again, and a Celery worker started as its own
process (`celery -A config worker`, as `make worker` does) that is killed with SIGKILL.

Each test seeds the synthetic demo, so a back-fill takes long enough to be interrupted.
They are marked postgres and redis (they fail in CI without them) and run in the one test
process that owns the real-worker tests."""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from actors.models import Job, Municipality
from benefits import jobs, services
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from config.celery import app
from rollout.models import RolloutStatus
from rollout.services import status_change
from tests.conftest import IN_CI, celery_eager
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.xdist_group("celery-worker"),
]
ROOT = Path(__file__).resolve().parents[2]
START = datetime.date(2025, 6, 1)  # about 36 steps of 31 days: long enough to interrupt
TARGETS = ["kjernejournal-plo", "e-multidose-legekontor"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(condition, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"{what} did not happen within {timeout} s")


class RedisServer:
    """A redis-server of the test's own, without persistence: stopping it loses every
    message, as a restart of an unconfigured Redis does."""

    def __init__(self, tmp: Path):
        self.port, self.tmp, self.process = free_port(), tmp, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

        def answers():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait(answers, 10, "redis-server to start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


class WorkerProcess:
    """`celery -A config worker` on the test database and the test's Redis."""

    def __init__(self, broker_url: str, log: Path):
        self.broker_url, self.log, self.process = broker_url, log, None

    def start(self) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": self.broker_url,
            "JOB_HEARTBEAT_SECONDS": "1",
            "JOB_STALLED_AFTER_SECONDS": "4",
        }
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker",
             "--loglevel=info", "--concurrency=1", "-n", f"faults-{self.log.stem}@%h"],
            cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes the pool too
        )  # fmt: skip
        wait(lambda: " ready." in self.output(), 60, "the worker to be ready")

    def output(self) -> str:
        return self.log.read_bytes()[self.offset :].decode(errors="replace")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


BROKER_KEYS = ("broker_url", "broker_read_url", "broker_write_url")


def use_broker(urls: tuple) -> tuple:
    """Point this process's Celery app at another broker (its pools are made on first
    use, so they are dropped with the old address); returns the addresses it had."""
    before = tuple(app.conf[key] for key in BROKER_KEYS)
    for key, url in zip(BROKER_KEYS, urls, strict=True):
        app.conf[key] = url
    app._pool = None
    app.amqp._producer_pool = None
    return before


@pytest.fixture
def faults(settings, tmp_path):
    if not shutil.which("redis-server"):
        if IN_CI:
            pytest.fail("redis-server is needed for the fault tests in CI")
        pytest.skip("needs redis-server")
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
    settings.COVERAGE_RECOMPUTE_DELAY = 1
    settings.JOB_STALLED_AFTER_SECONDS = 4
    redis = RedisServer(tmp_path)
    redis.start()
    worker = WorkerProcess(redis.url, tmp_path / "worker.log")
    before = use_broker((redis.url,) * 3)
    celery_eager(False)
    try:
        yield redis, worker
    finally:
        worker.stop()
        celery_eager(True)
        use_broker(before)
        if redis.process.poll() is None:
            redis.stop()


def backfill() -> Job:
    return services.coverage_job_request(
        user=UserFactory(role="coordinator", national_scope=True),
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": TARGETS, "every": "day", "start": START.isoformat()},
    )


def under_way(job: Job) -> Job:
    def check():
        job.refresh_from_db()
        return job.state == Job.State.RUNNING and job.done >= 2

    wait(check, 120, f"job {job.pk} to be under way")
    return job


def finished(job: Job, timeout: float, sweep: bool = False) -> Job:
    def check():
        if sweep:
            jobs.sweep()
        job.refresh_from_db()
        return job.is_finished

    wait(check, timeout, f"job {job.pk} to finish", step=0.5)
    return job


def expected_snapshots(job: Job) -> int:
    """Every (target, day, level, scope) once: the rows one clean run writes."""
    days = (datetime.date.fromisoformat(job.params["end"]) - START).days + 1
    per_day = (
        CoverageSnapshot.objects.filter(target__code__in=TARGETS, day=job.params["end"])
        .values("target")
        .annotate(n=Count("id"))
    )
    return days * sum(row["n"] for row in per_day)


def test_the_worker_outlives_redis_going_away_while_it_holds_a_task(faults):
    redis, worker = faults
    worker.start()
    pid = worker.process.pid
    job = under_way(backfill())
    redis.stop()
    time.sleep(3)
    redis.start()
    back = time.monotonic()
    job = finished(job, 90)
    assert job.state == Job.State.DONE, job.message
    assert time.monotonic() - back < 60, "the job finished more than a minute after Redis returned"
    assert worker.process.poll() is None and worker.process.pid == pid, worker.output()[-3000:]
    assert "Unrecoverable error" not in worker.output()
    assert "Connection to broker lost" in worker.output()  # the fault really happened
    assert job.attempts == 1  # it ran through, not again
    assert CoverageSnapshot.objects.filter(target__code__in=TARGETS).count() == (
        expected_snapshots(job)
    )


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_once(faults):
    redis, worker = faults
    worker.start()
    job = under_way(backfill())
    worker.kill()
    stopped_at = job.done
    worker.start()  # a new worker, as the process manager would start
    job = finished(job, 180, sweep=True)  # beat's sweep finds the heartbeat stopped
    assert job.state == Job.State.DONE, job.message
    assert job.attempts == 2 and job.done == job.total > stopped_at
    rows = CoverageSnapshot.objects.filter(target__code__in=TARGETS)
    duplicates = (
        rows.values("target", "day", "level", "scope_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert rows.count() == expected_snapshots(job)


def test_a_change_made_while_redis_is_down_is_recomputed_once_it_is_back(faults, settings):
    redis, worker = faults
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")  # counts organisations
    # The monthly history as stored before the outage (computed here, in-process).
    history = Job.objects.create(
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": [target.code], "every": "month", "start": "2025-01-01",
                "end": services.rollout_today().isoformat()},
    )  # fmt: skip
    services.coverage_job_run(history)

    def nation():
        return dict(
            CoverageSnapshot.objects.filter(target=target, level=Level.NATION).values_list(
                "day", "numerator"
            )
        )

    before = nation()
    changed_on = datetime.date(2025, 6, 1)
    row = (
        RolloutStatus.objects.filter(
            solution=target.solution,
            organisation__type__in=target.organisation_types.all(),
            organisation__is_active=True,
            status__in=["ikke_startet", "planlegging"],
            effective_date__lt=changed_on,
        )
        .select_related("organisation")
        .first()
    )
    assert row is not None
    redis.stop()
    status_change(
        user=UserFactory(role="coordinator", national_scope=True),
        organisation=row.organisation,
        solution=target.solution,
        to_status="i_bruk",
        effective_date=changed_on,
        override_reason="Forutsetningene er avklart med leverandøren.",
    )
    job = Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE).latest("id")
    # Written with the change, not lost: it waits, saying why.
    assert job.state == Job.State.QUEUED and job.sent_at is None
    assert job.params["since"] == changed_on.isoformat()
    assert f"127.0.0.1:{redis.port}" in job.message  # "waiting for the queue, which …"
    redis.start()
    worker.start()
    job = finished(job, 90, sweep=True)  # beat's sweep sends it once Redis answers
    assert job.state == Job.State.DONE, job.message
    after = nation()
    assert {day for day in after if after[day] != before[day]} == {
        day for day in before if day >= changed_on
    }
    assert all(after[day] == before[day] + 1 for day in before if day >= changed_on)
