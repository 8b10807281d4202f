import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from actors.models import Organisation
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_list_is_scoped_and_filterable(contact, org_bergen, org_tromso):
    client = api_client_for(contact)
    data = client.get(reverse("organisation-list")).json()
    assert [o["orgnr"] for o in data["results"]] == [org_bergen.orgnr]
    by_number = client.get(reverse("organisation-list"), {"municipality": "4601"}).json()
    by_id = client.get(
        reverse("organisation-list"), {"municipality_id": org_bergen.municipality_id}
    ).json()
    assert by_number["count"] == by_id["count"] == 1


def test_filters_by_type_area_and_free_text(make_user):
    OrganisationFactory(name="Årstad legesenter", municipality__number="4601")
    OrganisationFactory(name="Tromsø legesenter", municipality__number="5501")
    client = api_client_for(make_user("coord_nat"))
    url = reverse("organisation-list")
    assert client.get(url, {"q": "årstad"}).json()["count"] == 1  # case-insensitive, not ASCII
    assert client.get(url, {"health_trust": "unn"}).json()["count"] == 1
    assert client.get(url, {"type": "sykehjem"}).json()["count"] == 0
    assert client.get(url, {"county": "46"}).json()["count"] == 1


def test_etag_if_match_flow(contact, org_bergen):
    client = api_client_for(contact)
    url = reverse("organisation-detail", args=[org_bergen.pk])
    response = client.get(url)
    assert response["ETag"] == '"1"'

    missing = client.patch(url, {"name": "Uten If-Match"}, format="json")
    assert missing.status_code == 428
    assert "If-Match" in missing.json()["detail"]

    ok = client.patch(url, {"name": "Nytt navn"}, format="json", HTTP_IF_MATCH='"1"')
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == '"2"' and ok.json()["version"] == 2

    stale = client.patch(url, {"name": "Gammel"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert Organisation.objects.get(pk=org_bergen.pk).name == "Nytt navn"


def test_validation_errors_are_json_a_person_can_act_on(contact):
    response = api_client_for(contact).post(
        reverse("organisation-list"),
        {"name": "X", "type": "fastlegekontor", "orgnr": "974760674", "municipality": "4601"},
        format="json",
    )
    assert response.status_code == 400
    assert "kontrollsiffer" in response.json()["orgnr"][0]


def test_create_in_other_municipality_is_refused_with_reason(contact):
    from tests.factories import valid_orgnr

    response = api_client_for(contact).post(
        reverse("organisation-list"),
        {"name": "X", "type": "fastlegekontor", "orgnr": valid_orgnr(1), "municipality": "5501"},
        format="json",
    )
    assert response.status_code == 400
    assert "ansvar for" in response.json()["municipality"][0]
    assert not Organisation.objects.filter(name="X").exists()


def test_token_authentication(contact, org_bergen):
    token = Token.objects.create(user=contact)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("organisation-list")).json()["count"] == 1


def test_municipalities_show_catchment_shares(directorate):
    data = api_client_for(directorate).get(reverse("municipality-list"), {"number": "0301"}).json()
    assert data["results"][0]["catchments"] == [
        {"health_trust": "akershus-universitetssykehus", "population": 114375},
        {"health_trust": "oslo-universitetssykehus", "population": 614339},
    ]


def test_schema_is_served(directorate):
    response = api_client_for(directorate).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/organisations/" in response.json()["paths"]
