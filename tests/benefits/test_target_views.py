"""The result-target dashboard and target pages: what each role sees, scoping of places
and of who is missing, query counts, starting a recomputation and following its job."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from actors.models import Job, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import services
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.models import Solution
from rollout.services import HistoryEntry, status_history_load
from tests.conftest import client_for
from tests.factories import OrganisationFactory

D = datetime.date
TODAY = timezone.localdate()
DASHBOARD = reverse("benefits:target_dashboard")


def detail(code="e-multidose-legekontor"):
    return reverse("benefits:target_detail", args=[code])


def gp(number, name, **extra):
    return OrganisationFactory(
        municipality__number=number,
        name=name,
        type=OrganisationType.objects.get(code="fastlegekontor"),
        **extra,
    )


def backfill(every="month", start=None):
    job = services.coverage_job_request(
        user=SYSTEM_USER,
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"every": every, "start": start},
    )
    return services.coverage_job_run(job)


@pytest.fixture
def registry(db):
    """GP offices in Bergen and Tromsø; some have e-multidose in use since 2024."""
    bergen = [gp("4601", f"Bergen lege {i}") for i in range(4)]
    tromso = [gp("5501", f"Tromsø lege {i}") for i in range(2)]
    multidose = Solution.objects.get(code="e-multidose")
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(bergen[0].pk, multidose.pk, "i_bruk", D(2024, 2, 1)),
            HistoryEntry(bergen[1].pk, multidose.pk, "i_bruk", D(2024, 9, 1)),
            HistoryEntry(bergen[2].pk, multidose.pk, "blokkert", D(2025, 1, 1), "Venter på EPJ"),
            HistoryEntry(tromso[0].pk, multidose.pk, "i_bruk", D(2025, 3, 1)),
        ],
    )
    backfill()
    return {"bergen": bergen, "tromso": tromso}


def test_the_directorate_starts_on_the_dashboard(make_user):
    response = client_for(make_user("directorate")).get(reverse("actors:home"))
    assert response.status_code == 302 and response.url == DASHBOARD


def test_dashboard_shows_every_target_with_figures_and_verdict(registry, make_user):
    response = client_for(make_user("directorate")).get(DASHBOARD)
    assert response.status_code == 200
    page = response.content.decode()
    for target in CoverageTarget.objects.filter(is_active=True):
        assert target.name in page
    cards = {c["status"].target.code: c["status"] for c in response.context["cards"]}
    multidose = cards["e-multidose-legekontor"]
    assert multidose.latest[1:] == (3, 6)
    # The deadline (2024) has passed below the threshold.
    assert multidose.forecast.verdict == "off_track"
    assert response.context["chosen"].key == "nation"


def test_coordinators_default_to_their_area_and_contacts_to_theirs(registry, make_user):
    response = client_for(make_user("coord_area")).get(DASHBOARD)
    assert response.context["chosen"].key == "area:helse-bergen"
    keys = {o.key for o in response.context["options"]}
    assert "area:unn" not in keys and "nation" in keys
    card = next(
        c["status"]
        for c in response.context["cards"]
        if c["status"].target.code == "e-multidose-legekontor"
    )
    assert card.latest[1:] == (2, 4)
    contact = client_for(make_user("contact"))
    response = contact.get(DASHBOARD)
    assert response.context["chosen"].key == "area:helse-bergen"
    assert "municipality:4601" in {o.key for o in response.context["options"]}
    assert contact.get(DASHBOARD, {"scope": "municipality:5501"}).status_code == 404
    assert contact.get(DASHBOARD, {"scope": "area:unn"}).status_code == 404
    assert contact.get(detail(), {"scope": "county:55"}).status_code == 404
    assert contact.get(DASHBOARD, {"scope": "county:46"}).status_code == 200


def test_no_role_sees_no_targets(make_user):
    response = client_for(make_user("norole")).get(DASHBOARD)
    assert response.status_code == 302 and response["Location"] == "/ingen-tilgang/"


def test_detail_lists_exactly_who_is_missing_within_reach(registry, make_user):
    response = client_for(make_user("directorate")).get(detail())
    assert response.status_code == 200
    missing = {o.name for o in response.context["page"]}
    assert missing == {"Bergen lege 2", "Bergen lege 3", "Tromsø lege 1"}
    page = response.content.decode()
    assert "Venter på EPJ" in page  # the blocking reason
    contact = client_for(make_user("contact")).get(detail(), {"scope": "area:helse-bergen"})
    assert {o.name for o in contact.context["page"]} == {"Bergen lege 2", "Bergen lege 3"}
    assert "Tromsø lege 1" not in contact.content.decode()
    # The breakdown only names places within reach, largest gap first.
    areas = [r.scope.key for r in contact.context["areas"]]
    assert areas == ["area:helse-bergen"]
    # Bergen misses 2 to reach 80 % of 4, Tromsø 1 of 2: the largest gap comes first.
    national = [(r.scope.key, r.gap) for r in response.context["areas"]]
    assert national == [("area:helse-bergen", 2), ("area:unn", 1)]


def test_detail_of_a_municipality_target_lists_municipalities_and_their_gaps(db, make_user):
    home = OrganisationFactory(
        municipality__number="4601", type=OrganisationType.objects.get(code="sykehjem")
    )
    OrganisationFactory(
        municipality__number="4601",
        type=OrganisationType.objects.get(code="hjemmetjeneste"),
        name="Hjemmetjenesten i Bergen",
    )
    kj = Solution.objects.get(code="kjernejournal")
    status_history_load(
        user=SYSTEM_USER, changes=[HistoryEntry(home.pk, kj.pk, "i_bruk", D(2025, 1, 1))]
    )
    backfill()
    response = client_for(make_user("contact")).get(
        detail("kjernejournal-plo"), {"scope": "municipality:4601"}
    )
    (gap,) = response.context["page"]
    assert gap.municipality.number == "4601"
    assert (gap.cell.achieved, gap.cell.relevant) == (1, 2)
    assert [o.name for o in gap.missing] == ["Hjemmetjenesten i Bergen"]


def test_per_area_targets_get_a_forecast_per_area(registry, make_user):
    pll = CoverageTarget.objects.get(code="pll-prioriterte-aktorer")
    assert pll.per_area
    response = client_for(make_user("directorate")).get(detail(pll.code))
    rows = response.context["areas"]
    assert {r.scope.key for r in rows} == {"area:helse-bergen", "area:unn"}
    assert all(r.forecast is not None for r in rows)
    assert "verdict-badge" in response.content.decode()


def test_dashboard_query_count_does_not_grow(db, make_user, django_assert_max_num_queries):
    directorate = make_user("directorate")
    client = client_for(directorate)
    multidose = Solution.objects.get(code="e-multidose")
    first = HistoryEntry(gp("4601", "Lege").pk, multidose.pk, "i_bruk", D(2026, 1, 1))
    status_history_load(user=SYSTEM_USER, changes=[first])  # back-fills start from history
    backfill(start="2026-01-01")
    with django_assert_max_num_queries(20) as few:
        client.get(DASHBOARD)
    for i in range(30):
        gp("4601", f"Lege {i}")
    backfill(every="day", start="2026-06-01")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(DASHBOARD)


def test_detail_query_count_does_not_grow(registry, make_user, django_assert_max_num_queries):
    client = client_for(make_user("directorate"))
    with django_assert_max_num_queries(30) as few:
        client.get(detail())
    for i in range(40):
        gp("5501", f"Ny lege {i}")
    backfill()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(detail())


def test_recompute_from_the_page(registry, make_user, django_capture_on_commit_callbacks):
    coordinator = client_for(make_user("coord_area"))
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            reverse("benefits:target_recompute"),
            {"kind": "recompute", "targets": "e-multidose-legekontor", "next": detail()},
        )
    assert response.status_code == 302 and response.url == detail()
    job = Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE, created_by__isnull=False).get()
    assert job.state == Job.State.DONE and job.created_by.username == "coord_area"
    assert CoverageSnapshot.objects.filter(
        target__code="e-multidose-legekontor", day=TODAY, level=Level.NATION
    ).exists()
    page = coordinator.get(detail()).content.decode()
    assert f'id="job-{job.pk}"' in page
    contact = client_for(make_user("contact"))
    assert contact.post(reverse("benefits:target_recompute"), {}).status_code == 403
    # The job fragment: for those who may start such jobs; not for a contact.
    fragment = coordinator.get(reverse("actors:job_status", args=[job.pk]))
    assert fragment.status_code == 200 and "hx-get" not in fragment.content.decode()
    assert contact.get(reverse("actors:job_status", args=[job.pk])).status_code == 404


def test_a_running_job_is_polled(db, make_user):
    job = Job.objects.create(kind=Job.Kind.COVERAGE_BACKFILL, total=10, done=4)
    job.state = Job.State.RUNNING
    job.save()
    html = (
        client_for(make_user("directorate"))
        .get(reverse("actors:job_status", args=[job.pk]))
        .content.decode()
    )
    assert 'hx-trigger="every 2s"' in html and 'value="0.4"' in html


def test_a_bad_recompute_request_says_what_is_wrong(db, make_user):
    response = client_for(make_user("directorate")).post(
        reverse("benefits:target_recompute"), {"targets": "no-such-target"}, follow=True
    )
    assert "no-such-target" in response.content.decode()
    assert not Job.objects.exists()


def test_an_administrator_changes_a_target_and_its_history_is_rebuilt(
    registry, make_user, django_capture_on_commit_callbacks
):
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    old = CoverageSnapshot.objects.filter(target=target, level=Level.NATION).latest("day")
    assert (old.numerator, old.denominator) == (3, 6)
    data = {
        "code": target.code,
        "name": target.name,
        "description": target.description,
        "source": target.source,
        "solution": target.solution_id,
        "unit": target.unit,
        "organisation_types": list(target.organisation_types.values_list("pk", flat=True)),
        "achieved_statuses": ["blokkert", "i_bruk"],
        "denominator": target.denominator,
        "municipality_rule": target.municipality_rule,
        "threshold": "80",
        "deadline": "2024-12-31",
        "sort_order": target.sort_order,
        "is_active": "on",
        "change_reason": "Blokkerte teller med i overgangen",
    }
    admin = client_for(make_user("admin"))
    url = reverse("admin:benefits_coveragetarget_change", args=[target.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    # ticked statuses are stored in the display order; the percentage as a share
    assert target.version == 2 and target.achieved_statuses == ["i_bruk", "blokkert"]
    assert target.threshold == Decimal("0.800")
    latest = CoverageSnapshot.objects.filter(target=target, level=Level.NATION).latest("day")
    assert (latest.day, latest.numerator, latest.denominator) == (TODAY, 4, 6)
    job = Job.objects.filter(kind=Job.Kind.COVERAGE_BACKFILL).latest("id")
    assert job.created_by.username == "admin" and job.state == Job.State.DONE
    from rollout.models import ChangeLogEntry

    entry = ChangeLogEntry.objects.get(subject=target.code)
    assert entry.kind == "resultatmal" and entry.reason == "Blokkerte teller med i overgangen"
    page = admin.get(url).content.decode()
    assert 'type="checkbox" name="achieved_statuses" value="i_bruk"' in page
    assert 'name="threshold" value="80"' in page
    data["achieved_statuses"] = ["flying"]
    response = admin.post(url, data)
    assert response.status_code == 200 and "flying" in response.content.decode()
    data["achieved_statuses"], data["threshold"] = ["i_bruk"], "80,5"
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(url, data).status_code == 302
    target.refresh_from_db()
    assert target.threshold == Decimal("0.805") and target.achieved_statuses == ["i_bruk"]
    data["threshold"] = "0,05"
    response = admin.post(url, data)
    assert response.status_code == 200 and 'name="threshold" value="0,05"' in (
        response.content.decode()
    )


def test_a_coordinator_of_one_oslo_area_sees_only_its_own_oslo_organisations(db, make_user):
    from actors.models import HealthTrust

    types = {t.code: t for t in OrganisationType.objects.filter(code__in=["sykehjem"])}
    ous = HealthTrust.objects.get(code="oslo-universitetssykehus")
    ahus = HealthTrust.objects.get(code="akershus-universitetssykehus")
    OrganisationFactory(
        municipality__number="0301", type=types["sykehjem"], name="OUS-hjem", health_trust=ous
    )
    OrganisationFactory(
        municipality__number="0301", type=types["sykehjem"], name="Ahus-hjem", health_trust=ahus
    )
    backfill()
    coordinator = make_user("coord_area", health_trusts=["akershus-universitetssykehus"])
    response = client_for(coordinator).get(
        detail("kjernejournal-plo"), {"scope": "municipality:0301"}
    )
    assert response.status_code == 200
    (gap,) = response.context["page"]
    assert [o.name for o in gap.missing] == ["Ahus-hjem"]
    assert "OUS-hjem" not in response.content.decode()


def test_recompute_only_goes_back_to_this_site(db, make_user):
    response = client_for(make_user("directorate")).post(
        reverse("benefits:target_recompute"), {"next": "//evil.example/"}
    )
    assert response.status_code == 302 and response.url == DASHBOARD
