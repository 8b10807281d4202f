"""Benchmark section `coverage`: recomputing every active target for today, as a multiple of
one hand-written grouped SQL statement that produces the same figures, and a back-fill of
365 daily snapshots of every active target.

The yardstick (`YARDSTICK_SQL`) is written here on its own, not with the app's code: one
PostgreSQL statement over the current statuses that counts each target's organisations per
municipality and area and rolls them up to every level (nation, region, area, county,
municipality; municipality targets under their ALL/ANY rule, a municipality once in each
area of its catchment and once in its region). Its rows must equal the snapshots the
recomputation stores for today, or the line reports the difference instead of a time.

The recomputation and the back-fills are the coverage jobs as the worker runs them
(`coverage_job_run`), so they include the job's bookkeeping, the read of the stored
snapshots and the writes. The recomputation runs over a day that already holds the same
figures (the registry is not changed). The back-fill runs twice: first into days emptied
for it (the year's snapshots of the active targets are deleted and the table vacuumed, as
for a new target: every figure is written), then again over the days it just filled (a
read; only days whose figures differ are written). The figures derive from the history,
so the section leaves them as it found them; the jobs it ran are deleted.
"""

from __future__ import annotations

import datetime
import statistics
import time

from django.db import connection
from django.utils import timezone

from actors.benchmarking import Result
from actors.models import Job
from benefits.models import CoverageSnapshot
from benefits.services import coverage_job_run

from . import Context

RUNS = 5  # timed runs of the SQL and of the recomputation, alternating (median reported)
BACKFILL_DAYS = 365
RATIO_GOAL = 1.5
BACKFILL_GOAL_S = 15.0
RATIO = "Recompute all targets for today, as a multiple of one grouped SQL statement"
SQL = "One grouped SQL statement for today's figures (the yardstick)"
FIRST_FILL = f"Back-fill of {BACKFILL_DAYS} daily points, all targets, into empty days"
REFILL = f"Back-fill of {BACKFILL_DAYS} daily points, all targets, again (changed days only)"

# Today's figures of every active target at every level, from the current statuses.
# Parameters: today (for the municipalities of the day).
YARDSTICK_SQL = """
WITH cells AS (
    SELECT t.id AS target_id, t.unit, t.denominator, t.municipality_rule,
           o.municipality_id, o.health_trust_id,
           COUNT(*) AS total,
           COUNT(*) FILTER (WHERE t.achieved_statuses ? s.status) AS achieved,
           COUNT(*) FILTER (WHERE s.status = 'ikke_relevant') AS excluded
    FROM benefits_coveragetarget t
    JOIN benefits_coveragetarget_organisation_types tt ON tt.coveragetarget_id = t.id
    JOIN actors_organisation o ON o.type_id = tt.organisationtype_id AND o.is_active
    LEFT JOIN rollout_rolloutstatus s
           ON s.organisation_id = o.id AND s.solution_id = t.solution_id
    WHERE t.is_active
    GROUP BY t.id, o.municipality_id, o.health_trust_id
),
organisation_rows AS (
    SELECT c.target_id, c.achieved AS num,
           CASE WHEN c.denominator = 'relevant' THEN c.total - c.excluded ELSE c.total END
               AS den,
           c.municipality_id, c.health_trust_id, m.county_id,
           h.regional_health_authority_id AS region_id
    FROM cells c
    JOIN actors_municipality m ON m.id = c.municipality_id
    JOIN actors_healthtrust h ON h.id = c.health_trust_id
    WHERE c.unit = 'organisations'
),
municipalities AS (
    SELECT t.id AS target_id, m.id AS municipality_id, m.county_id,
           t.denominator, t.municipality_rule,
           COALESCE(SUM(c.total), 0) - COALESCE(SUM(c.excluded), 0) AS relevant,
           COALESCE(SUM(c.achieved), 0) AS achieved
    FROM benefits_coveragetarget t
    CROSS JOIN actors_municipality m
    LEFT JOIN cells c ON c.target_id = t.id AND c.municipality_id = m.id
    WHERE t.is_active AND t.unit = 'municipalities'
      AND m.valid_from <= %(today)s AND (m.valid_to IS NULL OR m.valid_to >= %(today)s)
    GROUP BY t.id, m.id, m.county_id, t.denominator, t.municipality_rule
),
municipality_rows AS (
    SELECT target_id, municipality_id, county_id,
           CASE WHEN municipality_rule = 'all' THEN relevant > 0 AND achieved >= relevant
                ELSE achieved > 0 END::int AS num,
           CASE WHEN denominator = 'all' OR relevant > 0 THEN 1 ELSE 0 END AS den
    FROM municipalities
)
SELECT target_id,
       CASE WHEN GROUPING(region_id) = 0 THEN 'rha'
            WHEN GROUPING(health_trust_id) = 0 THEN 'area'
            WHEN GROUPING(county_id) = 0 THEN 'county'
            WHEN GROUPING(municipality_id) = 0 THEN 'municipality'
            ELSE 'nation' END,
       COALESCE(region_id, health_trust_id, county_id, municipality_id, 0),
       SUM(num), SUM(den)
FROM organisation_rows
GROUP BY GROUPING SETS ((target_id), (target_id, region_id), (target_id, health_trust_id),
                        (target_id, county_id), (target_id, municipality_id))
UNION ALL
SELECT target_id,
       CASE WHEN GROUPING(county_id) = 0 THEN 'county'
            WHEN GROUPING(municipality_id) = 0 THEN 'municipality'
            ELSE 'nation' END,
       COALESCE(county_id, municipality_id, 0), SUM(num), SUM(den)
FROM municipality_rows
GROUP BY GROUPING SETS ((target_id), (target_id, county_id), (target_id, municipality_id))
UNION ALL
SELECT r.target_id, 'area', k.health_trust_id, SUM(r.num), SUM(r.den)
FROM municipality_rows r JOIN actors_catchment k ON k.municipality_id = r.municipality_id
GROUP BY r.target_id, k.health_trust_id
UNION ALL
SELECT target_id, 'rha', region_id, SUM(num), SUM(den)
FROM (SELECT DISTINCT r.target_id, r.municipality_id, h.regional_health_authority_id
             AS region_id, r.num, r.den
      FROM municipality_rows r
      JOIN actors_catchment k ON k.municipality_id = r.municipality_id
      JOIN actors_healthtrust h ON h.id = k.health_trust_id) per_region
GROUP BY target_id, region_id
"""


