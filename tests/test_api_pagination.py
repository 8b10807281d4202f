"""The API's one pagination (actors/api/pagination.py): `?page=N` with `count`, and keyset
cursors in `next`/`previous` that return every row once, in the order the request chose,
refuse an altered cursor with 400 and never widen the user's scope. Query counts of every
list endpoint do not grow with the rows."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from actors.api import pagination
from actors.choices import Source
from actors.models import Organisation, OrganisationChange, RecordSystem, Vendor
from actors.scoping import SYSTEM_USER
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout import services
from rollout.api.views import STATUS_ORDERING
from rollout.choices import Status
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

ORGANISATIONS = reverse("organisation-list")
STATUSES = reverse("rolloutstatus-list")


def walk(client, url, params, *, backwards_from_end=False):
    """Every page from `url` by following `next` (the ids of each page's rows)."""
    pages = []
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append([row["id"] for row in page["results"]])
        url, params, last = page["next"], None, page
    if backwards_from_end:
        back, url = [], last["previous"]
        while url:
            page = client.get(url).json()
            back.append([row["id"] for row in page["results"]])
            url = page["previous"]
        return pages, back
    return pages


def ids(queryset):
    return list(queryset.values_list("pk", flat=True))


@pytest.fixture
def twins(db):
    """Organisations in Bergen whose names tie, around names that sort the Norwegian way,
    and two in Tromsø."""
    names = ["Likt navn"] * 5 + ["Åsane", "Ølen", "Zeta", "Aker", "Bø"]
    bergen = [OrganisationFactory(name=name, municipality__number="4601") for name in names]
    tromso = [OrganisationFactory(name=name, municipality__number="5501") for name in names[:2]]
    return bergen, tromso


@pytest.mark.parametrize(
    "ordering, order_by",
    [
        (None, ("name", "orgnr")),
        ("-name", ("-name", "-orgnr")),
        ("-updated", ("-updated_at", "-pk")),
        # by a related row, then by the organisation's own order (actors.filtersets.ThenByName)
        ("type", ("type__sort_order", "name", "orgnr")),
        ("-municipality", ("-municipality__name", "name", "orgnr")),
    ],
)
def test_cursor_walk_returns_every_row_once_in_the_chosen_order(
    make_user, twins, ordering, order_by
):
    client = api_client_for(make_user("coord_nat"))
    params = {"page_size": 3, **({"ordering": ordering} if ordering else {})}
    pages, back = walk(client, ORGANISATIONS, params, backwards_from_end=True)

    seen = [pk for page in pages for pk in page]
    assert seen == ids(Organisation.objects.order_by(*order_by))  # each once, in order
    assert len(pages) == 4 and all(len(page) == 3 for page in pages[:-1])
    # `previous` from the last page walks the same pages back
    assert back == list(reversed(pages[:-1]))


def page_through(queryset, size: int) -> list:
    """Every row of `queryset` by following `next` of KeysetPagination itself."""
    factory, rows = APIRequestFactory(), []
    request = Request(factory.get("/api/v1/x/", {"page_size": size}))
    while request:
        paginator = pagination.KeysetPagination()
        rows += paginator.paginate_queryset(queryset, request)
        link = paginator.get_next_link()
        request = link and Request(factory.get(link))
    return rows


@pytest.mark.parametrize("descending", [False, True])
def test_a_nullable_key_sorts_null_largest_and_pages_through_it(twins, descending):
    bergen, tromso = twins
    vendor = Vendor.objects.create(name="Leverandør")
    systems = [RecordSystem.objects.create(vendor=vendor, name=n) for n in ("B", "A")]
    for i, organisation in enumerate(bergen[:6]):  # three of each, the rest without
        Organisation.objects.filter(pk=organisation.pk).update(record_system=systems[i % 2])
    key = "-record_system__name" if descending else "record_system__name"
    rows = page_through(Organisation.objects.order_by(key), 2)

    names = [o.record_system.name if o.record_system else None for o in rows]
    # NULL is the largest value (as PostgreSQL sorts it) on every database
    expected = (
        [None] * 6 + ["B"] * 3 + ["A"] * 3 if descending else ["A"] * 3 + ["B"] * 3 + [None] * 6
    )
    assert names == expected
    assert sorted(o.pk for o in rows) == sorted(o.pk for o in bergen + tromso)
    # ties (the same system, or none) are broken by the primary key
    for name in ("A", "B", None):
        tied = [o.pk for o in rows if (o.record_system and o.record_system.name) == name]
        assert tied == sorted(tied, reverse=descending)


def test_statuses_walk_with_ties_on_the_organisation_name(make_user, twins):
    bergen, tromso = twins
    for organisation in bergen + tromso:
        for code in ("kjernejournal", "pll"):
            services.status_change(
                user=SYSTEM_USER,
                organisation=organisation,
                solution=Solution.objects.get(code=code),
                to_status=Status.PLANNING,
            )
    client = api_client_for(make_user("coord_nat"))
    pages = walk(client, STATUSES, {"page_size": 3})
    seen = [pk for page in pages for pk in page]
    assert seen == ids(RolloutStatus.objects.order_by(*STATUS_ORDERING))
    assert len(seen) == len(set(seen)) == 2 * len(bergen + tromso)

    first = client.get(STATUSES, {"page_size": 3}).json()
    second = client.get(first["next"]).json()
    assert first["count"] == 24 and second["count"] is None  # counted once, on page 1
    assert "page=" not in first["next"] and "cursor=" in first["next"]


def test_page_numbers_still_answer_with_count(make_user, twins):
    client = api_client_for(make_user("coord_nat"))
    page = client.get(ORGANISATIONS, {"page": 2, "page_size": 4}).json()
    expected = ids(Organisation.objects.order_by("name", "orgnr"))
    assert page["count"] == len(expected) == 12
    assert [r["id"] for r in page["results"]] == expected[4:8]
    after = client.get(page["next"]).json()  # `next` of a numbered page is a cursor
    assert [r["id"] for r in after["results"]] == expected[8:12]
    before = client.get(page["previous"]).json()
    assert [r["id"] for r in before["results"]] == expected[:4]
    assert client.get(ORGANISATIONS, {"page": 9, "page_size": 4}).status_code == 404


def cursor_of(client, url, params):
    link = client.get(url, params).json()["next"]
    return parse_qs(urlsplit(link).query)["cursor"][0]


def test_a_bad_or_altered_cursor_answers_400_with_a_message(make_user, twins):
    client = api_client_for(make_user("coord_nat"))
    good = cursor_of(client, ORGANISATIONS, {"page_size": 2})
    payload, _sep, signature = good.rpartition(":")
    altered = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}:{signature}"
    forged = signing.dumps({"o": ["actors.Organisation", "name", "orgnr"], "v": ["A", "1"]})
    for cursor in ("abc", "", altered, good[:-3], forged, "x" * 5000, good + "%00"):
        response = client.get(ORGANISATIONS, {"cursor": cursor, "page_size": 2})
        if cursor == "":
            assert response.status_code == 200  # no cursor: the first page
            continue
        assert response.status_code == 400, cursor
        assert str(pagination.BAD_CURSOR) in response.json()["cursor"][0]


