"""A kommunekontakt changes the status of every organisation that matches the list's filter,
across pages, in a few steps (issue 18): filter by status with checkboxes, select all that
match (the count shows), preview what will change and what will be refused and why, apply
only the allowed changes, and download the refused ones as CSV.

Locators use the page's structure rather than the new texts, whose Norwegian translations
the catalogue gets separately."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from actors.models import Municipality
from actors.scoping import SYSTEM_USER
from rollout import services
from rollout.choices import Status
from rollout.models import Solution, StatusChange
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def offices(db):
    """55 GP offices in Bergen, more than a page of the list; five have kjernejournal in
    use already, which cannot go back to planning."""
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    offices = [
        OrganisationFactory(municipality__number="4601", name=f"Legekontor {i:02}")
        for i in range(55)
    ]
    kjernejournal = Solution.objects.get(code="kjernejournal")
    services.status_history_load(
        user=SYSTEM_USER,
        changes=[
            services.HistoryEntry(o.pk, kjernejournal.pk, Status.IN_USE, datetime.date(2025, 3, 1))
            for o in offices[::11]
        ],
    )
    return offices


@pytest.fixture
def contact(offices):
    return UserFactory(
        username="kommunekontakt", role="municipality_contact", municipalities=["4601"]
    )


def test_contact_changes_everything_that_matches_in_a_few_steps(contact, offices, journey):
    page = journey.page
    journey.login("kommunekontakt")
    journey.goto("/innforing/status/?solution=kjernejournal")

    # The status filter is a row of checkboxes: two statuses, no ctrl-click.
    filters = page.locator("form.filters")
    filters.get_by_label("Ikke startet", exact=True).check()
    filters.get_by_label("I bruk", exact=True).check()
    filters.locator("button[type=submit]").click()
    page.wait_for_url("**status=i_bruk**")
    assert page.locator("table.list tbody tr").count() == 50  # the first of two pages

    # Everything that matches, not only this page; the count follows.
    count = page.locator("[data-selected-count]")
    page.locator("input[name=organisations]").first.check()
    assert count.inner_text() == "1"
    page.check("input[data-select-everything]")
    assert count.inner_text() == "55"
    page.select_option("select[name=to_status]", Status.PLANNING)
    page.fill("input[name=reason]", "Oppstart av kjernejournal")
    journey.shot("bulk-01-everything-selected")

    page.click("button[formaction$='/status/endre/']")
    page.wait_for_url("**/status/endre/")
    counts = page.locator(".bulk-counts .value").all_inner_texts()
    assert counts == ["50", "5", "0"]  # will change, will be refused, already so
    refused_rows = page.locator("table.bulk-refused tbody tr")
    assert refused_rows.count() == 5
    assert "Legekontor 00" in refused_rows.first.inner_text()
    assert StatusChange.objects.filter(to_status=Status.PLANNING).count() == 0  # a preview
    journey.shot("bulk-02-preview")

    page.click("form.bulk-apply button[name=mode][value=allowed]")
    page.wait_for_url("**/status/endre/resultat/")
    refused = page.locator("table.list tbody tr")
    assert refused.count() == 5
    journey.shot("bulk-03-result")
    changes = StatusChange.objects.filter(to_status=Status.PLANNING)
    assert changes.count() == 50
    assert set(changes.values_list("reason", flat=True)) == {"Oppstart av kjernejournal"}

    with page.expect_download() as info:
        page.click("a[href$='?format=csv']")
    download = info.value
    path = journey.artifacts / download.suggested_filename
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))
    assert len(rows) == 6
    assert sorted(r[0] for r in rows[1:]) == sorted(o.orgnr for o in offices[::11])
    journey.assert_clean()
