"""Coverage jobs: asking for a recomputation or back-fill (with its limits), running it
target by target, and storing the snapshots."""

from __future__ import annotations

import contextlib
import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.models import Job
from rollout.models import StatusChange
from rollout.selectors import month_ends
from rollout.services import today as rollout_today

from .. import jobs
from ..choices import Level
from ..models import CoverageSnapshot, CoverageTarget

log = logging.getLogger(__name__)

EVERY = ("day", "week", "month")
BACKFILL_CHUNK_DAYS = 62  # days stored per step of the job's progress
BACKFILL_PASS_DAYS = 400  # days computed per pass over the history (bounds the memory)


def snapshots_store(target: CoverageTarget, values_by_day: dict, stored: dict | None = None) -> int:
    """Store the target's figures for these days: afterwards its snapshots of these days
    are exactly `values_by_day` (re-running a day never duplicates). Returns how many
    figures that is.

    The snapshots stored for these days are read first (one query; or given as `stored`,
    from `stored_figures`) and only the days whose figures differ are written again
    (deleted and inserted); a day that did not change keeps its rows (and their
    `computed_at`: when its figures were last written). So re-running a year of daily
    snapshots that did not change is a read. Inserts use the database's bulk path (COPY on
    PostgreSQL, executemany elsewhere); the deletes and inserts share one transaction."""
    days = sorted(values_by_day)
    if not days:
        return 0
    if stored is None:
        stored = stored_figures([target.pk], days).get(target.pk, {})
    changed = [day for day in days if stored.get(day) != values_by_day[day]]
    if changed:
        with transaction.atomic():
            rewritten = [day for day in changed if day in stored]
            if rewritten:
                CoverageSnapshot.objects.filter(target=target, day__in=rewritten).delete()
            _insert_snapshots(target.pk, {day: values_by_day[day] for day in changed})
    return sum(len(values_by_day[day]) for day in days)


def stored_figures(target_ids: list[int], days: list[datetime.date]) -> dict:
    """{target id: {day: {(level, scope id): (numerator, denominator)}}} as stored, in one
    query (sorted `days`; a dense run of days is read as one range of the index)."""
    if not days:
        return {}
    snapshots = CoverageSnapshot.objects.filter(target__in=target_ids).order_by()
    if len(days) * 2 >= (days[-1] - days[0]).days + 1:
        snapshots = snapshots.filter(day__range=(days[0], days[-1]))
    else:
        snapshots = snapshots.filter(day__in=days)
    sql, params = snapshots.values_list(
        "target_id", "day", "level", "scope_id", "numerator", "denominator"
    ).query.sql_with_params()
    wanted = set(days)
    stored: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for target_id, day, level, scope_id, num, den in cursor.fetchall():
            if day in wanted:
                stored.setdefault(target_id, {}).setdefault(day, {})[(level, scope_id)] = (
                    num,
                    den,
                )
    return stored


def _insert_snapshots(target_id: int, values_by_day: dict) -> None:
    table = CoverageSnapshot._meta.db_table
    columns = "target_id, day, level, scope_id, numerator, denominator, computed_at"
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format, written a day at a time: the values are numbers, dates and
            # level slugs (nothing to escape), several times faster than a row at a time.
            stamp = now.isoformat()
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for day, values in values_by_day.items():
                    head = f"{target_id}\t{day.isoformat()}\t"
                    copy.write(
                        "".join(
                            f"{head}{str(level)}\t{scope_id}\t{num}\t{den}\t{stamp}\n"
                            for (level, scope_id), (num, den) in values.items()
                        )
                    )
        else:
            marks = ", ".join(["%s"] * 7)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [
                    (target_id, day, level, scope_id, num, den, now)
                    for day, values in values_by_day.items()
                    for (level, scope_id), (num, den) in values.items()
                ],
            )


