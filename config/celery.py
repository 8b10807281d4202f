"""Celery application. Reads Django settings under the CELERY_ namespace.

Without REDIS_URL the tasks run in-process (eager); with it they go through Redis
to a real worker (`make worker`, `make beat`).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("innforing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
