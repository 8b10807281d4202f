"""Celery tasks of rollout: they call rollout services and nothing else."""

from __future__ import annotations

from celery import shared_task

from benefits.tasks import MAX_RETRIES, TRANSIENT

from .governance import dependencies


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=MAX_RETRIES
)
def send_reminders() -> int:
    """Beat, weekday mornings: e-mail contacts and coordinators what is due for them (each
    kind at most once per REMINDER_INTERVAL_DAYS, so a re-run sends nothing twice).
    Returns how many users were reminded."""
    return dependencies.reminders_send()
