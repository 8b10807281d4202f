"""The coverage-target API: targets with their national figures, the forecast at a place,
snapshots of the places in reach, recomputations queued as jobs, and the jobs."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.models import County, HealthTrust, Job, Municipality, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import coverage, services
from benefits.choices import Level, Verdict
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout import services as rollout_services
from rollout.models import Solution
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

CODE = "e-multidose-legekontor"  # organisations, threshold 0.800, deadline 2024-12-31
D = datetime.date


@pytest.fixture
def target():
    return CoverageTarget.objects.get(code=CODE)


@pytest.fixture
def places():
    """(level, scope id) of the places around Bergen (in the contact's reach) and Tromsø
    (outside it)."""
    bergen = Municipality.objects.get(number="4601")
    tromso = Municipality.objects.get(number="5501")
    helse_bergen = HealthTrust.objects.get(code="helse-bergen")
    unn = HealthTrust.objects.get(code="unn")
    return {
        "nation": (Level.NATION, 0),
        "rha_in": (Level.REGION, helse_bergen.regional_health_authority_id),
        "rha_out": (Level.REGION, unn.regional_health_authority_id),
        "area_in": (Level.AREA, helse_bergen.pk),
        "area_out": (Level.AREA, unn.pk),
        "county_in": (Level.COUNTY, bergen.county_id),
        "county_out": (Level.COUNTY, tromso.county_id),
        "municipality_in": (Level.MUNICIPALITY, bergen.pk),
        "municipality_out": (Level.MUNICIPALITY, tromso.pk),
    }


def snap(target, day, place, numerator, denominator=100):
    level, scope_id = place
    return CoverageSnapshot.objects.create(
        target=target,
        day=day,
        level=level,
        scope_id=scope_id,
        numerator=numerator,
        denominator=denominator,
    )


SUMMER = D(2024, 6, 30)


def snapshot_everywhere(target, places, day=SUMMER):
    for i, place in enumerate(places.values()):
        snap(target, day, place, 10 + i)


# --- targets --------------------------------------------------------------------------


def test_target_list_and_detail_fields(make_user, target, places):
    client = api_client_for(make_user("contact"))
    response = client.get(reverse("coveragetarget-list"))
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert CODE in codes and len(codes) == CoverageTarget.objects.count()

    data = client.get(reverse("coveragetarget-detail", args=[CODE])).json()
    assert data["code"] == CODE
    assert data["name"] == target.name
    assert data["solution"] == "e-multidose"
    assert data["unit"] == "organisations"
    assert data["unit_label"]
    assert data["organisation_types"] == ["fastlegekontor"]
    assert data["achieved_statuses"] == ["i_bruk"]
    assert data["denominator"] == "relevant"
    assert data["municipality_rule"] == "all"
    assert data["threshold"] == "0.800"
    assert data["deadline"] == "2024-12-31"
    assert data["per_area"] is False and data["is_active"] is True
    assert data["national"] is None  # nothing computed yet

    snap(target, D(2024, 5, 31), places["nation"], 30, 120)
    snap(target, D(2024, 6, 30), places["nation"], 60, 120)
    snap(target, D(2024, 7, 31), places["area_in"], 5, 10)  # later, but not national
    data = client.get(reverse("coveragetarget-detail", args=[CODE])).json()
    assert data["national"] == {
        "day": "2024-06-30",
        "numerator": 60,
        "denominator": 120,
        "ratio": 0.5,
    }
    listed = client.get(reverse("coveragetarget-list")).json()["results"]
    assert next(row for row in listed if row["code"] == CODE)["national"]["numerator"] == 60


def test_unknown_target_is_404(make_user):
    client = api_client_for(make_user("coord_nat"))
    assert client.get(reverse("coveragetarget-detail", args=["finnes-ikke"])).status_code == 404
    url = reverse("coveragetarget-forecast", args=["finnes-ikke"])
    assert client.get(url).status_code == 404


def test_target_list_queries_do_not_grow_with_rows(
    make_user, places, django_assert_max_num_queries
):
    client = api_client_for(make_user("directorate"))
    url = reverse("coveragetarget-list")
    client.get(url)  # the user's scope is read once per user

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    solution = Solution.objects.get(code="pll")
    types = list(OrganisationType.objects.all())
    for i in range(6):
        extra = CoverageTarget.objects.create(
            code=f"ekstra-{i}",
            name=f"Ekstra {i}",
            solution=solution,
            unit="organisations",
            achieved_statuses=["i_bruk"],
            threshold="0.500",
            deadline=D(2030, 1, 1),
        )
        extra.organisation_types.set(types)
    for target in CoverageTarget.objects.all():
        for month in range(1, 7):
            snap(target, D(2024, month, 1), places["nation"], month)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    rows = response.json()["results"]
    assert len(rows) == CoverageTarget.objects.count()
    assert all(row["national"]["day"] == "2024-06-01" for row in rows)


# --- forecast -------------------------------------------------------------------------


START = D(2023, 1, 1)


def linear_series(target, place, start=START, points=13):
    """Every 30 days, from 50 % up by exactly one percentage point each time."""
    for i in range(points):
        snap(target, start + datetime.timedelta(days=30 * i), place, 500 + 10 * i, 1000)
    return start + datetime.timedelta(days=30 * (points - 1))


def test_forecast_of_a_linear_series(make_user, target, places):
    latest = linear_series(target, places["nation"])
    assert latest == D(2023, 12, 27)
    client = api_client_for(make_user("coord_nat"))
    response = client.get(reverse("coveragetarget-forecast", args=[CODE]))
    assert response.status_code == 200
    data = response.json()
    assert data["target"] == CODE
    assert data["scope"] == {
        "level": "nation",
        "level_label": str(Level.NATION.label),
        "scope_id": 0,
        "key": "nation",
        "name": data["scope"]["name"],
    }
    assert data["threshold"] == "0.800" and data["deadline"] == "2024-12-31"
    assert data["latest"] == {
        "day": "2023-12-27",
        "numerator": 620,
        "denominator": 1000,
        "ratio": 0.62,
    }
    assert data["gap"] == 180
    assert len(data["series"]) == 13 and data["series"][0]["ratio"] == 0.5

    forecast = data["forecast"]
    # 18 points to go at one point per 30 days: 540 days after the latest snapshot,
    # 170 days after the deadline.
    projected = datetime.date.fromisoformat(forecast["projected"])
    assert abs((projected - D(2025, 6, 19)).days) <= 1
    assert forecast["verdict"] == Verdict.AT_RISK
    assert forecast["verdict_label"] == str(Verdict.AT_RISK.label)
    assert forecast["pace_per_month"] == pytest.approx(0.01)
    assert forecast["needed_per_month"] == pytest.approx(0.18 / 370 * 30)
    assert forecast["current"] == pytest.approx(0.62)
    assert forecast["points"] == 11  # the last snapshot of each month (two months have two)


def test_forecast_on_track_and_reached(make_user, places):
    plo = CoverageTarget.objects.get(code="kjernejournal-plo")  # 80 % by the end of 2026
    linear_series(plo, places["area_in"])
    client = api_client_for(make_user("contact"))
    url = reverse("coveragetarget-forecast", args=["kjernejournal-plo"])
    data = client.get(url).json()  # the contact's default place: their area
    assert data["scope"]["key"] == "area:helse-bergen"
    assert data["forecast"]["verdict"] == Verdict.ON_TRACK

    snap(plo, D(2024, 1, 31), places["area_in"], 900, 1000)
    data = client.get(url, {"scope": "area:helse-bergen"}).json()
    assert data["forecast"]["verdict"] == Verdict.REACHED
    assert data["gap"] == 0


def test_forecast_without_snapshots_says_so(make_user):
    data = (
        api_client_for(make_user("coord_nat"))
        .get(reverse("coveragetarget-forecast", args=[CODE]))
        .json()
    )
    assert data["latest"] is None and data["series"] == []
    assert data["forecast"]["verdict"] == Verdict.UNKNOWN
    assert data["forecast"]["projected"] is None
    assert data["forecast"]["message"]


@pytest.mark.parametrize(
    ("key", "contact", "coord_nat"),
    [
        ("nation", 200, 200),
        ("rha:helse-nord", 200, 200),
        ("area:helse-bergen", 200, 200),
        ("county:46", 200, 200),
        ("municipality:4601", 200, 200),
        ("area:unn", 404, 200),
        ("municipality:5501", 404, 200),
        ("county:55", 404, 200),  # Troms (Troms og Finnmark, 54, ended in 2023)
        ("area:finnes-ikke", 404, 404),
        ("tull", 404, 404),
    ],
)
def test_forecast_place_must_be_in_reach(make_user, key, contact, coord_nat):
    url = reverse("coveragetarget-forecast", args=[CODE])
    for kind, expected in [("contact", contact), ("coord_nat", coord_nat)]:
        response = api_client_for(make_user(kind)).get(url, {"scope": key})
        assert response.status_code == expected, (kind, key)
        if expected == 404:
            assert key in response.json()["detail"]  # the same answer: unknown or out of reach
        else:
            assert response.json()["scope"]["key"] == key


# --- snapshots ------------------------------------------------------------------------


def test_snapshots_of_the_places_in_reach(make_user, target, places):
    snapshot_everywhere(target, places)
    client = api_client_for(make_user("contact"))
    response = client.get(reverse("coveragesnapshot-list"))
    assert response.status_code == 200
    rows = response.json()["results"]
    seen = {(row["level"], row["scope_id"]) for row in rows}
    expected = {"nation", "rha_in", "rha_out", "area_in", "county_in", "municipality_in"}
    assert seen == {places[name] for name in expected}

    by_key = {row["scope_key"]: row for row in rows}
    bergen = by_key["municipality:4601"]
    assert bergen["scope_name"] == "Bergen"
    assert bergen["target"] == CODE and bergen["day"] == "2024-06-30"
    assert bergen["ratio"] == bergen["numerator"] / 100
    assert by_key["area:helse-bergen"]["scope_name"] == "Helse Bergen HF"
    assert by_key["nation"]["scope_id"] == 0
    assert by_key[f"county:{County.objects.get(pk=places['county_in'][1]).number}"]

    # Everything for those who see everything, with the names of every place.
    rows = api_client_for(make_user("coord_nat")).get(reverse("coveragesnapshot-list")).json()
    keys = {row["scope_key"]: row["scope_name"] for row in rows["results"]}
    assert len(keys) == len(places)
    assert keys["municipality:5501"] == "Tromsø" and keys["area:unn"]


def test_snapshot_filters(make_user, target, places):
    other = CoverageTarget.objects.get(code="kjernejournal-plo")
    snapshot_everywhere(target, places, D(2024, 5, 31))
    snapshot_everywhere(target, places, D(2024, 6, 30))
    snapshot_everywhere(other, places, D(2024, 6, 30))
    client = api_client_for(make_user("contact"))
    url = reverse("coveragesnapshot-list")

    def get(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        return response.json()["results"]

    assert {r["target"] for r in get(target=CODE)} == {CODE}
    assert {r["target"] for r in get(target_id=other.pk)} == {"kjernejournal-plo"}
    assert {r["level"] for r in get(level="area")} == {"area"}
    rows = get(target=CODE, scope="area:helse-bergen")
    assert [(r["scope_key"], r["day"]) for r in rows] == [
        ("area:helse-bergen", "2024-05-31"),
        ("area:helse-bergen", "2024-06-30"),
    ]
    assert len(get(target=CODE, scope="nation", day_after="2024-06-30")) == 1
    assert len(get(target=CODE, scope="nation", day_before="2024-05-31")) == 1
    assert len(get(target=CODE, scope="nation", day_after="2024-07-01")) == 0
    assert len(get(level="municipality", scope_id=places["municipality_in"][1])) == 3
    assert get(level="municipality", scope_id=places["municipality_out"][1]) == []

    # A place outside the contact's reach answers as one that does not exist.
    for key in ("area:unn", "area:finnes-ikke"):
        response = client.get(url, {"scope": key})
        assert response.status_code == 400
        assert key in response.json()["scope"][0]

    coord = api_client_for(make_user("coord_nat"))
    rows = coord.get(url, {"scope": "area:unn", "target": CODE}).json()["results"]
    assert [r["scope_key"] for r in rows] == ["area:unn", "area:unn"]


def test_snapshot_list_queries_do_not_grow_with_rows(
    make_user, target, places, django_assert_max_num_queries
):
    url = reverse("coveragesnapshot-list")
    clients = [api_client_for(make_user(kind)) for kind in ("contact", "coord_nat")]
    snapshot_everywhere(target, places, D(2024, 1, 31))  # a row at every level
    measured = []
    for client in clients:
        client.get(url)  # the user's scope is read once per user
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        measured.append(len(few.captured_queries))

    municipalities = list(Municipality.objects.values_list("pk", flat=True)[:40])
    for day in (D(2024, 2, 29), D(2024, 3, 31)):
        for place in places.values():
            snap(target, day, place, 2)
        for pk in municipalities:
            snap(target, day, (Level.MUNICIPALITY, pk), 3)
    for client, n in zip(clients, measured, strict=True):
        with django_assert_max_num_queries(n):
            response = client.get(url)
        assert response.json()["count"] > len(places)


def test_snapshot_list_query_count_is_bounded(
    make_user, target, places, django_assert_max_num_queries
):
    for day in (D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31)):
        snapshot_everywhere(target, places, day)
    client = api_client_for(make_user("coord_nat"))
    client.get(reverse("coveragesnapshot-list"))
    # count, page (with the target), scope options (regions, areas, counties), the names
    # of the municipalities on the page.
    with django_assert_max_num_queries(6):
        rows = client.get(reverse("coveragesnapshot-list")).json()["results"]
    assert all(row["scope_name"] for row in rows)


# --- recomputation and jobs -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["coord_area", "coord_nat", "directorate", "admin"])
def test_recompute_queues_a_job(make_user, kind):
    user = make_user(kind)
    response = api_client_for(user).post(
        reverse("coveragetarget-recompute"), {"targets": [CODE]}, format="json"
    )
    assert response.status_code == 202, response.json()
    data = response.json()
    job = Job.objects.get(pk=data["job"])
    assert data["url"] == f"/api/v1/jobs/{job.pk}/"
    assert response["Location"].endswith(data["url"])
    assert data["state"] == "queued"  # the task is sent when the transaction commits
    assert job.kind == Job.Kind.COVERAGE_RECOMPUTE and job.created_by == user
    assert job.params["targets"] == [CODE]


def test_recompute_is_not_for_contacts(make_user):
    response = api_client_for(make_user("contact")).post(
        reverse("coveragetarget-recompute"), {}, format="json"
    )
    assert response.status_code == 403
    assert "administrator" in response.json()["detail"]  # says who may
    assert not Job.objects.exists()


def test_recompute_names_an_unknown_target(make_user):
    response = api_client_for(make_user("coord_nat")).post(
        reverse("coveragetarget-recompute"), {"targets": [CODE, "finnes-ikke"]}, format="json"
    )
    assert response.status_code == 400
    assert "finnes-ikke" in response.json()["targets"][0]
    assert not Job.objects.exists()


def test_recompute_rejects_a_bad_date(make_user):
    response = api_client_for(make_user("coord_nat")).post(
        reverse("coveragetarget-recompute"), {"day": "i går"}, format="json"
    )
    assert response.status_code == 400 and "day" in response.json()


def test_recompute_through_the_api_writes_snapshots(
    make_user, target, org_bergen, org_tromso, django_capture_on_commit_callbacks
):
    rollout_services.status_change(
        user=SYSTEM_USER,
        organisation=org_bergen,
        solution=target.solution,
        to_status="i_bruk",
        effective_date=D(2024, 1, 15),
        override_reason="Test",
    )
    user = make_user("coord_area")
    client = api_client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("coveragetarget-recompute"),
            {"targets": [CODE], "day": "2024-06-30"},
            format="json",
        )
    assert response.status_code == 202
    job = client.get(response.json()["url"]).json()
    assert job["state"] == "done" and job["is_finished"] is True
    assert job["progress"] == 1.0 and job["done"] == job["total"] == 1
    assert job["result"]["targets"] == [CODE] and job["result"]["snapshots"] > 0
    assert job["created_by"] == user.username

    national = CoverageSnapshot.objects.get(
        target=target, day=D(2024, 6, 30), level=Level.NATION, scope_id=0
    )
    assert (national.numerator, national.denominator) == coverage.independent_count(target)
    assert national.numerator >= 1
    data = client.get(reverse("coveragetarget-detail", args=[CODE])).json()
    assert data["national"]["day"] == "2024-06-30"
    assert data["national"]["numerator"] == national.numerator


def history_since(day, organisation, target):
    """Status history for the target's solution that begins on `day`."""
    rollout_services.status_change(
        user=SYSTEM_USER,
        organisation=organisation,
        solution=target.solution,
        to_status="i_bruk",
        effective_date=day,
        override_reason="Test",
    )


def test_backfill_through_the_api(
    make_user, target, org_bergen, django_capture_on_commit_callbacks
):
    history_since(D(2024, 1, 1), org_bergen, target)
    client = api_client_for(make_user("directorate"))
    url = reverse("coveragetarget-backfill")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"targets": [CODE], "start": "2024-01-01", "end": "2024-03-31", "every": "month"},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == Job.Kind.COVERAGE_BACKFILL and job.state == Job.State.DONE
    days = set(
        CoverageSnapshot.objects.filter(target=target, level=Level.NATION).values_list(
            "day", flat=True
        )
    )
    assert days == {D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31)}

    bad = client.post(url, {"every": "year"}, format="json")
    assert bad.status_code == 400 and "every" in bad.json()
    backwards = client.post(url, {"start": "2024-03-01", "end": "2024-01-01"}, format="json")
    assert backwards.status_code == 400 and backwards.json()["start"]
    future = client.post(url, {"end": "2999-01-01"}, format="json")
    assert future.status_code == 400 and future.json()["end"]