def backfill_days(start: datetime.date, end: datetime.date, every: str) -> list[datetime.date]:
    """The days to compute between start and end (both included): every day, every Sunday,
    or every month end; `end` is always one of them."""
    if start > end:
        return []
    if every == "month":
        return month_ends(start, end)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    if every == "week":
        days = [d for d in days if d.weekday() == 6 or d == end]
    return days


def backfill_day_count(start: datetime.date, end: datetime.date, every: str) -> int:
    """len(backfill_days(start, end, every)), counted without listing the days."""
    if start > end:
        return 0
    if every == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    if every == "week":
        sunday = start + datetime.timedelta(days=(6 - start.weekday()) % 7)
        sundays = (end - sunday).days // 7 + 1 if sunday <= end else 0
        return sundays + (end.weekday() != 6)
    return (end - start).days + 1


def _backfill_too_long(start: datetime.date, end: datetime.date, every: str) -> str | None:
    """Why a back-fill computes too many snapshot days for one job (None: it does not)."""
    count, limit = backfill_day_count(start, end, every), settings.COVERAGE_BACKFILL_MAX_DAYS
    if count <= limit:
        return None
    return _(
        "From %(start)s to %(end)s that is %(n)s snapshot days; one back-fill computes at most "
        "%(limit)s (the setting COVERAGE_BACKFILL_MAX_DAYS). Choose a later start, or a "
        "snapshot every week or month."
    ) % {"start": start.isoformat(), "end": end.isoformat(), "n": count, "limit": limit}


def _backfill_check(start, end: datetime.date, every: str, first) -> None:
    """A back-fill's limits, for every path that asks for one (API, pages, target
    changes): from the first day of status history (`first`) at the earliest, to today at
    the latest, and at most COVERAGE_BACKFILL_MAX_DAYS snapshot days."""
    if end > rollout_today():
        raise ValidationError({"end": _("The end cannot be in the future.")})
    if first is not None and end < first:
        raise ValidationError(
            {
                "end": _("The status history begins on %(first)s; end on that day or later.")
                % {"first": first.isoformat()}
            }
        )
    if start is not None:
        if first is None:
            raise ValidationError(
                {"start": _("There is no status history yet to back-fill; leave the start out.")}
            )
        if start < first:
            raise ValidationError(
                {
                    "start": _(
                        "The status history begins on %(first)s; start on that day or later."
                    )
                    % {"first": first.isoformat()}
                }
            )
        if start > end:
            raise ValidationError({"start": _("The start must be on or before the end.")})
    too_long = _backfill_too_long(start or first or end, end, every)
    if too_long:
        raise ValidationError({"start": too_long})


def _job_targets(params: dict):
    targets = CoverageTarget.objects.filter(is_active=True)
    if params.get("targets"):
        targets = targets.filter(code__in=params["targets"])
    return list(targets.select_related("solution").prefetch_related("organisation_types"))


def param_date(params: dict, key: str, default):
    """A date parameter given as a date or as YYYY-MM-DD; `default` when left out."""
    value = params.get(key) or default
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({key: _("Give dates as YYYY-MM-DD.")}) from exc
    return value