def test_a_cursor_of_another_list_or_ordering_answers_400(make_user, twins):
    client = api_client_for(make_user("coord_nat"))
    by_name = cursor_of(client, ORGANISATIONS, {"page_size": 2})
    response = client.get(ORGANISATIONS, {"cursor": by_name, "ordering": "-updated"})
    assert response.status_code == 400
    assert str(pagination.OTHER_LIST) in response.json()["cursor"][0]
    assert client.get(STATUSES, {"cursor": by_name}).status_code == 400
    # A cursor made for an ordering still works with other filters: it is a position.
    filtered = client.get(ORGANISATIONS, {"cursor": by_name, "municipality": "5501"})
    assert filtered.status_code == 200


def test_cursors_keep_the_scope(make_user, twins):
    bergen, tromso = twins
    contact = api_client_for(make_user("contact"))  # Bergen (4601) only
    pages = walk(contact, ORGANISATIONS, {"page_size": 2})
    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(o.pk for o in bergen)
    assert not set(seen) & {o.pk for o in tromso}

    # A cursor from a national coordinator's page, positioned on a Tromsø row: the contact
    # gets the Bergen rows after that position and nothing of Tromsø.
    national = api_client_for(make_user("coord_nat"))
    everyone = ids(Organisation.objects.order_by("name", "orgnr"))
    position = everyone.index(tromso[0].pk)
    page = national.get(ORGANISATIONS, {"page_size": position + 1}).json()
    assert page["results"][-1]["id"] == tromso[0].pk
    borrowed = contact.get(page["next"]).json()
    assert [r["id"] for r in borrowed["results"]] == [
        pk for pk in everyone[position + 1 :] if pk in {o.pk for o in bergen}
    ][: len(borrowed["results"])]
    assert all(r["municipality"] != "5501" for r in borrowed["results"])


