"""Organisations ordered by a related row (type, municipality, health-trust area) go on by
name and organisation number, and are paged group by group on PostgreSQL
(actors.api.pagination.Grouped): every row once, in the order of an OFFSET over the same
ordering, forwards and backwards, by cursor and by page number, with ties between groups
and within them, with filters and within the user's scope."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.models import HealthTrust, Municipality, Organisation, OrganisationType
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory
from tests.test_api_pagination import ids, walk

pytestmark = pytest.mark.django_db

ORGANISATIONS = reverse("organisation-list")
THEN = ("name", "orgnr")
ORDERINGS = {
    "type": ("type__sort_order", *THEN),
    "-type": ("-type__sort_order", *THEN),
    "municipality": ("municipality__name", *THEN),
    "-municipality": ("-municipality__name", *THEN),
    "health_trust": ("health_trust__short_name", *THEN),
    "-health_trust": ("-health_trust__short_name", *THEN),
}
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def spread(db):
    """Organisations of four types in four municipalities (three areas), names that tie
    and sort the Norwegian way; two types share a sort order and two municipalities a
    name, so groups tie too."""
    types = list(OrganisationType.objects.order_by("sort_order", "pk"))[:4]
    OrganisationType.objects.filter(pk=types[2].pk).update(sort_order=types[1].sort_order)
    Municipality.objects.filter(number="1818").update(name="Herøy")
    Municipality.objects.filter(number="1515").update(name="Herøy")
    names = ["Likt navn", "Likt navn", "Åsane", "Ølen", "Aker", "Bø", "Zeta"]
    rows = []
    for i, number in enumerate(["4601", "5501", "1515", "1818"]):
        for j, name in enumerate(names):
            rows.append(
                OrganisationFactory(name=name, type=types[(i + j) % 4], municipality__number=number)
            )
    return rows


def expected(ordering, **filters):
    return ids(Organisation.objects.filter(**filters).order_by(*ORDERINGS[ordering]))


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("size", [2, 5])
def test_a_walk_by_cursor_is_the_offset_order_both_ways(make_user, spread, ordering, size):
    client = api_client_for(make_user("coord_nat"))
    pages, back = walk(
        client, ORGANISATIONS, {"ordering": ordering, "page_size": size}, backwards_from_end=True
    )
    assert [pk for page in pages for pk in page] == expected(ordering)
    assert all(len(page) == size for page in pages[:-1])
    assert back == list(reversed(pages[:-1]))


@pytest.mark.parametrize("ordering", ["type", "-municipality", "health_trust"])
def test_page_numbers_are_slices_of_the_same_order(make_user, spread, ordering):
    client = api_client_for(make_user("coord_nat"))
    everything = expected(ordering)
    for number in (1, 2, 5):
        page = client.get(ORGANISATIONS, {"ordering": ordering, "page_size": 5, "page": number})
        assert page.status_code == 200
        assert [r["id"] for r in page.json()["results"]] == everything[5 * (number - 1) :][:5]
        assert page.json()["count"] == len(everything)
    beyond = client.get(ORGANISATIONS, {"ordering": ordering, "page_size": 5, "page": 7})
    assert beyond.status_code == 404


def test_filters_and_scope_hold_on_every_page(make_user, spread):
    national = api_client_for(make_user("coord_nat"))
    pages = walk(national, ORGANISATIONS, {"ordering": "type", "county": "18", "page_size": 3})
    nordland = expected("type", municipality__county__number="18")
    assert [pk for page in pages for pk in page] == nordland and nordland

    contact = make_user("contact")  # Bergen only
    pages = walk(api_client_for(contact), ORGANISATIONS, {"ordering": "-type", "page_size": 2})
    assert [pk for page in pages for pk in page] == expected("-type", municipality__number="4601")


def lateral_queries(client, params) -> int:
    """How many queries the `next` page of `params` reads group by group."""
    first = client.get(ORGANISATIONS, {**params, "page_size": 3}).json()
    with CaptureQueriesContext(connection) as captured:
        following = client.get(first["next"])
    assert following.status_code == 200
    return sum("CROSS JOIN LATERAL" in q["sql"] for q in captured.captured_queries)


def test_the_page_is_read_group_by_group(make_user, spread):
    client = api_client_for(make_user("coord_nat"))
    assert lateral_queries(client, {"ordering": "municipality"}) == (1 if POSTGRES else 0)
    assert lateral_queries(client, {"ordering": "type", "county": "18"}) == (1 if POSTGRES else 0)
    # A filter through the relation itself keeps few groups: their rows are sorted.
    by_county = {"ordering": "-municipality", "county": "18"}
    assert lateral_queries(client, by_county) == 0
    pages = walk(client, ORGANISATIONS, {**by_county, "page_size": 3})
    expected_rows = expected("-municipality", municipality__county__number="18")
    assert [pk for page in pages for pk in page] == expected_rows and expected_rows


def test_a_cursor_whose_group_changed_since_still_continues_after_its_row(make_user, spread):
    client = api_client_for(make_user("coord_nat"))
    first = client.get(ORGANISATIONS, {"ordering": "health_trust", "page_size": 4}).json()
    last = Organisation.objects.get(pk=first["results"][-1]["id"])
    old_name = last.health_trust.short_name
    HealthTrust.objects.filter(pk=last.health_trust_id).update(short_name="Ååå nytt navn")
    rest = client.get(first["next"]).json()["results"]
    # The position is the row's old values: the rows after it in today's order.
    beyond = (
        Q(health_trust__short_name__gt=old_name)
        | Q(health_trust__short_name=old_name, name__gt=last.name)
        | Q(health_trust__short_name=old_name, name=last.name, orgnr__gt=last.orgnr)
    )
    after_position = Organisation.objects.filter(beyond).order_by(*ORDERINGS["health_trust"])
    assert [r["id"] for r in rest] == ids(after_position)[:4]


def test_ordering_by_name_or_update_time_is_unchanged(make_user, spread):
    client = api_client_for(make_user("coord_nat"))
    pages = walk(client, ORGANISATIONS, {"ordering": "-name", "page_size": 4})
    assert [pk for page in pages for pk in page] == ids(
        Organisation.objects.order_by("-name", "-orgnr")
    )