def test_backfill_is_bounded(
    make_user, target, org_bergen, settings, django_capture_on_commit_callbacks
):
    """The unbounded back-fill of the issue: from year 1, every day, run in the request."""
    history_since(D(2024, 1, 1), org_bergen, target)
    client = api_client_for(make_user("coord_nat"))
    url = reverse("coveragetarget-backfill")

    def post(**body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"targets": [CODE], **body}, format="json")

    from_year_one = post(start="0001-01-01", every="day")
    assert from_year_one.status_code == 400
    assert "2024-01-01" in from_year_one.json()["start"][0]  # where the history begins
    before_history = post(start="2023-12-31", end="2024-01-31", every="day")
    assert before_history.status_code == 400 and before_history.json()["start"]
    future = post(start="2024-01-01", end=(services.rollout_today() + D.resolution).isoformat())
    assert future.status_code == 400 and future.json()["end"]
    ends_before_history = post(end="0001-01-01")  # would run a job that computes nothing
    assert ends_before_history.status_code == 400
    assert "2024-01-01" in ends_before_history.json()["end"][0]

    settings.COVERAGE_BACKFILL_MAX_DAYS = 60
    too_many = post(start="2024-01-01", end="2024-03-31", every="day")  # 91 days
    assert too_many.status_code == 400
    message = too_many.json()["start"][0]
    assert "91" in message and "60" in message and "COVERAGE_BACKFILL_MAX_DAYS" in message
    # Left out, the start is the first day of history: still too many days.
    assert post(end="2024-03-31", every="day").status_code == 400
    # The same range is fine every week (14 snapshot days) or month (3).
    assert post(start="2024-01-01", end="2024-03-31", every="week").status_code == 202
    assert not Job.objects.filter(state=Job.State.FAILED).exists()
    assert Job.objects.filter(kind=Job.Kind.COVERAGE_BACKFILL).count() == 1

    valid = post(start="2024-01-01", end="2024-02-29", every="day")  # 60 days
    assert valid.status_code == 202, valid.json()
    job = Job.objects.get(pk=valid.json()["job"])
    assert job.state == Job.State.DONE
    days = CoverageSnapshot.objects.filter(target=target, level=Level.NATION, day__month=2)
    assert days.count() == 29


