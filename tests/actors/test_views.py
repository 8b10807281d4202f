import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from actors.management.commands.create_demo_users import DEMO_USERS, demo_password
from actors.models import Organisation
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_each_demo_login_lands_on_its_start_page(username):
    call_command("create_demo_users", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client = Client()
    response = client.post(
        reverse("login"), {"username": username, "password": demo_password(username)}, follow=True
    )
    # The directorate's start page is the result-target dashboard.
    start = "benefits:target_dashboard" if username == "direktorat" else "actors:home"
    assert response.redirect_chain[-1][0] == reverse(start)
    assert response.status_code == 200
    assert response.context["user"].username == username


def test_start_page_speaks_to_the_role(contact, coordinator, directorate, org_bergen):
    page = client_for(contact).get(reverse("actors:home")).content.decode()
    assert "4601" in page and "Bergen" in page
    page = client_for(coordinator).get(reverse("actors:home")).content.decode()
    assert "Helse Bergen HF" in page and "Universitetssykehuset Nord-Norge HF" not in page
    page = client_for(directorate).get(reverse("actors:home"), follow=True).content.decode()
    assert "Kjernejournal i kommunal pleie og omsorg" in page


def test_login_is_throttled_after_five_failures(contact):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": "contact", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "contact", "password": "secret-pass-123"})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_organisation_list_query_count_does_not_grow(make_user, django_assert_max_num_queries):
    client = client_for(make_user("coord_area"))
    url = reverse("actors:organisation_list")
    OrganisationFactory.create_batch(3, municipality__number="4601")
    with django_assert_max_num_queries(13) as few:
        client.get(url, {"ordering": "municipality"})
    OrganisationFactory.create_batch(40, municipality__number="4601")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url, {"ordering": "municipality"})
    assert len(response.context["page"]) == 43


def test_list_filters_by_search_type_and_area(make_user):
    OrganisationFactory(name="Årstad legesenter", municipality__number="4601")
    OrganisationFactory(name="Tromsø legesenter", municipality__number="5501")
    client = client_for(make_user("coord_nat"))
    url = reverse("actors:organisation_list")
    page = client.get(url, {"q": "ÅRSTAD"}).context["page"]
    assert [o.name for o in page] == ["Årstad legesenter"]
    page = client.get(url, {"health_trust": "unn"}).context["page"]
    assert [o.name for o in page] == ["Tromsø legesenter"]


def test_edit_conflict_keeps_what_was_typed_and_shows_the_newer_values(contact, org_bergen):
    url = reverse("actors:organisation_edit", args=[org_bergen.pk])
    form = {
        "name": "Mitt navn",
        "type": org_bergen.type_id,
        "orgnr": org_bergen.orgnr,
        "municipality": org_bergen.municipality_id,
        "is_active": "on",
        "version": "1",
    }
    client_for(contact).post(url, {**form, "name": "Kollegas navn"})
    response = client_for(contact).post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kollegas navn" in page and 'value="Mitt navn"' in page
    assert Organisation.objects.get(pk=org_bergen.pk).name == "Kollegas navn"
    # Saving again after seeing the conflict is a deliberate overwrite.
    form["version"] = str(response.context["form"].data["version"])
    response = client_for(contact).post(url, form)
    assert response.status_code == 302
    assert Organisation.objects.get(pk=org_bergen.pk).name == "Mitt navn"


def test_create_form_keeps_input_on_error(contact):
    response = client_for(contact).post(
        reverse("actors:organisation_create"),
        {"name": "Fjellsiden", "orgnr": "974760674", "type": "", "municipality": ""},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Fjellsiden"' in page and "kontrollsiffer" in page


def test_municipality_page_lists_organisations_by_type_and_contacts(contact, org_bergen):
    page = client_for(contact).get(reverse("actors:municipality_detail", args=["4601"]))
    assert org_bergen.name in page.content.decode()
    assert [g["type"].code for g in page.context["groups"]] == ["fastlegekontor"]
    assert list(page.context["contacts"]) == [contact]


def test_oslo_page_shows_both_areas(directorate):
    page = client_for(directorate).get(reverse("actors:municipality_detail", args=["0301"]))
    codes = [c.health_trust.code for c in page.context["catchments"]]
    assert codes == ["akershus-universitetssykehus", "oslo-universitetssykehus"]
