"""The recomputation after registry and status changes (actors.signals.coverage_inputs_changed):
one queued job per transaction, debounced across transactions."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from actors import scoping
from actors.models import Job
from rollout.services import today as rollout_today

from .coverage_jobs import coverage_job_request


class _AfterChange:
    """Marks the transaction that has already written its recomputation request (the job
    row commits with the changes, so no request is lost; see benefits.jobs)."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self) -> None:
        pass


def coverage_recompute_soon(since: datetime.date | None = None) -> None:
    """After statuses or organisations change: recompute today's snapshots (and any stored
    day from `since` on, for back-dated changes) a little later. The request is written in
    the same transaction as the change; however many changes a transaction makes, it
    writes one."""
    since = since or rollout_today()
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _AfterChange) and _widen(callback.job, since):
            return
    job = coverage_queue_after_change(since)
    transaction.on_commit(_AfterChange(job), robust=True)


def recompute_after_change(sender=None, since: datetime.date | None = None, **kwargs) -> None:
    """Receiver of actors.signals.coverage_inputs_changed."""
    coverage_recompute_soon(since)


def _widen(job: Job, since: datetime.date) -> bool:
    """Let a still queued recomputation also cover days from `since` on."""
    earliest = min(job.params.get("since") or job.params["day"], since.isoformat())
    params = {**job.params, "since": earliest}
    # Only while it is still queued: once a worker has it, the change needs a new job.
    if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(params=params):
        job.params = params
        return True
    return False


# A queued recomputation older than this is presumed lost; later changes queue a new one.
STALE_QUEUED = datetime.timedelta(minutes=15)


def coverage_queue_after_change(since: datetime.date) -> Job:
    """Debounced: while a recomputation for today started by changes is still queued,
    later changes ride on it (widening its `since`), so a bulk change of a thousand
    statuses, or many in a row, makes one job. Returns the job that will do it."""
    today = rollout_today()
    waiting = Job.objects.filter(
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        state=Job.State.QUEUED,
        params__trigger="change",
        params__day=today.isoformat(),
        created_at__gte=timezone.now() - STALE_QUEUED,
    ).order_by("-id")
    for job in waiting:
        if _widen(job, since):
            return job
    return coverage_job_request(
        user=scoping.SYSTEM_USER,
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        params={"trigger": "change", "since": since},
        countdown=settings.COVERAGE_RECOMPUTE_DELAY,
    )