def test_backfill_without_history_takes_no_start(make_user, target):
    client = api_client_for(make_user("coord_nat"))
    url = reverse("coveragetarget-backfill")
    refused = client.post(url, {"targets": [CODE], "start": "2024-01-01"}, format="json")
    assert refused.status_code == 400 and refused.json()["start"]
    assert client.post(url, {"targets": [CODE]}, format="json").status_code == 202


def test_a_job_too_long_fails_when_run(target, org_bergen, settings):
    """Jobs made without asking (commands) or whose history grew meanwhile are held to
    the limit too."""
    history_since(D(2024, 1, 1), org_bergen, target)
    settings.COVERAGE_BACKFILL_MAX_DAYS = 10
    job = Job.objects.create(
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": [CODE], "every": "day", "start": None, "end": "2024-03-31"},
    )
    services.coverage_job_run(job)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "COVERAGE_BACKFILL_MAX_DAYS" in job.message
    assert CODE in job.result["failed"]
    assert not CoverageSnapshot.objects.filter(target=target).exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2023, 1, 15), D(2023, 4, 10)),
        (D(2024, 1, 31), D(2024, 2, 29)),
        (D(2024, 3, 3), D(2024, 3, 3)),  # a Sunday
        (D(2024, 3, 4), D(2024, 3, 9)),  # no Sunday
        (D(2020, 2, 29), D(2024, 12, 31)),
        (D(2024, 5, 1), D(2024, 4, 30)),
    ],
)
@pytest.mark.parametrize("every", ["day", "week", "month"])
def test_backfill_day_count_matches_the_days(start, end, every):
    assert services.backfill_day_count(start, end, every) == len(
        services.backfill_days(start, end, every)
    )


