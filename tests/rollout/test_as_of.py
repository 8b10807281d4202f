"""Statuses "as of" a past day (issue 13, item 7): the status list page and the statuses
API answer `?as_of=YYYY-MM-DD` from the history, within the user's scope, read-only."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.scoping import SYSTEM_USER
from rollout import selectors, services
from rollout.choices import Status
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

D = datetime.date
PAGE = reverse("rollout:status_list")
API = reverse("rolloutstatus-list")

# Filters a kommunekontakt may try on the page and the API: none may show another
# municipality's organisation.
SCOPE_FILTERS = [
    {},
    {"status": "blokkert"},
    {"status": "planlegging"},
    {"municipality": "5501"},
    {"health_trust": "unn"},
    {"county": "55"},
]


def kj():
    return Solution.objects.get(code="kjernejournal")


def change(org, to_status, day, reason="", code="kjernejournal"):
    return services.status_change(
        user=SYSTEM_USER,
        organisation=org,
        solution=Solution.objects.get(code=code),
        to_status=to_status,
        effective_date=day,
        reason=reason,
    )


@pytest.fixture
def history(org_bergen, org_tromso):
    """Bergen legesenter plans from 1 March 2024 and uses kjernejournal from 1 June;
    a second Bergen organisation never started; Tromsø (outside the kommunekontakt's
    municipality) plans from 1 March and is blocked from 1 May."""
    change(org_bergen, Status.PLANNING, D(2024, 3, 1), "Oppstart")
    change(org_bergen, Status.IN_USE, D(2024, 6, 1))
    quiet = OrganisationFactory(municipality__number="4601", name="Bergen sykehjem")
    change(org_tromso, Status.PLANNING, D(2024, 3, 1))
    change(org_tromso, Status.BLOCKED, D(2024, 5, 1), "Venter på EPJ")
    return {"bergen": org_bergen, "quiet": quiet, "tromso": org_tromso}


def listed(response) -> dict[int, str]:
    return {o.pk: o.current_status for o in response.context["page"]}


# --- the selectors ----------------------------------------------------------------------


def test_latest_changes_as_of_agrees_with_the_replay_and_breaks_ties_by_recording(history):
    bergen, tromso = history["bergen"], history["tromso"]
    # Two changes on one day: the one recorded last is the status at the end of that day.
    change(bergen, Status.BLOCKED, D(2024, 7, 1), "Nedetid")
    change(bergen, Status.IN_USE, D(2024, 7, 1))
    for day in (D(2024, 3, 1), D(2024, 5, 31), D(2024, 6, 1), D(2024, 7, 1)):
        rows = selectors.latest_changes_as_of(day).filter(solution=kj())
        assert {r.organisation_id: r.to_status for r in rows} == selectors.statuses_as_of(kj(), day)
    assert selectors.statuses_as_of(kj(), D(2024, 7, 1)) == {
        bergen.pk: Status.IN_USE,
        tromso.pk: Status.BLOCKED,
    }
    assert selectors.statuses_as_of(kj(), D(2024, 2, 29)) == {}
    only_tromso = selectors.changes_as_of(kj(), D(2024, 5, 1), [tromso.pk])
    assert list(only_tromso) == [tromso.pk]
    assert only_tromso[tromso.pk].reason == "Venter på EPJ"


# --- the page ---------------------------------------------------------------------------


def test_page_shows_the_old_status_before_a_change_and_the_new_after(contact, history):
    client = client_for(contact)
    bergen, quiet = history["bergen"].pk, history["quiet"].pk

    before = client.get(PAGE, {"solution": "kjernejournal", "as_of": "2024-05-31"})
    assert before.status_code == 200
    assert listed(before) == {bergen: Status.PLANNING, quiet: Status.NOT_STARTED}
    page = before.content.decode()
    assert "Status per 31.05.2024" in page
    assert "01.03.2024" in page and "Oppstart" in page  # since when, and why, back then

    after = client.get(PAGE, {"solution": "kjernejournal", "as_of": "2024-06-01"})
    assert listed(after) == {bergen: Status.IN_USE, quiet: Status.NOT_STARTED}
    assert "Status per 01.06.2024" in after.content.decode()

    # Before anything happened to it, an organisation of today's registry had not started.
    first = client.get(PAGE, {"solution": "kjernejournal", "as_of": "2024-03-01"})
    assert listed(first) == {bergen: Status.PLANNING, quiet: Status.NOT_STARTED}


def test_page_filters_on_the_status_as_it_stood_then(contact, history):
    client = client_for(contact)
    bergen, quiet = history["bergen"].pk, history["quiet"].pk
    # Back to "not started" by a change: counted with those that never started.
    back = OrganisationFactory(municipality__number="4601", name="Bergen legevakt")
    change(back, Status.PLANNING, D(2024, 3, 1))
    change(back, Status.NOT_STARTED, D(2024, 4, 1))
    url = PAGE + "?solution=kjernejournal&as_of=2024-05-31"
    assert set(listed(client.get(url + "&status=planlegging"))) == {bergen}
    assert set(listed(client.get(url + "&status=i_bruk"))) == set()
    assert set(listed(client.get(url + "&status=ikke_startet"))) == {quiet, back.pk}
    both = client.get(url + "&status=ikke_startet&status=planlegging")
    assert listed(both) == {bergen: "planlegging", quiet: "ikke_startet", back.pk: "ikke_startet"}
    assert set(listed(client.get(url + "&changed_since=2024-03-01"))) == {bergen, back.pk}
    assert set(listed(client.get(url + "&changed_since=2024-03-02"))) == {back.pk}
    march = PAGE + "?solution=kjernejournal&as_of=2024-03-15&status=planlegging"
    assert set(listed(client.get(march))) == {bergen, back.pk}
    # Today the same filter finds it in use.
    today = client.get(PAGE + "?solution=kjernejournal&status=i_bruk")
    assert set(listed(today)) == {bergen}


@pytest.mark.parametrize("params", [*SCOPE_FILTERS, {"q": "Tromsø"}, {"type": "fastlege"}])
def test_page_as_of_never_leaves_the_kommunekontakts_scope(contact, history, params):
    tromso = history["tromso"]
    for day in ("2024-03-01", "2024-05-01", "2024-06-30"):
        response = client_for(contact).get(
            PAGE, {"solution": "kjernejournal", "as_of": day, **params}
        )
        assert response.status_code == 200
        assert tromso.pk not in listed(response)
        assert tromso.name not in response.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-29", "Statushistorikken begynner 2024-03-01; velg den dagen eller senere."),
        ("not-a-date", "Oppgi datoen som ÅÅÅÅ-MM-DD, for eksempel 2025-06-01."),
        ("2024-02-30", "Oppgi datoen som ÅÅÅÅ-MM-DD, for eksempel 2025-06-01."),
        ("future", "er i fremtiden; velg i dag"),
    ],
)
def test_page_refuses_a_bad_day_with_the_form_error_and_keeps_todays_list(
    contact, history, value, message
):
    if value == "future":
        value = (services.today() + datetime.timedelta(days=1)).isoformat()
    response = client_for(contact).get(PAGE, {"solution": "kjernejournal", "as_of": value})
    assert response.status_code == 200
    errors = " ".join(response.context["filterset"].form.errors["as_of"])
    assert message in errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert response.context["as_of"] is None
    assert "alert info as-of" not in response.content.decode()  # no banner
    # The list is today's.
    assert listed(response) == {
        history["bergen"].pk: Status.IN_USE,
        history["quiet"].pk: "ikke_startet",
    }


def test_page_without_any_history_says_so(contact, org_bergen):
    response = client_for(contact).get(PAGE, {"as_of": "2024-01-01"})
    assert response.status_code == 200
    assert "Det finnes ingen statushistorikk ennå" in " ".join(
        response.context["filterset"].form.errors["as_of"]
    )


def test_page_pagination_keeps_as_of(coordinator):
    orgs = OrganisationFactory.create_batch(51, municipality__number="4601")
    services.statuses_bulk_change(
        user=SYSTEM_USER,
        organisation_ids=[o.pk for o in orgs[:10]],
        solution=kj(),
        to_status=Status.PLANNING,
        effective_date=D(2024, 3, 1),
    )
    client = client_for(coordinator)
    first = client.get(PAGE, {"solution": "kjernejournal", "as_of": "2024-03-01"})
    assert first.context["page"].paginator.num_pages == 2
    page = first.content.decode()
    assert "as_of=2024-03-01&page=2" in page.replace("&amp;", "&")
    second = client.get(PAGE + "?solution=kjernejournal&as_of=2024-03-01&page=2")
    assert second.context["as_of"] == D(2024, 3, 1)
    assert len(second.context["page"]) == 1
    assert "Status per 01.03.2024" in second.content.decode()
    everyone = set(listed(first)) | set(listed(second))
    assert everyone == {o.pk for o in orgs}


def test_page_hides_editing_for_a_past_day_and_refuses_a_post(coordinator, history):
    client = client_for(coordinator)
    today = client.get(PAGE, {"solution": "kjernejournal"})
    assert today.context["bulk_form"] is not None
    assert 'name="organisations"' in today.content.decode()

    past = client.get(PAGE, {"solution": "kjernejournal", "as_of": "2024-05-31"})
    page = past.content.decode()
    assert past.context["bulk_form"] is None
    assert 'name="organisations"' not in page
    assert 'name="to_status"' not in page
    assert "Change status" not in page
    # A link back to today keeps the other filters and drops the day.
    assert 'href="?solution=kjernejournal">Tilbake til i dag' in page.replace("\n  ", "")

    before = StatusChange.objects.count()
    response = client.post(
        PAGE + "?solution=kjernejournal&as_of=2024-05-31",
        {
            "solution": "kjernejournal",
            "organisations": [history["quiet"].pk],
            "to_status": Status.PLANNING,
        },
    )
    assert response.status_code == 400
    assert StatusChange.objects.count() == before
    assert not RolloutStatus.objects.filter(organisation=history["quiet"]).exists()


def test_page_query_count_does_not_grow_with_the_rows(coordinator):
    client = client_for(coordinator)
    client.get(PAGE)  # the session's renewal (written at most once a minute) is done

    def queries(n):
        orgs = OrganisationFactory.create_batch(n, municipality__number="4601")
        services.statuses_bulk_change(
            user=SYSTEM_USER,
            organisation_ids=[o.pk for o in orgs],
            solution=kj(),
            to_status=Status.PLANNING,
            effective_date=D(2024, 3, 1),
        )
        params = {"solution": "kjernejournal", "as_of": "2024-03-02", "status": "planlegging"}
        cache.delete(selectors.MATRIX_VERSION_KEY)  # cached counts counted again each time
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(PAGE, params)
        assert response.status_code == 200
        history = [q["sql"] for q in ctx.captured_queries if "rollout_statuschange" in q["sql"]]
        return len(ctx), len(response.context["page"]), len(history)

    few, shown, _history = queries(3)
    assert shown == 3
    many, shown, history = queries(30)
    assert shown == 33
    assert many == few
    # The first change (validation), the filtered count, the page, its statuses, and the
    # cache key of counted figures (which names the newest history row).
    assert history <= 5


# --- the API ----------------------------------------------------------------------------


def test_api_answers_from_the_history_before_and_after_a_change(contact, history):
    client = api_client_for(contact)
    bergen = history["bergen"]

    today = client.get(API).json()
    assert today["as_of"] is None
    assert [(r["orgnr"], r["status"]) for r in today["results"]] == [(bergen.orgnr, "i_bruk")]

    before = client.get(API, {"as_of": "2024-05-31"}).json()
    assert before["as_of"] == "2024-05-31"
    assert before["count"] == 1
    row = before["results"][0]
    assert row["orgnr"] == bergen.orgnr and row["solution"] == "kjernejournal"
    assert row["status"] == "planlegging" and row["status_label"] == str(Status.PLANNING.label)
    assert row["effective_date"] == "2024-03-01" and row["reason"] == "Oppstart"
    assert row["as_of"] == "2024-05-31"
    assert StatusChange.objects.get(pk=row["change"]).to_status == Status.PLANNING

    after = client.get(API, {"as_of": "2024-06-01"}).json()
    assert [(r["orgnr"], r["status"]) for r in after["results"]] == [(bergen.orgnr, "i_bruk")]

    # The filters apply to the status as it stood then.
    assert client.get(API, {"as_of": "2024-05-31", "status": "planlegging"}).json()["count"] == 1
    assert client.get(API, {"as_of": "2024-05-31", "status": "i_bruk"}).json()["count"] == 0
    assert client.get(API, {"as_of": "2024-06-01", "status": "i_bruk"}).json()["count"] == 1


def test_api_lists_only_pairs_that_had_a_status_then(make_user, history):
    client = api_client_for(make_user("coord_nat"))
    change(history["quiet"], Status.PLANNING, D(2024, 7, 1))
    day = {
        r["orgnr"]: r["status"] for r in client.get(API, {"as_of": "2024-06-30"}).json()["results"]
    }
    assert day == {history["bergen"].orgnr: "i_bruk", history["tromso"].orgnr: "blokkert"}
    assert client.get(API, {"as_of": "2024-07-01"}).json()["count"] == 3
    filtered = client.get(API, {"as_of": "2024-05-01", "health_trust": "unn"}).json()
    assert [(r["orgnr"], r["status"]) for r in filtered["results"]] == [
        (history["tromso"].orgnr, "blokkert")
    ]
    assert client.get(API, {"as_of": "2024-05-01", "solution": "sfm"}).json()["count"] == 0


@pytest.mark.parametrize("params", [*SCOPE_FILTERS, {"solution": "kjernejournal"}])
def test_api_as_of_never_leaves_the_kommunekontakts_scope(contact, history, params):
    client = api_client_for(contact)
    for day in ("2024-03-01", "2024-05-01", "2024-06-30"):
        response = client.get(API, {"as_of": day, **params})
        assert response.status_code == 200
        assert history["tromso"].orgnr not in {r["orgnr"] for r in response.json()["results"]}
    orgnr = client.get(API, {"as_of": "2024-05-01", "orgnr": history["tromso"].orgnr})
    assert orgnr.json()["count"] == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-29", "Statushistorikken begynner 2024-03-01; velg den dagen eller senere."),
        ("not-a-date", "Oppgi datoen som ÅÅÅÅ-MM-DD, for eksempel 2025-06-01."),
        ("2024-13-01", "Oppgi datoen som ÅÅÅÅ-MM-DD, for eksempel 2025-06-01."),
        ("future", "er i fremtiden; velg i dag"),
    ],
)
def test_api_refuses_a_bad_day_with_400_naming_the_field(contact, history, value, message):
    if value == "future":
        value = (services.today() + datetime.timedelta(days=1)).isoformat()
    response = api_client_for(contact).get(API, {"as_of": value})
    assert response.status_code == 400
    assert message in " ".join(response.json()["as_of"])


def test_api_pagination_keeps_as_of(make_user):
    orgs = OrganisationFactory.create_batch(51)
    services.statuses_bulk_change(
        user=SYSTEM_USER,
        organisation_ids=[o.pk for o in orgs],
        solution=kj(),
        to_status=Status.PLANNING,
        effective_date=D(2024, 3, 1),
    )
    client = api_client_for(make_user("coord_nat"))
    first = client.get(API, {"as_of": "2024-03-01"}).json()
    assert first["count"] == 51 and len(first["results"]) == 50
    assert "as_of=2024-03-01" in first["next"]
    second = client.get(first["next"]).json()
    assert second["as_of"] == "2024-03-01" and len(second["results"]) == 1
    seen = {r["organisation"] for r in first["results"] + second["results"]}
    assert seen == {o.pk for o in orgs}


def test_api_query_count_does_not_grow_with_the_rows(make_user):
    client = api_client_for(make_user("coord_nat"))

    def queries(n):
        orgs = OrganisationFactory.create_batch(n)
        services.statuses_bulk_change(
            user=SYSTEM_USER,
            organisation_ids=[o.pk for o in orgs],
            solution=kj(),
            to_status=Status.PLANNING,
            effective_date=D(2024, 3, 1),
        )
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(API, {"as_of": "2024-03-01"})
        assert response.status_code == 200
        return len(ctx)

    assert queries(3) == queries(30)
