"""Benchmark section `areas`: the area page of Helse Bergen's PLL area and of the largest
area of every area-wise solution (goal 300 ms and 200 KB of HTML), and its list of actors
(rollout:area_actors as htmx asks for it) at page 1, at the deepest page and filtered by a
failing condition (goal 100 ms), as a national coordinator through Django's test client
(server time, no gunicorn). The section only reads.
"""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from actors.benchmarking import Result, benchmark_user, client_for, time_get
from actors.choices import Role
from actors.models import HealthTrust, Organisation
from rollout.area_views import PAGE_SIZE
from rollout.models import Solution
from rollout.selectors import applicable

from . import Context

PAGE_GOAL_MS = 300
PAGE_GOAL_KB = 200
LIST_GOAL_MS = 100
NAMED = ("pll", "helse-bergen")  # the area issue 17 measured


def _areas() -> list[tuple[Solution, HealthTrust, int]]:
    """(solution, area, applicable organisations): Helse Bergen for PLL, and the largest
    area of every area-wise solution."""
    areas = []
    for solution in Solution.objects.filter(area_wise=True).order_by("sort_order", "code"):
        organisations = applicable(Organisation.objects.order_by(), solution)
        sizes = dict(organisations.values_list("health_trust").annotate(n=Count("pk")))
        chosen = [max(sizes, key=sizes.get)] if sizes else []
        if solution.code == NAMED[0]:
            named = HealthTrust.objects.filter(code=NAMED[1]).values_list("pk", flat=True)
            chosen = [pk for pk in named if pk not in chosen] + chosen
        trusts = HealthTrust.objects.in_bulk(chosen)
        areas += [(solution, trusts[pk], sizes.get(pk, 0)) for pk in chosen]
    return areas


def run(context: Context) -> list[Result]:
    results: list[Result] = []
    user = benchmark_user(Role.COORDINATOR, "benchmark-areas-coordinator", national_scope=True)
    with client_for(user) as client, client_for(user) as htmx:
        htmx.defaults["HTTP_HX_REQUEST"] = "true"
        for solution, trust, size in _areas():
            where = f"{solution.short_name} {trust.short_name or trust.name} ({size} actors)"
            args = [solution.code, trust.code]
            context.stdout.write(f"  areas: {where}\n")
            results += time_get(
                client,
                reverse("rollout:area_detail", args=args),
                what=f"area page {where}",
                goal_ms=PAGE_GOAL_MS,
                max_kb=PAGE_GOAL_KB,
                repeat=context.repeat,
            )
            last = max(1, -(-size // PAGE_SIZE))
            lists = [
                ("page 1", ""),
                (f"page {last} (the last)", f"page={last}"),
                ("failing 'ready', page 1", "fails=ready"),
                ("not ready, last page", "ready=nei&page=1000000"),
            ]
            for label, query in lists:
                results += time_get(
                    htmx,
                    f"{reverse('rollout:area_actors', args=args)}?{query}",
                    what=f"area actor list {where}, {label}",
                    goal_ms=LIST_GOAL_MS,
                    repeat=context.repeat,
                )
    return results