def test_backfill_is_not_for_contacts(make_user):
    response = api_client_for(make_user("contact")).post(
        reverse("coveragetarget-backfill"), {}, format="json"
    )
    assert response.status_code == 403


def test_jobs_for_their_creator_and_those_who_share_them(make_user):
    creator = make_user("coord_area")
    response = api_client_for(creator).post(reverse("coveragetarget-recompute"), {}, format="json")
    job_id = response.json()["job"]
    url = reverse("job-detail", args=[job_id])

    data = api_client_for(creator).get(url).json()
    assert data["id"] == job_id
    assert data["kind"] == "coverage_recompute" and data["kind_label"]
    assert data["state"] == "queued" and data["state_label"]
    assert data["progress"] == 0.0 and data["is_finished"] is False
    assert data["started_at"] is None and data["finished_at"] is None
    assert "day" in data["params"]
    listed = api_client_for(creator).get(reverse("job-list")).json()["results"]
    assert [j["id"] for j in listed] == [job_id]

    # Coverage jobs are shared with those who may start them; a contact never sees them.
    assert api_client_for(make_user("coord_nat")).get(url).status_code == 200
    contact = api_client_for(make_user("contact"))
    assert contact.get(url).status_code == 404
    assert contact.get(reverse("job-list")).json()["results"] == []


