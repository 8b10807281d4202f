"""Health of the coverage figures, for the administrators' health page (config/health.py)."""

from __future__ import annotations

import dataclasses
import datetime

from asgiref.sync import sync_to_async
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext
from health_check.base import HealthCheck
from health_check.exceptions import ServiceWarning

from .models import CoverageSnapshot

STALE_AFTER = datetime.timedelta(days=1)


@dataclasses.dataclass
class CoverageSnapshotAge(HealthCheck):
    """The newest coverage snapshot; flagged when it is older than a day (the nightly
    recomputation has stopped) or when there is none."""

    age: datetime.timedelta | None = dataclasses.field(default=None, repr=False)

    async def run(self) -> None:
        newest = await sync_to_async(
            lambda: CoverageSnapshot.objects.aggregate(newest=Max("computed_at"))["newest"]
        )()
        if newest is None:
            raise ServiceWarning(gettext("no coverage snapshot yet"))
        self.age = timezone.now() - newest
        if self.age > STALE_AFTER:
            raise ServiceWarning(gettext("the newest coverage snapshot is older than a day"))


@dataclasses.dataclass
class JobBacklog(HealthCheck):
    """Jobs that need an operator's eye (benefits/jobs.py): stalled (their worker stopped
    answering), waiting for an unreachable broker, or sent long ago and never started."""

    async def run(self) -> None:
        from actors.models import Job

        from . import jobs

        def counts() -> tuple[int, int]:
            late = timezone.now() - jobs.lost_after()
            waiting = Job.objects.filter(state=Job.State.QUEUED, created_at__lt=late).exclude(
                run_after__gte=late
            )
            return jobs.stalled().count(), waiting.count()

        stalled, waiting = await sync_to_async(counts)()
        if stalled or waiting:
            raise ServiceWarning(
                gettext(
                    "%(stalled)s stalled, %(waiting)s queued for more than %(minutes)s "
                    "minutes: is the worker running?"
                )
                % {
                    "stalled": stalled,
                    "waiting": waiting,
                    "minutes": int(jobs.lost_after().total_seconds() // 60),
                }
            )
