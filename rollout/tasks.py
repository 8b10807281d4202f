"""Celery tasks of rollout: they call rollout services and nothing else."""

from __future__ import annotations

from celery import shared_task

from actors.transient import MAX_RETRIES, TRANSIENT


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=MAX_RETRIES
)
def check_integrity() -> int:
    """Beat, nightly after the coverage recomputation: the integrity check (history chain
    against the current statuses, stored figures against a live count); administrators
    are e-mailed when it finds anything. Read-only apart from the run it stores. Returns
    the number of findings."""
    from .integrity import run_check
    from .models import IntegrityCheckRun

    return run_check(trigger=IntegrityCheckRun.Trigger.SCHEDULE).finding_count
