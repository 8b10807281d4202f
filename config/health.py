"""Health checks (django-health-check): `/helse/` for the load balancer, answering only
"ok" or "not ok", and `/helse/detaljer/` for administrators, with every check, the age of
the newest coverage snapshot and of the last run of each beat task.

Checks that do not apply to the embedded default (no REDIS_URL: local-memory cache, tasks
in-process) are left out, so `/helse/` is ok there too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from redis.asyncio import Redis as RedisClient

from actors.choices import Role
from actors.models import ScheduledTaskRun
from actors.scoping import scope_for
from benefits.health import STALE_AFTER, CoverageSnapshotAge, JobBacklog

# A beat task is flagged when its last run is older than a day while a run was due since.
BEAT_GRACE = datetime.timedelta(hours=1)


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration in the code is applied to the database."""

    async def run(self) -> None:
        def pending() -> bool:
            executor = MigrationExecutor(connections["default"])
            return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))

        if await sync_to_async(pending)():
            raise ServiceUnavailable("migrations not applied")


@dataclasses.dataclass
class BeatTaskAge(HealthCheck):
    """When a task of CELERY_BEAT_SCHEDULE last finished (recorded by config/celery.py)."""

    name: str = ""
    age: datetime.timedelta | None = dataclasses.field(default=None, repr=False)

    async def run(self) -> None:
        entry = settings.CELERY_BEAT_SCHEDULE[self.name]
        run = await ScheduledTaskRun.objects.filter(task=entry["task"]).afirst()
        if run is None:
            raise ServiceWarning(gettext("has not run yet"))
        self.age = timezone.now() - run.finished_at
        due, _next = entry["schedule"].is_due(run.finished_at)
        if due and self.age > STALE_AFTER + BEAT_GRACE:
            raise ServiceWarning(gettext("the last run is older than a day"))


def load_balancer_checks() -> list[HealthCheck]:
    checks = [Database(), Migrations(), Cache()]
    if settings.REDIS_URL:
        broker = settings.CELERY_BROKER_URL
        checks.append(Redis(client_factory=lambda: RedisClient.from_url(broker)))
    return checks


def detailed_checks() -> list[HealthCheck]:
    return [
        *load_balancer_checks(),
        CoverageSnapshotAge(),
        JobBacklog(),
        *(BeatTaskAge(name=name) for name in settings.CELERY_BEAT_SCHEDULE),
    ]


def run_checks(checks: list[HealthCheck]) -> list[HealthCheckResult]:
    async def gather():
        return await asyncio.gather(*(check.get_result() for check in checks))

    return async_to_sync(gather)()


def is_healthy(results: list[HealthCheckResult]) -> bool:
    return not any(result.error for result in results)


@never_cache
def health(request):
    """For the load balancer: no login, no details."""
    if is_healthy(run_checks(load_balancer_checks())):
        return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    return HttpResponse("not ok\n", status=503, content_type="text/plain; charset=utf-8")


LABELS = {
    "Database": _("Database"),
    "Migrations": _("Migrations applied"),
    "Cache": _("Cache"),
    "Redis": _("Task queue (Redis)"),
    "CoverageSnapshotAge": _("Newest coverage snapshot"),
    "JobBacklog": _("Background jobs"),
    "BeatTaskAge": _("Scheduled task"),
}


@never_cache
def health_detail(request):
    """For administrators: each check, with ages and flags. Others get 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if scope_for(request.user).role != Role.ADMIN:
        raise Http404
    results = run_checks(detailed_checks())
    now = timezone.now()
    rows = [
        {
            "check": type(result.check).__name__,
            "label": LABELS.get(type(result.check).__name__, type(result.check).__name__),
            "name": getattr(result.check, "name", ""),
            "ok": result.error is None,
            "warning": isinstance(result.error, ServiceWarning),
            "message": result.error.message if result.error else "",
            "since": None if age is None else now - age,
            "seconds": round(result.time_taken, 3),
        }
        for result in results
        for age in [getattr(result.check, "age", None)]
    ]
    # Only what the load balancer checks makes the site unhealthy; old figures are flagged.
    healthy = not any(row["message"] and not row["warning"] for row in rows)
    return render(request, "health_detail.html", {"rows": rows, "healthy": healthy})
