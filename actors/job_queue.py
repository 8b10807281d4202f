"""How actors (and rollout) hand a Job to the task queue without importing benefits, which
runs it (benefits.tasks.run_job): benefits.jobs registers its `enqueue` here."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

_enqueue = None


def register(enqueue) -> None:
    """Called by benefits.jobs: `enqueue(job)` sends the job once the transaction commits."""
    global _enqueue
    _enqueue = enqueue


def enqueue(job):
    if _enqueue is None:
        raise ImproperlyConfigured("No task queue: benefits.jobs registers it when loaded.")
    return _enqueue(job)
