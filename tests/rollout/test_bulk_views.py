"""The status list's bulk change (rollout/bulk_views.py, issue 18): select everything the
filter matches across pages, preview, apply only the allowed changes, see and download the
refused ones; the selection is the filter evaluated again within the user's scope."""

import pytest
from django.urls import reverse

from actors.models import HealthTrust, Municipality, Organisation
from rollout import services
from rollout.bulk_views import SESSION_KEY
from rollout.choices import Status
from rollout.models import Solution, StatusChange
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("rollout:status_list")
PREVIEW = reverse("rollout:bulk_preview")
APPLY = reverse("rollout:bulk_apply")
RESULT = reverse("rollout:bulk_result")


def kj():
    return Solution.objects.get(code="kjernejournal")


@pytest.fixture
def bergen(contact):
    """60 GP offices in Bergen (more than a page); two of them in use."""
    orgs = [
        OrganisationFactory(municipality__number="4601", name=f"Bergen {i:02}") for i in range(60)
    ]
    for organisation in orgs[:2]:
        services.status_change(
            user=contact, organisation=organisation, solution=kj(), to_status=Status.IN_USE
        )
    OrganisationFactory.create_batch(3, municipality__number="5501")  # out of the contact's reach
    return orgs


def preview(client, filter_query="solution=kjernejournal", **data):
    return client.post(
        PREVIEW,
        {
            "solution": "kjernejournal",
            "everything": "1",
            "filter": filter_query,
            "to_status": Status.PLANNING,
            "reason": "Oppstart",
            "effective_date": "2025-03-03",
            **data,
        },
    )


def test_the_list_offers_everything_that_matches_with_its_count(contact, bergen):
    page = client_for(contact).get(LIST + "?solution=kjernejournal").content.decode()
    assert 'name="everything"' in page and 'data-total="60"' in page
    assert "data-selected-count" in page
    # The status filter is checkboxes, not a ctrl-click multi-select.
    assert 'type="checkbox" name="status" value="i_bruk"' in page
    assert '<select name="status"' not in page
    # One page only: nothing more to select than the page.
    one_page = client_for(contact).get(LIST + "?solution=kjernejournal&status=i_bruk")
    assert 'name="everything"' not in one_page.content.decode()


def test_everything_that_matches_is_previewed_across_pages(contact, bergen):
    client = client_for(contact)
    response = preview(client)
    assert response.status_code == 200
    plan = response.context["plan"]
    assert (plan.changed, len(plan.refused), plan.unchanged) == (58, 2, 0)
    assert {o.organisation.municipality.number for o in plan.outcomes} == {"4601"}
    # The filter narrows the selection: the not started ones only.
    narrowed = preview(client, "solution=kjernejournal&status=ikke_startet").context["plan"]
    assert (narrowed.changed, len(narrowed.refused)) == (58, 0)
    assert not StatusChange.objects.filter(to_status=Status.PLANNING).exists()


def test_a_filter_or_ids_outside_the_scope_are_refused(contact, bergen):
    client = client_for(contact)
    outside = preview(client, "solution=kjernejournal&municipality=5501")
    assert outside.status_code == 400 and outside.context["plan"] is None
    assert outside.context["refusal"]
    assert SESSION_KEY not in client.session
    tromso = Organisation.objects.filter(municipality__number="5501").first()
    ticked = preview(client, everything="", organisations=[bergen[5].pk, tromso.pk])
    assert ticked.status_code == 404
    assert not StatusChange.objects.filter(to_status=Status.PLANNING).exists()


def test_apply_the_allowed_ones_then_see_and_download_the_refused(contact, bergen):
    client = client_for(contact)
    token = preview(client).context["token"]
    response = client.post(APPLY, {"token": token, "mode": "allowed"})
    assert response.status_code == 302 and response["Location"] == RESULT
    changes = StatusChange.objects.filter(to_status=Status.PLANNING)
    assert changes.count() == 58
    assert set(changes.values_list("reason", "changed_by")) == {("Oppstart", contact.pk)}
    result = client.get(RESULT)
    assert [o.organisation for o in result.context["plan"].refused] == bergen[:2]
    assert bergen[0].name in result.content.decode()
    download = client.get(RESULT + "?format=csv")
    assert download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert len(lines) == 3 and bergen[0].orgnr in lines[1] and bergen[1].orgnr in lines[2]
    # Applying the same preview again changes nothing.
    again = client.post(APPLY, {"token": token, "mode": "allowed"})
    assert again.status_code == 302 and changes.count() == 58


def test_all_or_nothing_saves_nothing_when_something_changed_since_the_preview(contact, bergen):
    client = client_for(contact)
    response = preview(client, "solution=kjernejournal&status=ikke_startet")
    services.status_change(
        user=contact, organisation=bergen[10], solution=kj(), to_status=Status.BLOCKED,
        reason="Venter",
    )  # fmt: skip
    history = StatusChange.objects.count()
    client.post(APPLY, {"token": response.context["token"], "mode": "all"})
    assert StatusChange.objects.count() == history
    result = client.get(RESULT)
    assert not result.context["stored"]["applied"]
    assert [(o.organisation, o.why) for o in result.context["plan"].refused] == [
        (bergen[10], "stale")
    ]


def test_apply_evaluates_the_scope_again(contact, bergen):
    client = client_for(contact)
    token = preview(client, "solution=kjernejournal&status=ikke_startet").context["token"]
    # One office moves to Tromsø after the preview: out of the contact's reach.
    Organisation.objects.filter(pk=bergen[20].pk).update(
        municipality=Municipality.objects.get(number="5501"),
        health_trust=HealthTrust.objects.get(code="unn"),
    )
    client.post(APPLY, {"token": token, "mode": "allowed"})
    assert services.current_status(bergen[20], kj()).status == Status.NOT_STARTED
    assert StatusChange.objects.filter(to_status=Status.PLANNING).count() == 57
    assert client.get(RESULT).context["stored"]["gone"] == 1


def test_the_preview_as_csv(contact, bergen):
    client = client_for(contact)
    preview(client)
    download = client.get(PREVIEW + "?format=csv")
    lines = download.content.decode("utf-8-sig").strip().split("\r\n")
    assert len(lines) == 61  # the header, then every selected organisation


def test_the_list_sends_everything_that_matches_to_the_preview(contact, bergen):
    response = client_for(contact).post(
        LIST + "?solution=kjernejournal",
        {
            "solution": "kjernejournal",
            "everything": "1",
            "filter": "solution=kjernejournal",
            "organisations": [bergen[5].pk],
            "to_status": Status.PLANNING,
        },
    )
    assert response.status_code == 200
    assert response.templates[0].name == "rollout/bulk_preview.html"
    assert response.context["plan"].changed == 58
    assert not StatusChange.objects.filter(to_status=Status.PLANNING).exists()


def test_roles_that_cannot_edit_are_refused(directorate, bergen):
    assert preview(client_for(directorate)).status_code == 403
    assert client_for(directorate).post(APPLY, {"token": "x"}).status_code == 403
