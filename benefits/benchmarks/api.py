"""API lists at depth (issue 17): every list endpoint of /api/v1/ at page 1 and at the
depth of pages 50 and 500, without and with a typical filter, goal 50 ms each.

Timed through Django's test client (actors.benchmarking.time_get) as a national
coordinator, who sees every row. A deep page is reached the way a client following `next`
reaches it: the benchmark asks once, untimed, for the page before it by number
(`?page=49`, `?page=499`) and times the `next` link that page hands out, which is the
cursor a client holds after following `next` from page 1. A list with fewer pages is timed
at its last page (the line says so), a list of one page at page 1 only. Only reads: the
data is left as found (apart from the benchmark user, created once).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode, urlsplit

from django.urls import resolve, reverse

from actors.benchmarking import Result, benchmark_user, client_for, time_get
from actors.choices import Role
from benefits.choices import Level
from rollout.choices import Status

from . import Context

GOAL_MS = 50
DEPTHS = (50, 500)
MAX_PAGES = 4096  # a list that answers every page number (no end in sight) stops here

# A typical filter of each list that has one (the others are timed without).
FILTERS: dict[str, dict[str, str]] = {
    "healthtrust": {"regional_health_authority": "helse-vest"},
    "municipality": {"county": "46"},
    "organisation": {"municipality": "4601"},
    "organisationchange": {"municipality": "4601"},
    "arearollout": {"solution": "pll"},
    "rolloutstatus": {"solution": "pll"},
    "statuschange": {"solution": "pll"},
    "readinessreport": {"solution": "pll"},
    "intentagreement": {"solution": "pll"},
    "benefit": {"solution": "pll"},
    "benefitreport": {"municipality": "4601"},
    "coveragesnapshot": {"level": Level.MUNICIPALITY},
}
# Further documented parameters worth a line of their own.
EXTRA = {
    "organisation": [{"ordering": "-updated"}, {"ordering": "type"}],
    "rolloutstatus": [{"status": Status.IN_USE}],
}


def list_routes() -> list[tuple[str, str]]:
    """(basename, URL) of every list endpoint: those of the API root that answer a GET."""
    root = resolve(reverse("api-root")).func.initkwargs["api_root_dict"]
    routes = []
    for url_name in root.values():
        url = reverse(url_name)
        if resolve(url).func.actions.get("get") == "list":
            routes.append((url_name.removesuffix("-list"), url))
    return routes


def _get(client, url: str):
    response = client.get(url)
    return response.json() if response.status_code == 200 else None


def _last_page(client, url: str, first: dict) -> int:
    """The number of the list's last page (from `count`, or by asking page numbers)."""
    size = len(first["results"]) or 1
    if first.get("count") is not None:
        return max(1, math.ceil(first["count"] / size))
    if not first.get("next"):
        return 1
    low, high = 1, 2
    while high <= MAX_PAGES and _get(client, _with(url, page=high)) is not None:
        low, high = high, high * 2
    while high - low > 1:  # low exists, high does not
        middle = (low + high) // 2
        if _get(client, _with(url, page=middle)) is not None:
            low = middle
        else:
            high = middle
    return low


def _with(url: str, **params) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def measure(client, name: str, url: str, context: Context) -> list[Result]:
    """Page 1 of `url` and the pages at DEPTHS (reached by cursor)."""
    label = f"API {name}"
    results = time_get(client, url, what=f"{label} page 1", goal_ms=GOAL_MS, repeat=context.repeat)
    first = _get(client, url)
    if first is None:
        return results
    last = _last_page(client, url, first)
    for depth in DEPTHS:
        if last < 2:
            break  # one page: nothing deeper to time
        page = min(depth, last)
        what = f"{label} page {depth} (cursor)"
        before = _get(client, _with(url, page=page - 1))
        link = before and before.get("next")
        if not link:
            results.append(Result(what, [], "ms", GOAL_MS, error=f"no next link on {page - 1}"))
            break
        timed = time_get(client, _path(link), what=what, goal_ms=GOAL_MS, repeat=context.repeat)
        if page < depth:
            for result in timed:
                result.detail += f"; the list has {last} pages: its last"
        results.extend(timed)
        if page < depth:
            break  # the deeper depths are the same last page
    return results


def run(context: Context) -> list[Result]:
    user = benchmark_user(Role.COORDINATOR, "benchmark-api", national_scope=True)
    results: list[Result] = []
    with client_for(user) as client:
        for basename, url in list_routes():
            variants = [{}]
            if basename in FILTERS:
                variants.append(FILTERS[basename])
            variants.extend(EXTRA.get(basename, []))
            for params in variants:
                full = f"{url}?{urlencode(params)}" if params else url
                name = urlsplit(full).path.removeprefix("/api/v1/").rstrip("/")
                if params:
                    name += f"?{urlencode(params)}"
                if context.verbose:
                    context.stdout.write(f"  {full}")
                results.extend(measure(client, name, full, context))
    return results
