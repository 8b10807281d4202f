"""Accessibility in a real browser (issue 18): axe-core (WCAG 2.0/2.1 A and AA rules) on every
page of the menu, for each role, on the synthetic demo, finds no serious or critical
violation; the first Tab stop is a skip link to the content. Screenshots of each page land
in the artifacts folder (conftest.py).

axe-core is vendored for the tests from npm (tests/browser/vendor/axe-core, see VERSION)
and evaluated through the DevTools protocol, which the pages' Content-Security-Policy does
not govern; the application never serves it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from actors.models import Municipality
from tests.conftest import ROLE_USERS
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
ROLES = ("contact", "coord_area", "coord_nat", "directorate", "admin")


@pytest.fixture
def demo(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
    return {kind: UserFactory(username=f"axe-{kind}", **ROLE_USERS[kind]) for kind in ROLES}


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", RULES
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def menu_paths(page) -> list[str]:
    hrefs = page.eval_on_selector_all("nav.nav a", "links => links.map(a => a.pathname)")
    return [h for h in dict.fromkeys(hrefs) if not h.startswith("/admin/")]


def test_every_menu_page_of_every_role_passes_axe(demo, journey):
    found = []
    for kind in ROLES:
        journey.login(f"axe-{kind}")
        journey.goto("/")
        for path in menu_paths(journey.page):
            journey.goto(path)
            journey.page.wait_for_load_state("networkidle")
            journey.shot(f"axe-{kind}-{re.sub(r'[^a-z0-9]+', '-', path).strip('-') or 'start'}")
            for v in axe_violations(journey.page):
                targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
                found.append(
                    f"{kind} {path}: {v['id']} ({v['impact']}, {len(v['nodes'])}×): "
                    f"{v['help']} — e.g. {targets}"
                )
        journey.page.context.clear_cookies()
    assert not found, "axe found:\n" + "\n".join(found)


def test_the_first_tab_stop_skips_to_the_content(demo, journey):
    journey.login("axe-coord_nat")
    journey.goto("/innforing/")
    journey.page.keyboard.press("Tab")
    focused = journey.page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hopp til innholdet"
    assert journey.page.locator(".skip-link").is_visible()
    journey.shot("skip-link-focused")
    journey.page.keyboard.press("Enter")
    assert journey.page.evaluate("document.activeElement.id") == "innhold"
    assert journey.page.url.endswith("#innhold")
