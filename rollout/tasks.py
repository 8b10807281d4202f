"""Celery tasks of rollout: they call rollout services and nothing else."""

from __future__ import annotations

from celery import shared_task

from actors.transient import MAX_RETRIES, TRANSIENT

from .governance import dependencies


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=MAX_RETRIES
)
def send_reminders() -> int:
    """Beat, weekday mornings: e-mail contacts and coordinators what is due for them (each
    kind at most once per REMINDER_INTERVAL_DAYS, so a re-run sends nothing twice).
    Returns how many users were reminded."""
    return dependencies.reminders_send()


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
