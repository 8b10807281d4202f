"""Celery application. Reads Django settings under the CELERY_ namespace.

Without REDIS_URL the tasks run in-process (eager); with it they go through Redis
to a real worker (`make worker`, `make beat`).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("innforing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_success.connect
def record_scheduled_task_run(sender=None, **kwargs):
    """Remember when each task of the beat schedule last finished (the health page shows
    its age)."""
    from django.conf import settings

    if sender is None or sender.name not in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }:
        return
    from django.utils import timezone

    from actors.models import ScheduledTaskRun

    ScheduledTaskRun.objects.update_or_create(
        task=sender.name, defaults={"finished_at": timezone.now()}
    )
