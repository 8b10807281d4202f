"""The job outbox and its sweep (benefits/jobs.py), in-process; the same faults against a
real broker and worker are in test_faults.py."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from actors.models import Job
from actors.scoping import SYSTEM_USER
from benefits import coverage, jobs, services
from benefits.models import CoverageSnapshot, CoverageTarget
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db


def job(**fields) -> Job:
    values = {"kind": Job.Kind.COVERAGE_RECOMPUTE, "params": {"day": str(timezone.localdate())}}
    return Job.objects.create(**{**values, **fields})


def ago(seconds: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=seconds)


def test_a_job_that_never_reached_the_broker_is_sent_by_the_sweep():
    waiting = job(run_after=ago(5))
    later = job(run_after=timezone.now() + datetime.timedelta(minutes=5))  # debounce
    assert jobs.sweep()["sent"] == 1
    waiting.refresh_from_db(), later.refresh_from_db()
    assert waiting.state == Job.State.DONE and waiting.attempts == 1  # in-process here
    assert later.state == Job.State.QUEUED


def test_a_sent_job_no_worker_started_is_sent_again(settings):
    lost = job(sent_at=ago(settings.JOB_LOST_AFTER_SECONDS + 5))
    fresh = job(sent_at=ago(5))
    assert jobs.sweep()["resent"] == 1
    lost.refresh_from_db(), fresh.refresh_from_db()
    assert lost.state == Job.State.DONE and fresh.state == Job.State.QUEUED


def test_a_stalled_job_is_started_again_once_then_given_up(settings):
    silent = ago(settings.JOB_STALLED_AFTER_SECONDS + 5)
    once = job(state=Job.State.RUNNING, started_at=silent, heartbeat_at=silent, attempts=1)
    twice = job(state=Job.State.RUNNING, started_at=silent, heartbeat_at=silent, attempts=2)
    alive = job(state=Job.State.RUNNING, started_at=silent, heartbeat_at=ago(1), attempts=1)
    assert jobs.sweep() == {"sent": 0, "resent": 0, "restarted": 1, "failed": 1}
    for row in (once, twice, alive):
        row.refresh_from_db()
    assert once.state == Job.State.DONE and once.attempts == 2
    assert twice.state == Job.State.FAILED and "2" in twice.message and twice.finished_at
    assert alive.state == Job.State.RUNNING


def test_a_message_delivered_twice_runs_the_job_once():
    from benefits.tasks import run_job

    queued = job()
    assert run_job.delay(queued.pk).get() == queued.pk
    assert run_job.delay(queued.pk).get() is None  # already done: nothing to do
    queued.refresh_from_db()
    assert queued.attempts == 1


def test_one_failing_target_does_not_stop_the_others(monkeypatch):
    targets = list(CoverageTarget.objects.filter(is_active=True).order_by("code"))
    broken = targets[len(targets) // 2]
    real = coverage.compute

    def compute(target, days, structure):
        if target.pk == broken.pk:
            raise ValueError("new row violates check constraint numerator_not_negative")
        return real(target, days, structure)

    monkeypatch.setattr(coverage, "compute", compute)
    done = services.coverage_job_run(
        services.coverage_job_request(user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE, params={})
    )
    done.refresh_from_db()
    assert done.state == Job.State.FAILED
    assert set(done.result["failed"]) == {broken.code}
    assert "numerator_not_negative" in done.result["failed"][broken.code]
    assert broken.code in done.message
    stored = set(CoverageSnapshot.objects.values_list("target__code", flat=True))
    assert stored == {t.code for t in targets} - {broken.code}
    assert set(done.result["targets"]) == stored


def test_the_target_pages_show_a_stalled_or_failed_job_behind_a_newer_one(users, settings):
    silent = ago(settings.JOB_STALLED_AFTER_SECONDS + 5)
    stalled = job(state=Job.State.RUNNING, started_at=silent, heartbeat_at=silent, attempts=1)
    failed = job(state=Job.State.FAILED, message="Failed: e-multidose-legekontor: boom")
    job(state=Job.State.DONE, message="2490 snapshots for 8 targets.")
    page = client_for(users["coord_nat"]).get(reverse("benefits:target_dashboard"))
    page = page.content.decode()
    assert f'id="job-{stalled.pk}"' in page and "job-stalled" in page
    assert f'id="job-{failed.pk}"' in page and "e-multidose-legekontor: boom" in page
    api = api_client_for(users["coord_nat"]).get(f"/api/v1/jobs/{stalled.pk}/").json()
    assert api["is_stalled"] is True and api["state"] == "running"
