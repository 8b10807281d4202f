"""Celery tasks for coverage targets: they take ids and call benefits.services.

Idempotent (a day's snapshots are replaced, never duplicated), so they are acknowledged
late and re-queued if a worker dies; transient broker or database failures are retried
with exponential backoff, the job showing "retrying" meanwhile.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from actors import imports as registry_imports
from actors.models import Job
from actors.scoping import SYSTEM_USER
from actors.transient import MAX_RETRIES, TRANSIENT
from rollout import imports as status_imports

from . import jobs, services
from .governance import dependencies

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


def backoff(retries: int) -> float:
    """5, 10, 20, … seconds, at most five minutes, with jitter (well below the broker's
    visibility timeout)."""
    return get_exponential_backoff_interval(
        factor=5, retries=retries, maximum=300, full_jitter=True
    )


@shared_task(bind=True, max_retries=MAX_RETRIES, **IDEMPOTENT)
def run_job(self, job_id: int) -> int | None:
    """Run a queued recomputation, back-fill, report (see services.*_job_run) or import
    (actors.import_jobs) if no other worker has it; then sweep, so whatever waited behind
    a broker outage follows."""
    if not jobs.claim(job_id):  # finished, or another worker runs it: nothing to do
        return None
    job = Job.objects.get(pk=job_id)
    run = {
        Job.Kind.REPORT_EXPORT: services.report_job_run,
        Job.Kind.ORGANISATION_IMPORT: registry_imports.run_job,
        Job.Kind.STATUS_IMPORT: status_imports.run_job,
    }.get(job.kind, services.coverage_job_run)
    try:
        if self.request.is_eager:
            run(job)
        else:
            with jobs.heartbeat(job.pk):
                run(job)
    except TRANSIENT as exc:
        if self.request.retries >= self.max_retries:
            raise  # the job stays failed, with the error as its message
        countdown = backoff(self.request.retries)
        services.coverage_job_retrying(job.pk, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if not self.request.is_eager:
        jobs.sweep()
    return job.pk


@shared_task
def sweep_jobs() -> dict[str, int]:
    """Beat, every few minutes: send pending jobs, re-send lost ones, restart stalled ones
    (see benefits.jobs)."""
    return jobs.sweep()


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=MAX_RETRIES
)
def nightly_coverage() -> int:
    """Beat, every night: today's snapshots for every active target."""
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE, params={"trigger": "nightly"}
    )
    return job.pk


@shared_task
def purge_report_files() -> int:
    """Beat, every hour: delete report files past their time."""
    return services.report_files_purge()


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=MAX_RETRIES
)
def send_reminders() -> int:
    """Beat, weekday mornings: e-mail contacts and coordinators what is due for them (each
    kind at most once per REMINDER_INTERVAL_DAYS, so a re-run sends nothing twice).
    Returns how many users were reminded."""
    return dependencies.reminders_send()