def yardstick(today: datetime.date) -> set[tuple[int, str, int, int, int]]:
    """{(target id, level, scope id, numerator, denominator)} from the one statement."""
    with connection.cursor() as cursor:
        cursor.execute(YARDSTICK_SQL, {"today": today})
        return {(t, level, scope, int(n), int(d)) for t, level, scope, n, d in cursor.fetchall()}


def stored(today: datetime.date) -> set[tuple[int, str, int, int, int]]:
    """Today's stored snapshots of the active targets, as `yardstick` gives them."""
    return set(
        CoverageSnapshot.objects.filter(day=today, target__is_active=True).values_list(
            "target_id", "level", "scope_id", "numerator", "denominator"
        )
    )


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def _job(kind: str, params: dict) -> Job:
    job = Job.objects.create(kind=kind, params=params)
    try:
        coverage_job_run(job)
        job.refresh_from_db()
    finally:
        Job.objects.filter(pk=job.pk).delete()  # the section leaves no jobs behind
    if job.state != Job.State.DONE:
        raise RuntimeError(f"the {kind} job ended {job.state}: {job.message}")
    return job


def run(context: Context) -> list[Result]:
    today = context.today
    recompute = {"day": today.isoformat()}
    sql_ms, job_ms = [], []
    try:
        # One untimed round of each warms the caches.
        _job(Job.Kind.COVERAGE_RECOMPUTE, recompute)
        figures = yardstick(today)
        for _run in range(RUNS):  # side by side, alternating
            sql_ms.append(_timed(lambda: yardstick(today)))
            job_ms.append(_timed(lambda: _job(Job.Kind.COVERAGE_RECOMPUTE, recompute)))
        differ = figures ^ stored(today)
    except Exception as exc:  # report the line, go on with the benchmark
        error = f"{type(exc).__name__}: {exc}"
        return [
            Result(RATIO, [], "×", RATIO_GOAL, error=error),
            Result(SQL, [], "ms", error=error),
        ]
    sql, job = statistics.median(sql_ms), statistics.median(job_ms)
    ratio = Result(
        RATIO,
        [j / s for j, s in zip(job_ms, sql_ms, strict=True)],
        "×",
        RATIO_GOAL,
        detail=f"recompute {job:.0f} ms, SQL {sql:.0f} ms, {len(figures)} figures",
    )
    if differ:
        ratio.error = (
            f"the recomputation and the SQL differ in {len(differ)} figures, e.g. "
            f"{sorted(differ)[:3]}"
        )
    results = [
        ratio,
        Result(
            SQL,
            sql_ms,
            "ms",
            detail=f"{len(figures)} figures of {len({f[0] for f in figures})} targets",
        ),
    ]
    start = today - datetime.timedelta(days=BACKFILL_DAYS - 1)
    results.append(_backfill(FIRST_FILL, start, today, empty_first=True))
    results.append(_backfill(REFILL, start, today, empty_first=False))
    return results


def _empty(start: datetime.date, end: datetime.date) -> int:
    """Deletes the active targets' snapshots of these days and vacuums the table, so the
    back-fill that follows writes into days that never held figures (as for a new target).
    The figures are derived from the history: the back-fill writes them again."""
    deleted, _by_model = CoverageSnapshot.objects.filter(
        day__range=(start, end), target__is_active=True
    ).delete()
    if connection.vendor == "postgresql" and connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {CoverageSnapshot._meta.db_table}")
    return deleted


def _backfill(what: str, start: datetime.date, end: datetime.date, empty_first: bool) -> Result:
    params = {"start": start.isoformat(), "end": end.isoformat(), "every": "day"}
    try:
        if empty_first:
            _empty(start, end)
        written_after = timezone.now()
        began = time.perf_counter()
        job = _job(Job.Kind.COVERAGE_BACKFILL, params)
        seconds = time.perf_counter() - began
        written = CoverageSnapshot.objects.filter(computed_at__gte=written_after).count()
    except Exception as exc:
        return Result(what, [], "s", BACKFILL_GOAL_S, error=f"{type(exc).__name__}: {exc}")
    return Result(
        what,
        [seconds],
        "s",
        BACKFILL_GOAL_S,
        detail=f"{job.result['snapshots']} figures from {start}, {written} of them written",
    )
