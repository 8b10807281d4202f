"""Celery tasks for coverage targets: they take ids and call benefits.services.

Idempotent (a day's snapshots are replaced, never duplicated), so they are acknowledged
late and re-queued if a worker dies; transient broker or database failures are retried
with exponential backoff.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from actors.models import Job
from actors.scoping import SYSTEM_USER

from . import services

TRANSIENT = (OperationalError, InterfaceError, BrokerError, RedisConnectionError)
RETRYING = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**RETRYING)
def run_coverage_job(job_id: int) -> int:
    """Run a queued recomputation or back-fill (see services.coverage_job_run)."""
    job = Job.objects.get(pk=job_id)
    if job.state == Job.State.DONE:  # delivered twice: the work is done
        return job.pk
    services.coverage_job_run(job)
    return job.pk


@shared_task(**RETRYING)
def nightly_coverage() -> int:
    """Beat, every night: today's snapshots for every active target."""
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE, params={"trigger": "nightly"}
    )
    return job.pk
