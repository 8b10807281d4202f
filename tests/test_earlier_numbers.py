"""Municipality and county numbers as people have them (issue 15, point 3): an earlier
number in a URL or a filter means today's municipality; 1507 (Ålesund before the split) is
refused with the two numbers to choose from; scope still applies whatever number is used."""

import pytest
from django.urls import reverse

from actors.scoping import SYSTEM_USER
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.benefits.test_api import make_agreement
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(number):
    return reverse("actors:municipality_detail", args=[number])


@pytest.fixture
def halden_and_bergen(db):
    """An organisation, a status and an agreement in 3101 Halden (3001 until 2023) and in
    4601 Bergen, so that a filter that ignores the number would show both."""
    kjernejournal = Solution.objects.get(code="kjernejournal")
    for number in ("3101", "4601"):
        organisation = OrganisationFactory(municipality__number=number)
        rollout_services.status_change(
            user=SYSTEM_USER,
            organisation=organisation,
            solution=kjernejournal,
            to_status=Status.PLANNING,
        )
        make_agreement([number], title=f"Avtale {number}")


# --- URLs ---------------------------------------------------------------------------------


def test_an_earlier_number_in_the_url_redirects_to_todays_page(make_user):
    client = client_for(make_user("coord_nat"))
    response = client.get(page("3001"))
    assert response.status_code == 302
    assert response["Location"] == page("3101")
    assert client.get(page("3101")).status_code == 200


def test_a_split_number_in_the_url_offers_the_two_municipalities(make_user):
    response = client_for(make_user("coord_nat")).get(page("1507"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{page("1508")}"' in html and f'href="{page("1580")}"' in html
    assert "Haram" in html and "Ålesund" in html


@pytest.mark.parametrize("number", ["9999", "301", "abcd"])
def test_a_number_that_never_was_is_404(make_user, number):
    assert client_for(make_user("coord_nat")).get(page(number)).status_code == 404


def test_a_contact_gets_404_for_another_municipality_whatever_number_is_used(contact):
    client = client_for(contact)  # 4601 Bergen only
    assert client.get(page("4601")).status_code == 200
    for number in ("3101", "3001", "1507", "1508"):
        assert client.get(page(number)).status_code == 404, number


def test_a_contact_of_a_renumbered_municipality_follows_its_earlier_number(db):
    halden = UserFactory(username="halden", role="municipality_contact", municipalities=["3101"])
    response = client_for(halden).get(page("3001"))
    assert response.status_code == 302 and response["Location"] == page("3101")


# --- API filters ----------------------------------------------------------------------------

LISTS = ["organisation-list", "rolloutstatus-list", "intentagreement-list"]


@pytest.mark.parametrize("route", LISTS)
def test_an_earlier_number_filters_like_todays(make_user, halden_and_bergen, route):
    client = api_client_for(make_user("coord_nat"))
    url = reverse(route)
    everything = client.get(url).json()
    today = client.get(url, {"municipality": "3101"}).json()
    earlier = client.get(url, {"municipality": "3001"}).json()
    assert 0 < today["count"] < everything["count"]
    assert earlier == today


@pytest.mark.parametrize("route", LISTS)
def test_a_split_or_unknown_number_is_400_with_the_hint(make_user, halden_and_bergen, route):
    client = api_client_for(make_user("coord_nat"))
    split = client.get(reverse(route), {"municipality": "1507"})
    assert split.status_code == 400
    message = " ".join(split.json()["municipality"])
    assert "1508" in message and "1580" in message
    lost_zero = client.get(reverse(route), {"municipality": "301"})
    assert lost_zero.status_code == 400 and "0301" in " ".join(lost_zero.json()["municipality"])
    assert client.get(reverse(route), {"municipality": "9999"}).status_code == 400


def test_a_number_out_of_reach_is_refused_like_an_unknown_one(contact, halden_and_bergen):
    client = api_client_for(contact)
    url = reverse("organisation-list")
    assert client.get(url, {"municipality": "4601"}).json()["count"] == 1
    assert client.get(url, {"municipality": "3001"}).status_code == 400


def test_an_old_county_is_refused_with_the_counties_it_became(make_user, halden_and_bergen):
    client = api_client_for(make_user("coord_nat"))
    for route in LISTS:
        response = client.get(reverse(route), {"county": "30"})
        assert response.status_code == 400, route
        message = " ".join(response.json()["county"])
        assert all(n in message for n in ("31", "32", "33")), message
    # Today's county of Halden still filters.
    assert client.get(reverse("organisation-list"), {"county": "31"}).json()["count"] == 1


def test_a_county_that_is_not_a_number_is_refused_before_the_database(make_user):
    """The fuzzer's NUL byte reached PostgreSQL, which refuses NUL in text (a 500)."""
    client = api_client_for(make_user("coord_nat"))
    for value in ("3\x001", "W\x00", "3 1", "٣١"):
        response = client.get(reverse("organisation-list"), {"county": value})
        assert response.status_code == 400, value
        assert "county" in response.json()


def test_an_old_county_on_a_day_when_it_existed_filters_by_that_days_structure(make_user):
    client = api_client_for(make_user("coord_nat"))
    url = reverse("municipality-list")

    def count(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    viken = count(date="2023-06-30", county="30")
    assert viken == count(county="31") + count(county="32") + count(county="33")
    assert viken > 40


def test_a_coverage_scope_takes_an_earlier_municipality_number(make_user):
    client = api_client_for(make_user("coord_nat"))
    url = reverse("coveragesnapshot-list")
    today = client.get(url, {"scope": "municipality:3101"})
    earlier = client.get(url, {"scope": "municipality:3001"})
    assert today.status_code == earlier.status_code == 200
    assert earlier.json() == today.json()
    split = client.get(url, {"scope": "municipality:1507"})
    assert split.status_code == 400 and "1580" in str(split.json())
    assert client.get(url, {"scope": "municipality:9999"}).status_code == 400


@pytest.mark.parametrize("route", LISTS)
def test_a_percent_sign_in_a_number_is_refused_not_a_server_error(make_user, route):
    client = api_client_for(make_user("coord_nat"))
    for params in ({"municipality": "%s"}, {"county": "%(x)s"}, {"municipality": "30%"}):
        response = client.get(reverse(route), params)
        assert response.status_code == 400, (params, response.content)
        assert "%" in str(response.json())


def test_the_organisation_page_filters_by_an_earlier_number_and_shows_a_refusal(
    make_user, halden_and_bergen
):
    client = client_for(make_user("coord_nat"))
    url = reverse("actors:organisation_list")
    today = client.get(url, {"municipality": "3101"}).context["page"]
    earlier = client.get(url, {"municipality": "3001"}).context["page"]
    assert [o.pk for o in earlier] == [o.pk for o in today] and len(today) == 1
    refused = client.get(url, {"municipality": "1507"})
    alert = refused.content.decode().split('class="alert error"', 1)[1].split("</div>", 1)[0]
    assert "1508" in alert and "1580" in alert
    assert len(refused.context["page"]) == 2  # the filter is ignored, and says so