# --- query counts ---------------------------------------------------------------------


def list_urls() -> list[str]:
    root = resolve(reverse("api-root")).func.initkwargs["api_root_dict"]
    urls = [reverse(name) for name in root.values()]
    return [url for url in urls if resolve(url).func.actions.get("get") == "list"]


def grow(n: int, start: int) -> None:
    """`n` more organisations in Bergen with statuses, history, registry changes and
    coverage snapshots."""
    organisations = [
        OrganisationFactory(name=f"Vekst {start + i}", municipality__number="4601")
        for i in range(n)
    ]
    pks = [o.pk for o in organisations]
    for code in ("kjernejournal", "pll"):
        services.statuses_bulk_change(
            user=SYSTEM_USER,
            organisation_ids=pks,
            solution=Solution.objects.get(code=code),
            to_status=Status.PLANNING,
        )
    OrganisationChange.objects.bulk_create(
        OrganisationChange(organisation=o, kind="create", source=Source.IMPORT)
        for o in organisations
    )
    target = CoverageTarget.objects.order_by("pk").first()
    day = datetime.date(2024, 1, 1)
    CoverageSnapshot.objects.bulk_create(
        CoverageSnapshot(
            target=target,
            day=day + datetime.timedelta(days=start + i),
            level=Level.NATION,
            scope_id=0,
            numerator=i,
            denominator=n,
        )
        for i in range(n)
    )


def queries(client, url) -> tuple[int, int]:
    """Queries of page 1 and of the page its `next` cursor leads to."""
    client.get(url, {"page_size": 2})  # the scope is read once per user
    with CaptureQueriesContext(connection) as first:
        response = client.get(url, {"page_size": 2})
    assert response.status_code == 200, (url, response.content)
    link = response.json().get("next")
    if not link:
        return len(first), 0
    with CaptureQueriesContext(connection) as following:
        assert client.get(link).status_code == 200
    return len(first), len(following)


@pytest.mark.parametrize("kind", ["coord_nat", "contact"])
def test_no_list_endpoint_needs_more_queries_for_more_rows(make_user, kind):
    client = api_client_for(make_user(kind))
    grow(3, 0)
    # A municipality contact manages no users (403 there, by the permission matrix).
    urls = [
        url
        for url in list_urls()
        if kind != "contact" or url not in (reverse("user-list"), reverse("invitation-list"))
    ]
    small = {url: queries(client, url) for url in urls}
    grow(12, 3)
    large = {url: queries(client, url) for url in urls}
    for url, ((first, following), (first_large, following_large)) in zip(
        small, zip(small.values(), large.values(), strict=True), strict=True
    ):
        assert first_large == first, url
        if following and following_large:  # lists with a second page at both sizes
            assert following_large == following, url
    assert sum(1 for f, following in large.values() if following) >= 5
    assert len(small) >= 20
    assert StatusChange.objects.count() >= 30  # the histories really grew


def test_a_page_number_beyond_any_list_is_404_not_a_database_error(make_user, twins):
    client = api_client_for(make_user("coord_nat"))
    for page in ("159511735595525579680514048", "0", "-1", "x"):
        assert client.get(ORGANISATIONS, {"page": page}).status_code == 404, page
