"""Layout on a laptop and a phone (issue 18): every page a role works on (tests/browser/pages.py)
fits a 390 px wide phone without scrolling sideways and keeps every card's content inside
the card at 1 366 px; tables scroll inside their card; the menu folds behind a "Meny"
button under 900 px; horizontal charts keep their names. Screenshots of each page at both
widths are saved under <artifacts>/screenshots/ (conftest.py: $TEST_ARTIFACTS, default
test-artifacts/browser/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import pages
from tests.browser.conftest import PASSWORD, artifacts_dir
from tests.browser.pages import ROLES, role_pages, slug

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
demo = pages.demo  # the fixtures: the synthetic demo and a user of each role,
people = pages.people  # or the users only
SHOT_ROLES = {"contact", "coord_nat"}  # a screenshot of every page these two reach
SHOT_HEIGHT = 6000  # px: enough to judge a page; a list of 1 600 rows is not shot whole

# A short description of an element for a failure message: tag, id, classes and the
# heading of the card (or the start of the text) it is in.
DESCRIBE = """
window.describeElement = el => {
  if (!el) return "?";
  const classes = [...el.classList].filter(c => c).map(c => "." + c).join("");
  const card = el.closest(".card, section, form, table");
  const heading = card && card.querySelector("h1, h2, h3, caption, legend, th");
  const text = (heading ? heading.textContent : el.textContent || "").trim().replace(/\\s+/g, " ");
  return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}>`
    + ` ${Math.round(el.getBoundingClientRect().width)} px wide, in "${text.slice(0, 60)}"`;
};
// Whether something between the element and the page clips it (a scrolling .table-wrap).
window.clippedAbove = (el, stop) => {
  for (let a = el.parentElement; a && a !== stop && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible") return true;
  }
  return false;
};
// The element reaching furthest right beyond `right` inside `root`, the deepest on a tie.
window.widestIn = (root, right) => {
  let widest = null;
  for (const el of root.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right >= right + 0.5 && !clippedAbove(el, root)) {
      right = r.right;
      widest = el;
    }
  }
  return widest;
};
"""

SIDEWAYS = """() => {
  const width = window.innerWidth, scrolls = document.documentElement.scrollWidth;
  if (scrolls <= width) return null;
  return `the page is ${scrolls} px wide in a window of ${width} px; widest: `
    + describeElement(widestIn(document.body, width));
}"""

SPILLS = """() => [...document.querySelectorAll("main .card, main .filters, main form.stacked")]
  .filter(card => card.scrollWidth > card.clientWidth + 1)
  .map(card => `${describeElement(card)}: content ${card.scrollWidth} px in ${card.clientWidth} px;`
    + ` widest: ${describeElement(widestIn(card, card.getBoundingClientRect().right))}`)"""

# Tables that scroll inside a card of a grid of cards at laptop width: cut off where there
# was room to show them (the benefit page's area and county tables were).
SCROLLING_IN_GRID = """() => [...document.querySelectorAll("main .grid .table-wrap.scrolls")]
  .map(wrap => describeElement(wrap.querySelector("table")))"""

# Names on a horizontal chart's axis wider than the room left of the bars (cut off).
CUT_LABELS = """() => typeof Chart === "undefined" ? [] : Object.values(Chart.instances)
  .filter(chart => chart.options.indexAxis === "y")
  .flatMap(chart => {
    const scale = chart.scales.y, ctx = chart.ctx;
    ctx.save();
    ctx.font = Chart.helpers.toFont(scale.options.ticks.font).string;
    const room = scale.right - scale.options.ticks.padding;
    const cut = scale.ticks.flatMap(t => [].concat(t.label))
      .filter(line => ctx.measureText(line).width > room + 0.5)
      .map(line => `${chart.canvas.dataset.chart}: "${line}"`
        + ` (${Math.round(ctx.measureText(line).width)} px in ${Math.round(room)} px)`);
    ctx.restore();
    return cut;
  })"""


CHARTS_FIT = """() => [...document.querySelectorAll("canvas")]
  .every(c => c.getBoundingClientRect().width <= c.parentElement.clientWidth + 1)"""


def shot(journey, kind: str, name: str, size: dict) -> None:
    folder = artifacts_dir() / "screenshots"
    folder.mkdir(exist_ok=True)
    height = journey.page.evaluate("document.documentElement.scrollHeight")
    journey.page.screenshot(
        path=folder / f"{size['width']}-{kind}-{slug(name)}.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": min(height, SHOT_HEIGHT)},
    )


def test_every_page_fits_a_phone_and_keeps_its_cards_whole_on_a_laptop(demo, journey):
    page = journey.page
    page.add_init_script(DESCRIBE)
    problems = []
    for kind in ROLES:
        page.set_viewport_size(LAPTOP)
        journey.login(f"ui-{kind}")
        for name, path in role_pages(journey):
            where = f"{kind} {name} ({path})"
            page.set_viewport_size(LAPTOP)
            journey.goto(path)
            page.wait_for_load_state("networkidle")
            problems += [f"{where} at 1366 px: {p}" for p in page.evaluate(SPILLS)]
            problems += [
                f"{where} at 1366 px: a table scrolls in a card of a grid: {t}"
                for t in page.evaluate(SCROLLING_IN_GRID)
            ]
            problems += [f"{where} at 1366 px: name cut: {c}" for c in page.evaluate(CUT_LABELS)]
            if kind in SHOT_ROLES:
                shot(journey, kind, name, LAPTOP)
            page.set_viewport_size(PHONE)  # the page reflows as on a phone's first load
            try:  # charts follow their box when the window narrows
                page.wait_for_function(CHARTS_FIT, timeout=3000)
            except PlaywrightTimeout:
                problems.append(f"{where} at 390 px: a chart did not shrink with its box")
            if sideways := page.evaluate(SIDEWAYS):
                problems.append(f"{where} at 390 px: {sideways}")
            problems += [f"{where} at 390 px: name cut: {c}" for c in page.evaluate(CUT_LABELS)]
            if kind in SHOT_ROLES:
                shot(journey, kind, name, PHONE)
        page.context.clear_cookies()
    journey.assert_clean()
    assert not problems, "Layout problems:\n" + "\n".join(problems)


def test_the_menu_folds_behind_a_button_on_a_phone(people, journey):
    page = journey.page
    journey.login("ui-coord_nat")
    page.set_viewport_size(PHONE)
    journey.goto("/innforing/")
    button, nav = page.locator("button.menu-toggle"), page.locator("nav.nav")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 64, f"the header takes {header['height']} px of 844"
    assert button.is_visible() and not nav.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    assert button.get_attribute("aria-controls") == "hovedmeny"
    journey.shot("layout-390-menu-closed")

    # The keyboard: skip link, the application's name, then the button.
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Enter")
    assert nav.is_visible() and button.get_attribute("aria-expanded") == "true"
    assert page.locator(".who button[type=submit]").is_visible()  # log out is in the menu
    journey.shot("layout-390-menu-open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav.nav') !== null")
    page.keyboard.press("Escape")
    assert not nav.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")

    button.click()
    page.locator("nav.nav a", has_text="Kommuner").click()
    page.wait_for_url("**/kommuner/")
    assert not nav.is_visible()  # a new page starts with the menu folded

    page.set_viewport_size(LAPTOP)
    assert nav.is_visible() and not button.is_visible()
    journey.assert_clean()


def test_without_javascript_the_menu_is_shown(people, journey):
    context = journey.page.context.browser.new_context(
        java_script_enabled=False, viewport=PHONE, locale="nb-NO"
    )
    try:
        page = context.new_page()
        page.goto(journey.base_url + "/login/")
        page.fill("input[name=username]", "ui-contact")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "login" not in url)
        assert page.locator("nav.nav").is_visible()
        assert not page.locator("button.menu-toggle").is_visible()
        page.screenshot(path=artifacts_dir() / "layout-390-no-javascript.png", full_page=True)
    finally:
        context.close()


def test_a_wide_table_scrolls_inside_its_card_and_can_be_reached_with_the_keyboard(people, journey):
    page = journey.page
    page.set_viewport_size(PHONE)
    journey.login("ui-coord_nat")
    journey.goto("/innforing/")
    wrap = page.locator("main .table-wrap", has=page.locator("table.matrix"))
    assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
    assert wrap.get_attribute("aria-label"), "a scrolling region needs a name"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wrap.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('main .table-wrap').scrollLeft > 0")
    # On a laptop the same table fits: no Tab stop that does nothing.
    page.set_viewport_size(LAPTOP)
    page.wait_for_function(
        "() => !document.querySelector('main .table-wrap').hasAttribute('tabindex')"
    )
    journey.assert_clean()
