"""Issue 19 in a real browser: a coordinator for Helse Bergen invites a kommunekontakt for
Bergen through the form (first forgetting the municipality: refused, what was typed kept),
the e-mail's link is opened by someone not signed in, who creates their account, lands on
their start page and sees only Bergen; the coordinator then finds them in the user list,
with the access log on their page. Screenshots under test-artifacts/browser/ (invitation-*).

Selectors use names, values, ids and URLs rather than texts (see test_journeys.py)."""

import re

import pytest

from actors.models import Invitation, Municipality, User
from tests.browser import test_journeys
from tests.browser.test_accessibility import axe_violations
from tests.factories import UserFactory

# Three Bergen organisations (and the reference data after a flush), the coordinator.
bergen_organisations = test_journeys.bergen_organisations
coordinator = test_journeys.coordinator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
EMAIL = "kari.nordmann@bergen.kommune.no"


def accessible(page) -> bool:
    """axe finds no serious or critical violation on the page (test_accessibility.py)."""
    found = axe_violations(page)
    assert not found, [(v["id"], v["nodes"][0]["target"]) for v in found]
    return True


@pytest.fixture
def other_contacts(bergen_organisations):
    """People already in the coordinator's list: one reports for Bergen and Tromsø."""
    return [
        UserFactory(
            username="ola",
            first_name="Ola",
            last_name="Berg",
            email="ola@bergen.kommune.no",
            role="municipality_contact",
            municipalities=["4601"],
        ),
        UserFactory(
            username="siri",
            first_name="Siri",
            last_name="Nord",
            email="siri@example.no",
            role="municipality_contact",
            municipalities=["4601", "5501"],
        ),
    ]


def test_a_coordinator_invites_a_contact_who_creates_their_account(
    coordinator, other_contacts, mailoutbox, journey
):
    page = journey.page
    bergen = Municipality.objects.get(number="4601")

    # The coordinator invites, first without a municipality: refused, the rest kept.
    journey.login("koordinator")
    journey.goto("/brukere/")
    page.click("a[href='/brukere/inviter/']")
    page.wait_for_url("**/brukere/inviter/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=name]", "Kari Nordmann")
    assert page.input_value("select[name=role]") == "municipality_contact"
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#municipalities .errorlist").count() == 1
    assert page.input_value("input[name=email]") == EMAIL
    journey.shot("invitation-01-invite-form-error")
    assert accessible(page)
    page.check(f"input[name=municipalities][value='{bergen.pk}']")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/brukere/invitasjoner/")
    assert page.locator("tr[data-state=pending]").count() == 1
    journey.shot("invitation-02-invitations")
    assert accessible(page)
    invitation = Invitation.objects.get()
    assert invitation.email == EMAIL

    # The e-mail's link, opened by someone not signed in.
    assert [m.to for m in mailoutbox] == [[EMAIL]]
    link = re.search(r"https?://\S+/invitasjon/\S+/", mailoutbox[0].body).group(0)
    page.context.clear_cookies()
    page.goto(link)
    assert page.input_value("input[name=username]") == "kari.nordmann"
    assert page.input_value("input[name=first_name]") == "Kari"
    journey.shot("invitation-03-accept-page")
    assert accessible(page)
    page.fill("input[name=password1]", "fjell-og-fjord-2026")
    page.fill("input[name=password2]", "fjell-og-fjord-2026")
    page.click("main form.stacked button[type=submit]")
    page.wait_for_url(journey.base_url + "/")
    user = User.objects.get(username="kari.nordmann")
    assert user.role == "municipality_contact" and user.email == EMAIL
    # Their start page and the municipality list show Bergen only.
    journey.goto("/kommuner/")
    rows = page.locator("table.list tbody tr td:first-child").all_inner_texts()
    assert rows == ["4601"]
    journey.shot("invitation-04-contact-sees-their-municipality")

    # The coordinator sees the new contact in the list, with the log on their page.
    page.context.clear_cookies()
    journey.login("koordinator")
    journey.goto("/brukere/")
    assert page.locator(f"tr[data-user='{user.pk}']").count() == 1
    journey.shot("invitation-05-user-list")
    assert accessible(page)
    page.click(f"tr[data-user='{user.pk}'] a")
    page.wait_for_url(f"**/brukere/{user.pk}/")
    kinds = page.locator("table.access-log tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    )
    assert sorted(kinds) == ["invitation_accepted", "municipality_added", "role"]
    journey.shot("invitation-06-user-page-with-log")
    assert accessible(page)
    page.click(f"a[href='/brukere/{user.pk}/tilgang/']")
    page.wait_for_url(f"**/brukere/{user.pk}/tilgang/")
    assert page.is_checked(f"input[name=municipalities][value='{bergen.pk}']")
    journey.shot("invitation-07-change-access")
    assert accessible(page)