def _job_params(kind: str, params: dict) -> dict:
    """Check a job's parameters before it is queued; errors say what to fix."""
    clean: dict = {}
    codes = params.get("targets") or []
    if codes:
        known = set(CoverageTarget.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = sorted(set(codes) - known)
        if unknown:
            raise ValidationError(
                {"targets": _("Unknown target: %(c)s.") % {"c": ", ".join(unknown)}}
            )
        clean["targets"] = sorted(set(codes))
    if kind == Job.Kind.COVERAGE_BACKFILL:
        every = params.get("every") or "month"
        if every not in EVERY:
            raise ValidationError({"every": _("Choose day, week or month.")})
        start = param_date(params, "start", None)
        end = param_date(params, "end", rollout_today())
        _backfill_check(start, end, every, first_history_day(*_job_targets(clean)))
        clean.update(every=every, start=start.isoformat() if start else None, end=end.isoformat())
    elif kind == Job.Kind.COVERAGE_RECOMPUTE:
        day = param_date(params, "day", rollout_today())
        if day > rollout_today():
            raise ValidationError({"day": _("The day cannot be in the future.")})
        clean["day"] = day.isoformat()
        since = param_date(params, "since", None)
        if since is not None:
            clean["since"] = min(since, day).isoformat()
    if params.get("trigger"):
        clean["trigger"] = params["trigger"]
    return clean


def coverage_job_request(*, user, kind: str, params: dict | None = None, countdown: int = 0) -> Job:
    """Queue a recomputation or back-fill (coordinators, the directorate, administrators;
    the system). The task is sent when the transaction commits."""
    if user is not scoping.SYSTEM_USER and not scoping.can_recompute_targets(user):
        raise PermissionDenied(_("Your role cannot start a recomputation."))
    if kind not in (Job.Kind.COVERAGE_RECOMPUTE, Job.Kind.COVERAGE_BACKFILL):
        raise ValidationError(_("Unknown job kind."))
    job = Job.objects.create(
        kind=kind,
        params=_job_params(kind, params or {}),
        created_by=user if getattr(user, "pk", None) else None,
    )
    return jobs.enqueue(job, countdown)


def _recompute_days(job: Job, target: CoverageTarget) -> list[datetime.date]:
    """The job's day, and for changes dated in the past every stored day since then."""
    day = datetime.date.fromisoformat(job.params["day"])
    days = {day}
    if job.params.get("since"):
        since = datetime.date.fromisoformat(job.params["since"])
        days |= set(
            CoverageSnapshot.objects.filter(
                target=target, level=Level.NATION, scope_id=0, day__gte=since
            )
            .order_by()
            .values_list("day", flat=True)
        )
    return sorted(d for d in days if d <= day)


def _job_days(job: Job, target: CoverageTarget) -> list[datetime.date]:
    if job.kind == Job.Kind.COVERAGE_RECOMPUTE:
        return _recompute_days(job, target)
    end = datetime.date.fromisoformat(job.params["end"])
    start = job.params.get("start")
    start = datetime.date.fromisoformat(start) if start else first_history_day(target)
    start = start or end
    # Checked when asked for; checked again here, as the history may have grown backwards
    # since (or the job was made without asking).
    too_long = _backfill_too_long(start, end, job.params["every"])
    if too_long:
        raise ValueError(too_long)
    return backfill_days(start, end, job.params["every"])


def coverage_job_run(job: Job) -> Job:
    """Do a queued coverage job, recording progress on the Job row as it goes. Each target
    is computed on its own: one that fails does not stop the others, and the job ends
    failed, naming the targets that failed and why. A temporary database error stops the
    job (the task puts it back in the queue to retry).

    Today's figures come from the current statuses, read for all the targets in one
    grouped query (`Structure.load_present`); earlier days from the history, in one pass
    per target over up to BACKFILL_PASS_DAYS days, stored BACKFILL_CHUNK_DAYS at a time
    with the progress. A job of one day per target (the recomputation for today) runs in
    one transaction, a savepoint per target's writes keeping a failing target from undoing
    the others; a back-fill commits each chunk, so its progress shows."""
    from .. import coverage

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), finished_at=None, done=0, message=""
    )
    job.refresh_from_db()
    failed: dict[str, str] = {}

    def on_its_own(target: CoverageTarget, work, *, savepoint: bool = True):
        try:
            with transaction.atomic() if savepoint else contextlib.nullcontext():
                return work()
        except jobs.TRANSIENT:
            raise
        except Exception as exc:
            log.exception("coverage job %s: target %s failed", job.pk, target.code)
            failed.setdefault(target.code, str(exc)[:300] or exc.__class__.__name__)
            return None

    try:
        targets = _job_targets(job.params)
        structure = coverage.Structure.load()
        present = rollout_today()
        days_of = {
            target.pk: on_its_own(target, lambda target=target: _job_days(job, target)) or []
            for target in targets
        }
        if any(days and days[-1] == present for days in days_of.values()):
            structure.load_present([t for t in targets if t.code not in failed], present)
            structure.on(present)  # read now: counting today then reads nothing
        # One day per target: one transaction, and today's counting needs no savepoint.
        single = all(len(days) <= 1 for days in days_of.values())
        from_present = single and all(days in ([], [present]) for days in days_of.values())
        plan = [  # (target, its passes over the history, each a list of chunks of days)
            (target, [_split(p, BACKFILL_CHUNK_DAYS) for p in _split(days, BACKFILL_PASS_DAYS)])
            for target in targets
            for days in [days_of[target.pk]]
        ]
        total = sum(len(chunks) for _t, passes in plan for chunks in passes)
        job_progress(job, total=total)
        rows = 0
        # One day per target: what is stored for it, read for all the targets at once; a
        # target whose figures did not change is not written (nor given a savepoint).
        stored = None
        if single:
            every_day = sorted({day for days in days_of.values() for day in days})
            stored = stored_figures([t.pk for t in targets], every_day)

        def store(target: CoverageTarget, chunks: list[list[datetime.date]]) -> None:
            nonlocal rows
            values = on_its_own(
                target,
                lambda: coverage.compute(target, [d for c in chunks for d in c], structure),
                savepoint=not from_present,
            )
            for chunk in chunks:
                if values is not None and target.code not in failed:
                    part = {day: values[day] for day in chunk}
                    known = None if stored is None else stored.get(target.pk, {})
                    if known is not None and all(known.get(d) == v for d, v in part.items()):
                        rows += sum(len(v) for v in part.values())
                    else:
                        rows += (
                            on_its_own(
                                target,
                                lambda part=part, known=known: snapshots_store(target, part, known),
                            )
                            or 0
                        )
                if not single:
                    job_progress(job, done=job.done + 1)

        with transaction.atomic() if single else contextlib.nullcontext():
            for target, passes in plan:
                for chunks in passes:
                    if target.code not in failed:
                        store(target, chunks)
                    elif not single:
                        job_progress(job, done=job.done + len(chunks))
        done = [t.code for t in targets if t.code not in failed]
        job.result = {"targets": done, "snapshots": rows, "failed": failed}
        job.done = total
        job.finished_at = timezone.now()
        job.message = _("%(n)s snapshots for %(t)s targets.") % {"n": rows, "t": len(done)}
        job.state = Job.State.DONE
        if failed:
            job.state = Job.State.FAILED
            job.message += " " + _("Failed: %(list)s") % {
                "list": "; ".join(f"{code}: {why}" for code, why in failed.items())
            }
            job.message = job.message[:500]
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=["result", "state", "done", "finished_at", "message", "heartbeat_at"]
        )
    except Exception as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=str(exc)[:500]
        )
        raise
    return job


def _split(days: list, size: int) -> list[list]:
    return [days[i : i + size] for i in range(0, len(days), size)]


def coverage_job_retrying(job_id: int, exc: Exception, countdown: float) -> None:
    """A transient error: the job goes back to the queue, saying why and when it retries."""
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        state=Job.State.QUEUED,
        finished_at=None,
        sent_at=now,
        run_after=now + datetime.timedelta(seconds=countdown),
        message=_("Retrying in %(s)s s after a temporary error: %(e)s")
        % {"s": round(countdown), "e": str(exc)[:300]},
    )


def job_progress(job: Job, **values) -> None:
    values["heartbeat_at"] = timezone.now()  # a sign of life, also when run in-process
    for key, value in values.items():
        setattr(job, key, value)
    job.save(update_fields=list(values))


def first_history_day(*targets: CoverageTarget) -> datetime.date | None:
    """The earliest day of status history for the targets' solutions (None: no history)."""
    solutions = {target.solution_id for target in targets}
    return StatusChange.objects.filter(solution_id__in=solutions).aggregate(
        first=Min("effective_date")
    )["first"]
