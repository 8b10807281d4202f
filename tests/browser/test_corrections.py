"""Issue 18 in a real browser: a kommunekontakt sets “Ikke startet → I bruk” in one step
(the form asks to confirm the jump and its date), cannot undo it and is told to ask the
coordinator; the coordinator corrects it on the page with a reason, and the history keeps
both entries with the first marked as corrected. Screenshots under test-artifacts/browser/.

Selectors use names, values and URLs rather than texts, which the Norwegian catalogue
gives (see tests/browser/test_journeys.py for the fixtures)."""

import datetime

import pytest
from django.utils import timezone

from rollout.choices import Status, StatusChangeKind
from rollout.models import RolloutStatus, StatusChange
from tests.browser import test_journeys

# The journeys' fixtures: three Bergen organisations, the kommunekontakt and the coordinator.
bergen_organisations = test_journeys.bergen_organisations
contact = test_journeys.contact
coordinator = test_journeys.coordinator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
WRONG_DAY = timezone.localdate() - datetime.timedelta(days=14)


def test_a_coordinator_corrects_a_wrong_status(contact, coordinator, bergen_organisations, journey):
    page = journey.page
    office = bergen_organisations[0]
    status_page = f"/innforing/status/{office.pk}/kjernejournal/"

    # The kommunekontakt jumps from not started to in use: asked to confirm, with a date.
    journey.login("kommunekontakt")
    journey.goto(status_page)
    page.select_option("select[name=to_status]", Status.IN_USE)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("input[name=confirm_jump]").count() == 1
    assert page.locator(".confirm-jump .errorlist").count() == 1
    journey.shot("corrections-01-contact-asked-to-confirm-the-jump")
    page.check("input[name=confirm_jump]")
    page.fill("input[name=effective_date]", WRONG_DAY.isoformat())
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**{office.get_absolute_url()}")
    wrong = StatusChange.objects.get(organisation=office)
    assert (wrong.to_status, wrong.effective_date) == (Status.IN_USE, WRONG_DAY)

    # Afterwards only blocked or stopped are offered; no correction for the contact.
    journey.goto(status_page)
    offered = page.locator("select[name=to_status] option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    assert sorted(offered) == sorted([Status.BLOCKED, Status.STOPPED])
    assert page.locator("a[href$='/rett/']").count() == 0
    journey.shot("corrections-02-contact-cannot-undo")

    # The coordinator corrects it through the page.
    page.context.clear_cookies()
    journey.login("koordinator")
    journey.goto(status_page)
    page.click("a[href$='/rett/']")
    page.wait_for_url("**/rett/")
    assert page.input_value("input[name=effective_date]") == WRONG_DAY.isoformat()
    page.select_option("select[name=to_status]", Status.PLANNING)
    page.click("main form button[type=submit]")  # without a reason: refused, kept
    page.wait_for_load_state()
    assert page.locator(".has-error textarea[name=reason]").count() == 1
    assert page.input_value("select[name=to_status]") == Status.PLANNING
    journey.shot("corrections-03-coordinator-reason-required")
    page.fill("textarea[name=reason]", "Kommunen trykket feil; de er i planlegging")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**{status_page}")
    history = page.locator("table.status-history")
    assert history.locator("tr.corrected del").count() == 1
    assert "Kommunen trykket feil; de er i planlegging" in history.inner_text()
    assert history.locator(".correction-note").count() == 1
    journey.shot("corrections-04-coordinator-corrected")

    row = RolloutStatus.objects.get(organisation=office)
    assert (row.status, row.effective_date) == (Status.PLANNING, WRONG_DAY)
    fix = StatusChange.objects.get(corrects=wrong)
    assert fix.kind == StatusChangeKind.CORRECTION and fix.changed_by == coordinator
