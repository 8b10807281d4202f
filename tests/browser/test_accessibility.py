"""Accessibility in a real browser (issue 18): axe-core (WCAG 2.0/2.1 A and AA rules) on every
page of the menu and the pages a level deeper (tests/browser/pages.py), for each role, on the
synthetic demo, finds no serious or critical violation; the first Tab stop is a skip link to
the content. Screenshots of each page land in the artifacts folder (conftest.py).

axe-core is vendored for the tests from npm (tests/browser/vendor/axe-core, see VERSION)
and evaluated through the DevTools protocol, which the pages' Content-Security-Policy does
not govern; the application never serves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import pages
from tests.browser.pages import DEEPER, ROLES, deeper_paths, menu_paths, slug

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
demo = pages.demo  # the fixture: the synthetic demo and a user of each role


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", RULES
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def check(journey, kind: str, name: str, path: str) -> list[str]:
    """Open the page, save its screenshot and describe each blocking violation axe finds."""
    journey.goto(path)
    journey.page.wait_for_load_state("networkidle")
    journey.shot(f"axe-{kind}-{slug(name)}")
    found = []
    for v in axe_violations(journey.page):
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
        found.append(
            f"{kind} {name} ({path}): {v['id']} ({v['impact']}, {len(v['nodes'])}×): "
            f"{v['help']} — e.g. {targets}"
        )
    return found


def test_every_menu_page_of_every_role_passes_axe(demo, journey):
    found = []
    for kind in ROLES:
        journey.login(f"ui-{kind}")
        journey.goto("/")
        for path in menu_paths(journey.page):
            found += check(journey, kind, path, path)
        journey.page.context.clear_cookies()
    assert not found, "axe found:\n" + "\n".join(found)


def test_the_pages_a_level_deeper_pass_axe_for_every_role_that_opens_them(demo, journey):
    """A solution, an area, an organisation and its status form, a municipality, a
    health-trust area, a readiness report, a target, the status report's preview, a benefit,
    an agreement and the import pages: what users work on after the menu."""
    found, opened = [], set()
    for kind in ROLES:
        journey.login(f"ui-{kind}")
        for name, path in deeper_paths(journey).items():
            opened.add(name)
            found += check(journey, kind, name, path)
        journey.page.context.clear_cookies()
    assert not found, "axe found:\n" + "\n".join(found)
    assert opened == {name for name, _, _ in DEEPER}, "no role was offered a link to some pages"


def test_the_first_tab_stop_skips_to_the_content(demo, journey):
    journey.login("ui-coord_nat")
    journey.goto("/innforing/")
    journey.page.keyboard.press("Tab")
    focused = journey.page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hopp til innholdet"
    assert journey.page.locator(".skip-link").is_visible()
    journey.shot("skip-link-focused")
    journey.page.keyboard.press("Enter")
    assert journey.page.evaluate("document.activeElement.id") == "innhold"
    assert journey.page.url.endswith("#innhold")
