"""Long lists (issue 18, point 7): column headers that sort by the API's ordering names,
a choice of rows per page, page numbers, every matching row as CSV or XLSX within the
user's scope, and a municipality's page paged type by type."""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.exports import csv_line
from actors.models import Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from rollout.choices import Status
from rollout.models import Solution
from rollout.services import HistoryEntry, status_history_load
from tests.benefits.test_target_views import detail, gp, registry  # noqa: F401 (a fixture)
from tests.conftest import client_for
from tests.factories import OrganisationFactory

ORGS = reverse("actors:organisation_list")
STATUSES = reverse("rollout:status_list")


def kind(code: str) -> OrganisationType:
    return OrganisationType.objects.get(code=code)


def org(number: str, name: str, code: str = "fastlegekontor") -> Organisation:
    return OrganisationFactory(municipality__number=number, name=name, type=kind(code))


def names(response) -> list[str]:
    return [o.name for o in response.context["page"]]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8-sig")
    return [line.split(";") for line in text.split("\r\n") if line]


def xlsx_rows(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    return list(sheet.iter_rows(values_only=True))


@pytest.fixture
def bergen(db):
    """Bergen: three GP offices and two nursing homes; Tromsø: one GP office."""
    return {
        "gp": [org("4601", n) for n in ("Bakke legesenter", "Alfa legesenter", "Ceder lege")],
        "homes": [org("4601", n, "sykehjem") for n in ("Dal sykehjem", "Eik sykehjem")],
        "tromso": org("5501", "Tromsø legesenter"),
    }


# --- sorting ----------------------------------------------------------------------------


def test_a_column_header_sorts_the_list_and_says_so(bergen, directorate):
    client = client_for(directorate)
    query = {"municipality": "4601"}
    by_name = client.get(ORGS, query)
    assert names(by_name) == sorted(names(by_name))
    page = by_name.content.decode()
    # Sorted by name without asking: its header says ascending and offers descending.
    name_th = re.search(r'<th aria-sort="ascending"><a class="sort sorted" href="([^"]+)"', page)
    assert name_th and "ordering=-name" in name_th.group(1)
    assert "municipality=4601" in name_th.group(1)  # the filters are kept
    assert "▲" in page

    backwards = client.get(ORGS, {**query, "ordering": "-name"})
    assert names(backwards) == sorted(names(by_name), reverse=True)
    assert 'aria-sort="descending"' in backwards.content.decode()

    by_type = client.get(ORGS, {**query, "ordering": "type"})
    types = [o.type.sort_order for o in by_type.context["page"]]
    assert types == sorted(types) and len(set(types)) == 2
    gps = [o.name for o in by_type.context["page"] if o.type.code == "fastlegekontor"]
    assert gps == sorted(gps)  # then by name, as the API's ordering
    by_type_desc = client.get(ORGS, {**query, "ordering": "-type"})
    assert [o.type.sort_order for o in by_type_desc.context["page"]] == sorted(types)[::-1]

    by_orgnr = client.get(ORGS, {**query, "ordering": "-orgnr"})
    numbers = [o.orgnr for o in by_orgnr.context["page"]]
    assert numbers == sorted(numbers, reverse=True)


def test_every_ordering_the_headers_offer_matches_the_api(bergen, directorate):
    """Each header's ordering gives the same order on the page as in the API."""
    client = client_for(directorate)
    for ordering in (
        "name",
        "-name",
        "type",
        "-type",
        "municipality",
        "-municipality",
        "orgnr",
        "health_trust",
        "-health_trust",
    ):
        page = client.get(ORGS, {"ordering": ordering, "page_size": 200})
        api = client.get("/api/v1/organisations/", {"ordering": ordering, "page_size": 200})
        assert names(page) == [o["name"] for o in api.json()["results"]], ordering


def test_the_status_list_sorts_by_its_columns_and_keeps_the_solution(bergen, directorate):
    client = client_for(directorate)
    query = {"solution": "kjernejournal", "municipality": "4601"}
    response = client.get(STATUSES, {**query, "ordering": "-municipality"})
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [o.municipality.name for o in rows] == ["Bergen"] * len(rows)
    assert [o.name for o in rows] == sorted(o.name for o in rows)  # then by name
    backwards = client.get(STATUSES, {**query, "ordering": "-name"})
    assert names(backwards) == sorted(names(backwards), reverse=True)
    page = backwards.content.decode().replace("&amp;", "&")
    assert "solution=kjernejournal" in re.search(r'<a class="sort[^"]*" href="([^"]+)"', page)[1]
    # Status, since and reason are not sortable (no index backs them): plain headers.
    assert "<th>Status</th>" in page


def test_an_unknown_ordering_is_named_as_not_understood_and_the_list_stays(bergen, directorate):
    response = client_for(directorate).get(ORGS, {"ordering": "status"})
    assert response.status_code == 200
    assert response.context["filterset"].errors["ordering"]
    assert names(response) == sorted(names(response))


# --- page size and page numbers ----------------------------------------------------------


def test_the_page_size_is_chosen_and_kept_in_every_link(db, directorate):
    for i in range(60):
        org("4601", f"Lege {i:02}")
    client = client_for(directorate)
    query = {"municipality": "4601"}
    assert len(names(client.get(ORGS, query))) == 50  # the default
    small = client.get(ORGS, {**query, "page_size": 25})
    assert len(names(small)) == 25 and small.context["page"].paginator.num_pages == 3
    page = small.content.decode().replace("&amp;", "&")
    assert "page_size=25&page=2" in page  # the next page keeps the size
    assert re.search(r'href="\?[^"]*page_size=25[^"]*ordering=-?name', page)  # so do headers
    assert '<strong aria-current="true">25</strong>' in page
    assert len(names(client.get(ORGS, {**query, "page_size": 100}))) == 60
    assert len(names(client.get(ORGS, {**query, "page_size": 100000}))) == 50  # not offered


def test_pages_are_numbered_with_the_first_and_last_always_linked(db, directorate):
    for i in range(12):
        org("4601", f"Lege {i:02}")
    response = client_for(directorate).get(
        ORGS, {"municipality": "4601", "page_size": 25, "page": 1}
    )
    assert response.context["page"].numbers == [1]
    for i in range(12, 240):
        org("4601", f"Lege {i:03}")
    response = client_for(directorate).get(
        ORGS, {"municipality": "4601", "page_size": 25, "page": 5}
    )
    page = response.content.decode().replace("&amp;", "&")
    assert response.context["page"].numbers == [1, 2, 3, 4, 5, 6, 7, "…", 10]
    assert '<strong aria-current="page">5</strong>' in page
    assert "page_size=25&page=10" in page and "page_size=25&page=3" in page


# --- export -----------------------------------------------------------------------------


def test_the_organisation_list_downloads_every_matching_row_within_scope(db, contact):
    for i in range(60):  # more than a page
        org("4601", f"Lege {i:02}")
    org("5501", "Tromsø legesenter")
    client = client_for(contact)
    response = client.get(ORGS, {"format": "csv", "ordering": "-name"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="virksomheter-')
    rows = csv_rows(response)
    assert rows[0][:3] == ['"Navn"', '"Organisasjonsnummer"', '"Type"']
    assert len(rows) == 1 + 60  # every row, not a page; none from Tromsø
    assert not any("Tromsø" in line for row in rows for line in row)
    assert [r[0].strip('"') for r in rows[1:]] == [f"Lege {i:02}" for i in range(59, -1, -1)]
    # Excel: the same rows, with the filters of the page.
    book = xlsx_rows(client.get(ORGS, {"format": "xlsx", "q": "lege 1"}))
    assert [r[0] for r in book[1:]] == [f"Lege {i}" for i in range(10, 20)]
    assert all(r[3] == "4601" for r in book[1:])


def test_a_contact_cannot_widen_the_export_to_another_municipality(bergen, contact):
    client = client_for(contact)
    for query in (
        {"format": "csv", "municipality": "5501"},
        {"format": "csv", "county": "55"},
        {"format": "csv", "municipality_id": bergen["tromso"].municipality_id},
    ):
        rows = csv_rows(client.get(ORGS, query))
        assert not any("Tromsø" in cell for row in rows for cell in row), query
    statuses = csv_rows(client.get(STATUSES, {"solution": "kjernejournal", "format": "csv"}))
    assert {r[4] for r in statuses[1:]} == {'"Bergen"'}


def test_the_status_list_downloads_statuses_today_and_as_of_a_day(bergen, contact):
    kj = Solution.objects.get(code="kjernejournal")
    first, second = bergen["gp"][:2]
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(first.pk, kj.pk, "planlegging", datetime.date(2024, 1, 10), "Plan"),
            HistoryEntry(first.pk, kj.pk, "i_bruk", datetime.date(2024, 6, 1), "Ferdig"),
            HistoryEntry(second.pk, kj.pk, "planlegging", datetime.date(2024, 3, 1)),
        ],
    )
    client = client_for(contact)
    today = xlsx_rows(client.get(STATUSES, {"solution": "kjernejournal", "format": "xlsx"}))
    assert today[0][-3:] == ("Status", "Gjelder fra", "Begrunnelse")
    by_name = {r[0]: r for r in today[1:]}
    assert by_name[first.name][-3:] == ("I bruk", datetime.datetime(2024, 6, 1), "Ferdig")
    assert by_name["Ceder lege"][-3] == str(Status.NOT_STARTED.label)
    then = csv_rows(
        client.get(STATUSES, {"solution": "kjernejournal", "as_of": "2024-02-01", "format": "csv"})
    )
    by_name = {r[0].strip('"'): r for r in then[1:]}
    assert by_name[first.name][-3:] == ['"Planlegging"', "2024-01-10", '"Plan"']
    assert by_name[second.name][-3] == '"Ikke startet"'
    # Only the in-use ones, when the list is filtered so.
    in_use = csv_rows(
        client.get(STATUSES, {"solution": "kjernejournal", "status": "i_bruk", "format": "csv"})
    )
    assert [r[0].strip('"') for r in in_use[1:]] == [first.name]


def test_an_export_reads_values_in_a_few_queries_whatever_its_length(db, directorate):
    client = client_for(directorate)

    def queries(url, query):
        with CaptureQueriesContext(connection) as captured:
            body(client.get(url, query))
        return len(captured)

    query = {"municipality": "4601", "format": "csv"}
    status_query = {**query, "solution": "kjernejournal"}
    org("4601", "Første")
    queries(ORGS, query)  # the first request of a session reads the session and user
    few = queries(ORGS, query), queries(STATUSES, status_query)
    for i in range(40):
        org("4601", f"Lege {i}")
    assert (queries(ORGS, query), queries(STATUSES, status_query)) == few


def test_csv_cells_are_made_safe_by_the_shared_writer(db, directorate):
    org("4601", "=HYPERLINK(1)")
    rows = csv_rows(client_for(directorate).get(ORGS, {"municipality": "4601", "format": "csv"}))
    assert rows[1][0] == csv_line(["=HYPERLINK(1)"]).strip() == '"\'=HYPERLINK(1)"'


# --- a municipality's page ---------------------------------------------------------------


def test_a_large_municipality_shows_a_page_of_each_type(db, directorate):
    for i in range(57):
        org("4601", f"Lege {i:02}")
    for i in range(3):
        org("4601", f"Hjem {i}", "sykehjem")
    url = reverse("actors:municipality_detail", args=["4601"])
    client = client_for(directorate)
    response = client.get(url)
    groups = {g["type"].code: g for g in response.context["groups"]}
    assert {c: g["count"] for c, g in groups.items()} == {"fastlegekontor": 57, "sykehjem": 3}
    assert [o.name for o in groups["fastlegekontor"]["page"]] == [f"Lege {i:02}" for i in range(50)]
    assert len(groups["sykehjem"]["page"]) == 3
    page = response.content.decode().replace("&amp;", "&")
    assert page.count("Lege ") == 50  # bounded: the rest is on the type's next page
    assert "?page_fastlegekontor=2#type-fastlegekontor" in page
    # Each row carries its statuses for the solutions of its type.
    gp = groups["fastlegekontor"]
    assert gp["columns"] and all(len(o.cells) == len(gp["columns"]) for o in gp["page"])
    assert all(c["status"] == Status.NOT_STARTED for o in gp["page"] for c in o.cells)
    assert "type-summary" in page and 'id="type-sykehjem"' in page

    second = client.get(url, {"page_fastlegekontor": 2, "page_sykehjem": 1})
    groups = {g["type"].code: g for g in second.context["groups"]}
    assert [o.name for o in groups["fastlegekontor"]["page"]] == [
        f"Lege {i:02}" for i in range(50, 57)
    ]
    assert groups["fastlegekontor"]["open"]
    assert len(groups["sykehjem"]["page"]) == 3
    # The other type's page parameter is kept in the links of the first.
    assert "page_sykehjem=1" in groups["fastlegekontor"]["query"]


def test_a_municipality_page_asks_the_same_number_of_queries_for_more_rows(db, directorate):
    url = reverse("actors:municipality_detail", args=["4601"])
    client = client_for(directorate)
    org("4601", "Lege")
    org("4601", "Hjem", "sykehjem")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(70):
        org("4601", f"Lege {i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few)
    assert sum(len(g["page"]) for g in response.context["groups"]) == 51


# --- who is missing for a target ----------------------------------------------------------


def test_the_missing_list_filters_sorts_and_numbers_its_pages(registry, make_user):  # noqa: F811
    client = client_for(make_user("directorate"))
    everyone = names(client.get(detail()))
    assert everyone == ["Bergen lege 2", "Bergen lege 3", "Tromsø lege 1"]  # by municipality
    assert names(client.get(detail(), {"ordering": "-municipality"}))[0] == "Tromsø lege 1"
    assert names(client.get(detail(), {"ordering": "-name"})) == sorted(everyone, reverse=True)
    assert names(client.get(detail(), {"municipality": "5501"})) == ["Tromsø lege 1"]
    assert names(client.get(detail(), {"q": "lege 3"})) == ["Bergen lege 3"]
    assert names(client.get(detail(), {"type": "sykehjem"})) == []
    for i in range(30):
        gp("4601", f"Bergen ny {i:02}")
    response = client.get(detail(), {"page_size": 25, "page": 2, "municipality": "4601"})
    assert response.context["page"].numbers == [1, 2]
    page = response.content.decode().replace("&amp;", "&")
    assert re.search(r'href="\?[^"]*municipality=4601[^"]*&page=1#missing"', page)
    assert 'aria-sort="ascending"' in page  # the municipality column: the default order
    assert names(response) == [
        "Bergen ny 23",
        "Bergen ny 24",
        "Bergen ny 25",
        "Bergen ny 26",
        "Bergen ny 27",
        "Bergen ny 28",
        "Bergen ny 29",
    ]


def test_the_missing_list_downloads_who_is_missing_within_reach(registry, make_user):  # noqa: F811
    rows = csv_rows(client_for(make_user("contact")).get(detail(), {"format": "csv"}))
    assert [r[0].strip('"') for r in rows[1:]] == ["Bergen lege 2", "Bergen lege 3"]
    assert rows[1][-3:] == ['"Blokkert"', "2025-01-01", '"Venter på EPJ"']
    # A contact asking for a place beyond reach gets no file.
    beyond = client_for(make_user("contact")).get(
        detail(), {"format": "csv", "scope": "municipality:5501"}
    )
    assert beyond.status_code == 404
    book = xlsx_rows(
        client_for(make_user("directorate")).get(detail(), {"format": "xlsx", "q": "lege"})
    )
    assert [r[0] for r in book[1:]] == ["Bergen lege 2", "Bergen lege 3", "Tromsø lege 1"]


def test_a_municipality_target_downloads_the_municipalities_that_do_not_count(db, make_user):
    home = org("4601", "Bergen sykehjem", "sykehjem")
    org("4601", "Hjemmetjenesten i Bergen", "hjemmetjeneste")
    org("5501", "Tromsø sykehjem", "sykehjem")
    kj = Solution.objects.get(code="kjernejournal")
    status_history_load(
        user=SYSTEM_USER,
        changes=[HistoryEntry(home.pk, kj.pk, "i_bruk", datetime.date(2025, 1, 1))],
    )
    rows = csv_rows(
        client_for(make_user("contact")).get(
            detail("kjernejournal-plo"), {"scope": "municipality:4601", "format": "csv"}
        )
    )
    assert rows[0][:3] == ['"Kommunenummer"', '"Kommune"', '"Oppnådd"']
    assert rows[1:] == [['"4601"', '"Bergen"', "1", "2", "1"]]
