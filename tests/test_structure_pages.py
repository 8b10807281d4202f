"""Pages that show the municipal structure of a day (issue 15, point 8): the municipality
list shows today's structure by default and that of a past day with `?dato=`; a
municipality's page names its earlier numbers and names and the split it took part in."""

import re

import pytest
from django.urls import reverse

from actors.models import County, Municipality
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db

LIST = reverse("actors:municipality_list")


def page(number):
    return reverse("actors:municipality_detail", args=[number])


def county_options(html: str) -> list[str]:
    select = re.search(r'<select name="county".*?</select>', html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def heading(html: str) -> str:
    return re.sub(r"\s+", " ", re.search(r'<p class="structure">(.*?)</p>', html, re.S).group(1))


@pytest.fixture
def client(make_user):
    return client_for(make_user("coord_nat"))


def test_the_list_shows_todays_structure_by_default(client):
    response = client.get(LIST)
    html = response.content.decode()
    assert response.context["page"].paginator.count == 357
    assert len(county_options(html)) == 15
    assert "357" in heading(html) and "15" in heading(html)
    assert "30" not in county_options(html)  # Viken ended in 2023


def test_a_past_day_shows_356_municipalities_in_11_counties(client):
    response = client.get(LIST, {"dato": "2023-06-30"})
    html = response.content.decode()
    assert response.context["page"].paginator.count == 356
    options = county_options(html)
    assert len(options) == 11 and "30" in options and "31" not in options
    assert "30.06.2023" in heading(html)
    assert "356" in heading(html) and "11" in heading(html)
    rows = list(response.context["page"].paginator.object_list)
    numbers = [m.number for m in rows]
    assert "3001" in numbers and "1507" in numbers
    assert "3101" not in numbers and "1580" not in numbers  # today's numbers, Haram: later
    halden = next(m for m in rows if m.number == "3001")
    assert halden.county.number == "30"
    # The row links to the municipality's page of today.
    assert f'<a href="{page("3101")}">Halden</a>' in html


def test_the_county_filter_takes_that_days_counties(client):
    viken = client.get(LIST, {"dato": "2023-06-30", "county": "30"})
    assert viken.context["page"].paginator.count == sum(
        Municipality.objects.filter(county__number=n).count() for n in ("31", "32", "33")
    )
    today = client.get(LIST, {"county": "30"})  # Viken today: refused, the list is today's
    assert today.context["filterset"].errors
    assert today.context["page"].paginator.count == 357
    assert "31" in today.content.decode()


def test_the_day_field_is_checked(client):
    before = client.get(LIST, {"dato": "2019-06-30"})
    assert before.context["filterset"].errors
    assert before.context["page"].paginator.count == 357


def test_a_municipality_page_names_its_earlier_number_and_the_split(client):
    halden = client.get(page("3101")).content.decode()
    assert "3001 Halden" in halden and "31.12.2023" in halden
    alesund = client.get(page("1508")).content.decode()
    assert "1507 Ålesund" in alesund
    assert f'href="{page("1580")}"' in alesund and "1580 Haram" in alesund
    haram = client.get(page("1580")).content.decode()
    assert f'href="{page("1508")}"' in haram and "1507 Ålesund" in haram
    assert "1.1.2024" in haram
    bergen = client.get(page("4601")).content.decode()
    assert "municipality-history" not in bergen  # nothing changed


def test_the_api_lists_the_structure_of_a_day(make_user):
    client = api_client_for(make_user("coord_nat"))
    url = reverse("municipality-list")
    assert client.get(url).json()["count"] == 357
    then = client.get(url, {"date": "2023-06-30", "number": "3101"}).json()
    assert then["count"] == 1
    assert then["results"][0]["number"] == "3001"
    assert then["results"][0]["county"] == "30"
    assert client.get(url, {"date": "2023-06-30"}).json()["count"] == 356
    assert County.objects.current().count() == 15
