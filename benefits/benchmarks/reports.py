"""Benchmark section `reports`: the status report's preview and its files (goal 500 ms each),
nationally and for the largest health-trust area and municipality, as a directorate user.

The preview is timed through Django's test client (server time, no gunicorn). A file is
timed as the work that makes it: building the report and rendering the format, what the
Celery job does for the national report and the view does (streaming it) for the others;
the job's bookkeeping and the storage write are left out. The section only reads.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.benchmarking import Result, benchmark_user, client_for, time_get
from actors.choices import Role
from actors.models import HealthTrust, Municipality

from .. import report_files, reports
from . import Context

GOAL_MS = 500
ACTIVE = Q(organisations__is_active=True)


def _largest_scopes() -> list[tuple[str, str, str]]:
    """(label, kind, scope key): the nation, the area and the municipality with the most
    active organisations."""
    area = (
        HealthTrust.objects.annotate(n=Count("organisations", filter=ACTIVE))
        .order_by("-n", "name")
        .first()
    )
    municipality = (
        Municipality.objects.current()
        .annotate(n=Count("organisations", filter=ACTIVE))
        .order_by("-n", "number")
        .first()
    )
    scopes = [("national", reports.NATIONAL, "nation")]
    if area:
        scopes.append((f"area {area.name}", reports.AREA, f"area:{area.code}"))
    if municipality:
        scopes.append(
            (
                f"municipality {municipality.name}",
                reports.MUNICIPALITY,
                f"municipality:{municipality.number}",
            )
        )
    return scopes


def time_file(user, kind: str, key: str, fmt: str, *, what: str, repeat: int) -> Result:
    """Median time of building the report and rendering it as `fmt`, after one warm-up."""
    place = reports.report_place(user, kind, key)
    if place is None:
        return Result(what, [], "ms", GOAL_MS, error=f"no report {kind} {key}")
    since = reports.default_since()
    times, queries, size = [], [], 0
    for i in range(repeat + 1):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            body = report_files.render(reports.build(user, kind, place, since), fmt)
            elapsed = (time.perf_counter() - start) * 1000
        if i:
            times.append(elapsed)
            queries.append(len(captured))
            size = len(body) / 1024
    low, high = min(queries), max(queries)
    count = str(low) if low == high else f"{low}–{high}"
    return Result(what, times, "ms", GOAL_MS, detail=f"{count} queries, {size:.0f} KB")


def run(context: Context) -> list[Result]:
    user = benchmark_user(Role.DIRECTORATE, "benchmark-reports")
    results: list[Result] = []
    scopes = _largest_scopes()
    with client_for(user) as client:
        for label, _kind, key in scopes:
            context.stdout.write(f"  reports: preview, {label}\n")
            url = f"{reverse('benefits:report_preview')}?{urlencode({'scope': key})}"
            results += time_get(
                client,
                url,
                what=f"report preview, {label} (test client)",
                goal_ms=GOAL_MS,
                repeat=context.repeat,
            )
    for label, kind, key in scopes[:2]:  # the files of the nation and the largest area
        for fmt in report_files.FORMATS:
            context.stdout.write(f"  reports: {fmt}, {label}\n")
            results.append(
                time_file(
                    user,
                    kind,
                    key,
                    fmt,
                    what=f"report file {fmt.upper()}, {label} (build and render)",
                    repeat=context.repeat,
                )
            )
    return results