def test_a_contacts_own_job_is_theirs(make_user):
    contact = make_user("contact")
    job = Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, created_by=contact)
    assert api_client_for(contact).get(reverse("job-detail", args=[job.pk])).status_code == 200
    other = make_user("coord_area")
    private = Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, created_by=other)
    url = reverse("job-detail", args=[private.pk])
    assert api_client_for(contact).get(url).status_code == 404


# --- who may ----------------------------------------------------------------------------


def _routes(job_id):
    return [
        ("get", reverse("coveragetarget-list")),
        ("get", reverse("coveragetarget-detail", args=[CODE])),
        ("get", reverse("coveragetarget-forecast", args=[CODE])),
        ("post", reverse("coveragetarget-recompute")),
        ("post", reverse("coveragetarget-backfill")),
        ("get", reverse("coveragesnapshot-list")),
        ("get", reverse("job-list")),
        ("get", reverse("job-detail", args=[job_id])),
    ]


def test_users_without_a_role_get_403_everywhere(make_user, target, places):
    user = make_user("norole")
    snapshot_everywhere(target, places)
    job = Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, created_by=user)
    client = api_client_for(user)
    for method, url in _routes(job.pk):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
        assert "administrator" in response.json()["detail"]  # who to ask for a role
    anonymous = api_client_for(None)
    for method, url in _routes(job.pk):
        assert getattr(anonymous, method)(url, {}, format="json").status_code == 401
    assert not Job.objects.exclude(pk=job.pk).exists()
