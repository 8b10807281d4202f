"""The area page of an area-wise solution: summaries by type, and its list of actors a page
at a time (rollout:area_actors), filtered by type, status, readiness and the condition they
fail, within the user's scope, with as many queries and as much HTML for any area size."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.models import OrganisationType, RecordSystem, Vendor
from actors.scoping import SYSTEM_USER
from rollout import area_views, services
from rollout.choices import Status, VendorSupport
from rollout.models import RecordSystemSupport, Solution
from rollout.selectors import MATRIX_VERSION_KEY
from tests.conftest import client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("rollout:area_detail", args=["pll", "helse-bergen"])
ACTORS = reverse("rollout:area_actors", args=["pll", "helse-bergen"])
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    """Five actors a page, so a few organisations make several pages."""
    monkeypatch.setattr(area_views, "PAGE_SIZE", 5)


@pytest.fixture
def systems():
    vendor = Vendor.objects.create(name="Leverandør AS")
    supported = RecordSystem.objects.create(vendor=vendor, name="Støttet EPJ")
    lacking = RecordSystem.objects.create(vendor=vendor, name="Gammel EPJ")
    pll = Solution.objects.get(code="pll")
    RecordSystemSupport.objects.create(
        solution=pll, record_system=supported, support=VendorSupport.SUPPORTED
    )
    RecordSystemSupport.objects.create(
        solution=pll, record_system=lacking, support=VendorSupport.NOT_SUPPORTED
    )
    return supported, lacking


def add(n, prefix, *, type="fastlegekontor", status=None, system=None, municipality="4601"):
    """`n` organisations named prefix 0 … prefix n-1 in the Bergen area, with `status` for
    PLL."""
    organisations = [
        OrganisationFactory(
            name=f"{prefix} {i}",
            type=OrganisationType.objects.get(code=type),
            municipality__number=municipality,
            record_system=system,
        )
        for i in range(n)
    ]
    if status:
        services.statuses_bulk_change(
            user=SYSTEM_USER,
            organisation_ids=[o.pk for o in organisations],
            solution=Solution.objects.get(code="pll"),
            to_status=status,
        )
    return organisations


@pytest.fixture
def area(systems):
    """Fastlegekontor: 3 technically ready (supported system), 4 planning (old system); sykehjem: 2
    not started. 9 actors, 3 ready."""
    supported, lacking = systems
    add(3, "Brukende legekontor", status=Status.TECHNICALLY_READY, system=supported)
    add(4, "Planleggende legekontor", status=Status.PLANNING, system=lacking)
    add(2, "Sykehjem", type="sykehjem")


def names(response) -> list[str]:
    assert response.status_code == 200
    return [o.name for o in response.context["page"]]


def test_the_page_summarises_by_type_and_lists_no_actor_until_asked(area, coordinator):
    response = client_for(coordinator).get(PAGE)
    assert response.status_code == 200
    readiness = response.context["readiness"]
    assert (readiness.total, readiness.ready) == (9, 3)
    groups = {g["type"].code: g for g in readiness.by_type}
    assert (groups["fastlegekontor"]["ready"], groups["fastlegekontor"]["total"]) == (3, 7)
    assert groups["fastlegekontor"]["counts"] == {Status.TECHNICALLY_READY: 3, Status.PLANNING: 4}
    assert groups["sykehjem"]["counts"] == {Status.NOT_STARTED: 2}
    html = response.content.decode()
    assert "3 / 7" in html and "0 / 2" in html and "3 / 9" in html
    assert "Planleggende legekontor" not in html  # more than a page: the list waits
    assert f'hx-get="{ACTORS}"' in html


def test_a_small_area_shows_its_actors_at_once(systems, coordinator):
    add(2, "Lite legekontor")
    response = client_for(coordinator).get(PAGE)
    assert names(response) == ["Lite legekontor 0", "Lite legekontor 1"]


def test_the_list_pages_through_the_actors_by_type_and_name(area, coordinator):
    client = client_for(coordinator)
    first = client.get(ACTORS, **HTMX)
    assert names(first) == [
        "Brukende legekontor 0",
        "Brukende legekontor 1",
        "Brukende legekontor 2",
        "Planleggende legekontor 0",
        "Planleggende legekontor 1",
    ]
    assert first.context["page"].paginator.count == 9
    second = client.get(ACTORS, {"page": 2}, **HTMX)
    assert names(second) == [
        "Planleggende legekontor 2",
        "Planleggende legekontor 3",
        "Sykehjem 0",
        "Sykehjem 1",
    ]
    html = second.content.decode()
    assert f'hx-get="{ACTORS}?page=1"' in html and f'href="{PAGE}?page=1#actors"' in html
    # The browser's address becomes the area page's, which shows the same page itself.
    assert second["HX-Push-Url"] == f"{PAGE}?page=2"
    assert names(client.get(PAGE, {"page": 2})) == names(second)


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"type": "sykehjem"}, ["Sykehjem 0", "Sykehjem 1"]),
        ({"status": "teknisk_klar"}, [f"Brukende legekontor {i}" for i in range(3)]),
        ({"ready": "ja"}, [f"Brukende legekontor {i}" for i in range(3)]),
        ({"ready": "nei", "type": "sykehjem"}, ["Sykehjem 0", "Sykehjem 1"]),
        ({"ready": "nei", "page": 2}, ["Sykehjem 1"]),
        # The actors each condition fails for.
        ({"fails": "ready", "type": "sykehjem"}, ["Sykehjem 0", "Sykehjem 1"]),
        ({"fails": "vendors"}, [f"Planleggende legekontor {i}" for i in range(4)]),
        (
            {"fails": "agreements", "status": "teknisk_klar"},
            [f"Brukende legekontor {i}" for i in range(3)],
        ),
        # Fastlegekontor (3/7) and sykehjem (0/2) lag: their actors not ready.
        ({"fails": "together", "page": 2}, ["Sykehjem 1"]),
    ],
)
def test_the_list_filters(area, coordinator, query, expected):
    client = client_for(coordinator)
    assert names(client.get(ACTORS, query, **HTMX)) == expected
    # The page itself, without JavaScript, shows the same rows.
    assert names(client.get(PAGE, query)) == expected


def test_a_condition_passed_by_everyone_fails_for_no_one(area, coordinator):
    response = client_for(coordinator).get(ACTORS, {"fails": "dependencies"}, **HTMX)
    assert names(response) == []


def test_a_filter_not_understood_is_left_out_and_said(area, coordinator):
    response = client_for(coordinator).get(ACTORS, {"status": "tull", "type": "sykehjem"}, **HTMX)
    assert "Noen filtre er ugyldige" in response.content.decode()
    assert names(response) == ["Sykehjem 0", "Sykehjem 1"]


def test_the_list_without_htmx_is_the_area_page(area, coordinator):
    response = client_for(coordinator).get(ACTORS, {"type": "sykehjem"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?type=sykehjem#actors"


def test_scope_of_the_list(area, make_user):
    # An area coordinator of Helse Bergen sees nothing of UNN's area, list or page.
    coordinator = make_user("coord_area")
    unn = ["pll", "unn"]
    for name in ("rollout:area_detail", "rollout:area_actors"):
        response = client_for(coordinator).get(reverse(name, args=unn), **HTMX)
        assert response.status_code == 404
    # Without signing in: to the login page.
    assert client_for(None).get(ACTORS, **HTMX).status_code == 302
    # A municipality contact of Bergen lists only the actors in their reach.
    add(2, "Voss legekontor", municipality="4621")
    coordinator_names = names(client_for(coordinator).get(ACTORS, {"page": 2}, **HTMX))
    assert coordinator_names[2:4] == ["Voss legekontor 0", "Voss legekontor 1"]
    contact = make_user("contact")
    listed = client_for(contact).get(ACTORS, {"type": "fastlegekontor", "page": 9}, **HTMX)
    assert "Voss" not in " ".join(names(listed))
    assert listed.context["page"].paginator.count == 7


def measure(client, url, params, **extra):
    cache.delete(MATRIX_VERSION_KEY)  # cached counts are counted again: the same work each time
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params, **extra)
    assert response.status_code == 200
    return len(ctx), len(response.content)


@pytest.mark.parametrize(
    "url, params, extra",
    [
        (PAGE, {}, {}),
        (PAGE, {"fails": "vendors", "page": 2}, {}),
        (ACTORS, {}, HTMX),
        (ACTORS, {"page": 3}, HTMX),
        (ACTORS, {"fails": "agreements", "page": 2}, HTMX),
        (ACTORS, {"ready": "nei", "type": "fastlegekontor"}, HTMX),
    ],
)
def test_queries_and_html_do_not_grow_with_the_area(systems, coordinator, url, params, extra):
    supported, lacking = systems
    client = client_for(coordinator)

    def grow(n):
        add(n, f"Legekontor {n}", status=Status.TECHNICALLY_READY, system=supported)
        add(n, f"Legekontor {n} planlegger", status=Status.PLANNING, system=lacking)
        add(n, f"Sykehjem {n}", type="sykehjem", system=lacking)

    grow(6)
    client.get(url, params, **extra)  # warm caches (content types, sessions)
    queries_few, size_few = measure(client, url, params, **extra)
    grow(30)
    queries_many, size_many = measure(client, url, params, **extra)
    assert queries_many == queries_few
    # only the numbers grow, and a status that appears is named once in its bar's label
    assert abs(size_many - size_few) < 800
