"""The pages each role works on, for the browser crawls (accessibility, layout): the menu's
pages, and one page of each kind a level deeper, found by following the first link of that
kind the role is shown. A role gets only what it may open: no link, no page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command

from actors.models import Municipality
from tests.conftest import ROLE_USERS
from tests.factories import UserFactory

if TYPE_CHECKING:
    from tests.browser.conftest import Journey

ROLES = ("contact", "coord_area", "coord_nat", "directorate", "admin")

# (name, where its link is: a path or the name of a page found before it, the link's path)
DEEPER = (
    ("solution", "/innforing/", r"/innforing/losning/[\w-]+/"),
    ("solution in an area", "/innforing/losning/pll/", r"/innforing/losning/pll/[\w-]+/"),
    ("status import", "/innforing/", r"/innforing/status/import/"),
    ("organisation", "/virksomheter/", r"/virksomheter/\d+/"),
    ("status form", "organisation", r"/innforing/status/\d+/[\w-]+/"),
    ("organisation import", "/virksomheter/", r"/virksomheter/import/"),
    ("municipality", "/kommuner/", r"/kommuner/\d+/"),
    ("health-trust area", "/omrader/", r"/omrader/[\w-]+/"),
    ("readiness report", "/innforing/beredskap/", r"/innforing/beredskap/\d+/"),
    (
        "target",
        "/avtaler-og-gevinster/resultatmal/",
        r"/avtaler-og-gevinster/resultatmal/(?!beregn/)[\w-]+/",
    ),
    (
        "status report preview",
        "/avtaler-og-gevinster/resultatmal/",
        r"/avtaler-og-gevinster/rapporter/",
    ),
    ("benefit", "/avtaler-og-gevinster/gevinster/", r"/avtaler-og-gevinster/gevinster/\d+/"),
    ("agreement", "/avtaler-og-gevinster/avtaler/", r"/avtaler-og-gevinster/avtaler/\d+/"),
)


def menu_paths(page) -> list[str]:
    """The menu's pages (the admin's own pages left out), in the menu's order."""
    hrefs = page.eval_on_selector_all("nav.nav a", "links => links.map(a => a.pathname)")
    return [h for h in dict.fromkeys(hrefs) if not h.startswith("/admin/")]


def deeper_paths(journey: Journey) -> dict[str, str]:
    """One page of each kind in DEEPER that the signed-in role is offered a link to."""
    links: dict[str, list[str]] = {}  # the links of each page visited, in document order
    found: dict[str, str] = {}
    for name, source, pattern in DEEPER:
        origin = found.get(source, source)
        if not origin.startswith("/"):
            continue  # the page its link is on was not offered to this role
        if origin not in links:
            journey.goto(origin)
            links[origin] = journey.page.eval_on_selector_all(
                "main a[href]", "links => links.map(a => a.pathname)"
            )
        path = next((h for h in links[origin] if re.fullmatch(pattern, h)), None)
        if path:
            found[name] = path
    return found


def role_pages(journey: Journey) -> list[tuple[str, str]]:
    """(name, path) of every page the signed-in role reaches from the menu and one level
    deeper. The menu's pages are named by their path."""
    journey.goto("/")
    pages = [(path, path) for path in menu_paths(journey.page)]
    seen = {path for _, path in pages}
    pages += [(n, p) for n, p in deeper_paths(journey).items() if p not in seen]
    return pages


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "start"


@pytest.fixture
def demo(db):
    """The synthetic demo and a user "ui-<role>" of each role in ROLES."""
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
    return {kind: UserFactory(username=f"ui-{kind}", **ROLE_USERS[kind]) for kind in ROLES}


@pytest.fixture
def people(db):
    """A user "ui-<role>" of each role in ROLES, without the demo (the solutions and
    organisation types come with the migrations)."""
    return {kind: UserFactory(username=f"ui-{kind}", **ROLE_USERS[kind]) for kind in ROLES}
