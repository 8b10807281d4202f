"""Benchmark section `pages`: every HTML list page at page 1 and page 50 (goal 100 ms) and
the target pages (goal 150 ms), timed through Django's test client (server time, no
gunicorn), as a national coordinator and as a directorate user.

A list shorter than 50 pages answers `?page=50` with its last page (actors.listing.page_of),
so the line still measures the deepest page there is. The section only reads.
"""

from __future__ import annotations

from django.urls import reverse

from actors.benchmarking import Result, benchmark_user, client_for, time_get
from actors.choices import Role

from . import Context

LIST_GOAL_MS = 100
TARGET_GOAL_MS = 150

# (label, URL name, query): each is timed at page 1 and page 50.
LISTS = [
    ("organisations", "actors:organisation_list", ""),
    ("organisations, sorted by municipality", "actors:organisation_list", "ordering=municipality"),
    ("municipalities", "actors:municipality_list", ""),
    ("health trusts", "actors:healthtrust_list", ""),
    ("statuses PLL", "rollout:status_list", "solution=pll"),
    ("statuses PLL, in use", "rollout:status_list", "solution=pll&status=in_use"),
    ("rollout matrix", "rollout:matrix", ""),
    ("readiness reports", "rollout:report_list", ""),
    ("agreements", "benefits:agreement_list", ""),
    ("agreement coverage", "benefits:agreement_coverage", ""),
    ("benefit register", "benefits:benefit_register", ""),
    ("benefit overview", "benefits:overview", ""),
    ("decision points", "governance:decision_point_list", ""),
    ("decision schedule", "governance:decision_schedule", ""),
    ("change log", "governance:changelog_list", ""),
    ("cut list", "governance:cutlist_list", ""),
    ("dependencies", "governance:dependency_list", ""),
    ("reminders", "governance:reminder_list", ""),
]

# (label, URL name, args): the target dashboard and target pages, page 1 and page 50.
TARGETS = [
    ("target dashboard", "benefits:target_dashboard", []),
    ("target kjernejournal-plo", "benefits:target_detail", ["kjernejournal-plo"]),
    ("target pll-prioriterte-aktorer", "benefits:target_detail", ["pll-prioriterte-aktorer"]),
]

USERS = [
    ("national coordinator", Role.COORDINATOR, {"national_scope": True}),
    ("directorate", Role.DIRECTORATE, {}),
]


def _url(name: str, args: list, query: str, page: int) -> str:
    query = "&".join(q for q in (query, f"page={page}") if q)
    return f"{reverse(name, args=args)}?{query}"


def run(context: Context) -> list[Result]:
    results: list[Result] = []
    for who, role, fields in USERS:
        user = benchmark_user(role, f"benchmark-pages-{role}", **fields)
        with client_for(user) as client:
            for label, name, query in LISTS:
                for page in (1, 50):
                    context.stdout.write(f"  pages: {who}, {label}, page {page}\n")
                    results += time_get(
                        client,
                        _url(name, [], query, page),
                        what=f"HTML list {label}, page {page}, as {who} (test client)",
                        goal_ms=LIST_GOAL_MS,
                        repeat=context.repeat,
                    )
            for label, name, args in TARGETS:
                for page in (1, 50):
                    context.stdout.write(f"  pages: {who}, {label}, page {page}\n")
                    results += time_get(
                        client,
                        _url(name, args, "", page),
                        what=f"{label}, page {page}, as {who} (test client)",
                        goal_ms=TARGET_GOAL_MS,
                        repeat=context.repeat,
                    )
    return results
