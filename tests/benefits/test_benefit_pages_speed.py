"""The benefit register and the benefit overview read their heavy figures (organisations using
each benefit's solutions, who started without a baseline) from the cache of counted
figures (rollout.selectors.cached_figures, issue 17): the figures are those counted one by
one, for every reach, and every kind of change shows at once."""

import datetime
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from actors.models import Organisation
from actors.services import coverage_changed
from benefits import selectors
from benefits import services as benefit_services
from benefits.choices import MeasurementKind, ReportStatus
from benefits.models import Benefit, BenefitGoal, BenefitReport
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.benefits.test_services import report
from tests.conftest import client_for
from tests.factories import OrganisationFactory
from tests.rollout.test_matrix_cache import committing, settle  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
D = datetime.date
KJ, PLL = "kjernejournal", "pll"
STARTED = (Status.TRIAL, Status.IN_USE)
# What the grouped counts look like in SQL: counted afresh, not read from the cache.
IN_USE_COUNT = "per_organisation"
STARTS_COUNT = "ROW_NUMBER()"


def start(user, organisation, code, status, day):
    rollout_services.status_change(
        user=user,
        organisation=organisation,
        solution=Solution.objects.get(code=code),
        to_status=status,
        effective_date=day,
        override_reason="test",
    )


def baseline(user, benefit, organisation, end):
    """A submitted baseline of the organisation for the benefit."""
    return report(user, benefit, organisation, MeasurementKind.BASELINE, end, "30")


def review(user, submitted, *, approve):
    benefit_services.benefit_report_review(
        user=user,
        report_id=submitted.pk,
        expected_version=submitted.version,
        approve=approve,
        comment="" if approve else "Feil periode",
    )


def benefit(name, codes, required=True):
    b = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"),
        name=name,
        indicator="Minutter",
        unit="min",
        direction="lower",
        owner="Kommunen",
        baseline_required=required,
    )
    b.solutions.set(Solution.objects.filter(code__in=codes))
    return b


@pytest.fixture
def nat(make_user):
    return make_user("coord_nat")


@pytest.fixture
def world(nat, directorate):
    """Three benefits (two need a baseline) and organisations in Bergen and Tromsø that
    started at different days, with baselines in time, too late, returned or none."""
    both, kj = benefit("Begge", [KJ, PLL]), benefit("Bare kjernejournal", [KJ])
    benefit("Uten nullpunkt", [KJ], required=False)
    benefit("Uten løsning", [])  # needs a baseline, but names no solution yet
    o = [OrganisationFactory(municipality__number="4601", name=f"Bergen {i}") for i in range(7)]
    tromso = OrganisationFactory(municipality__number="5501", name="Tromsø 0")
    start(nat, o[0], KJ, Status.IN_USE, D(2022, 1, 1))  # no baseline
    start(nat, o[1], KJ, Status.TRIAL, D(2022, 2, 1))
    start(nat, o[1], KJ, Status.IN_USE, D(2022, 5, 1))  # started in February
    review(directorate, baseline(nat, kj, o[1], D(2022, 1, 15)), approve=True)
    baseline(nat, both, o[1], D(2022, 1, 15))
    start(nat, o[2], PLL, Status.IN_USE, D(2021, 12, 1))
    baseline(nat, both, o[2], D(2022, 3, 1))  # too late
    start(nat, o[3], KJ, Status.IN_USE, D(2022, 1, 1))
    baseline(nat, kj, o[3], D(2022, 1, 1))  # on the day: in time
    start(nat, o[4], KJ, Status.PLANNING, D(2021, 1, 1))  # not started
    start(nat, o[5], KJ, Status.IN_USE, D(2023, 1, 1))
    returned = baseline(nat, kj, o[5], D(2022, 6, 1))  # returned: does not count
    review(directorate, returned, approve=False)
    start(nat, o[6], KJ, Status.IN_USE, D(2021, 11, 1))
    Organisation.objects.filter(pk=o[6].pk).update(is_active=False)  # still listed
    start(nat, tromso, KJ, Status.IN_USE, D(2021, 6, 1))
    early = OrganisationFactory(municipality__number="4601", name="Bergen tidlig")
    start(nat, early, KJ, Status.IN_USE, D(2020, 1, 1))  # the first to start, in time
    baseline(nat, kj, early, D(2019, 12, 1))
    baseline(nat, both, early, D(2019, 12, 1))
    settle()
    return {"both": both, "kj": kj, "bergen": o, "tromso": tromso}


def counted_one_by_one(user, shown):
    """missing_baseline_groups by hand: every history row and report read one by one."""
    visible = set(Organisation.objects.visible_to(user).values_list("pk", flat=True))
    groups = []
    for b in Benefit.objects.filter(baseline_required=True):
        solutions = {s.pk for s in b.solutions.all()}
        starts, baselines = {}, {}
        for c in StatusChange.objects.all():
            if (
                c.solution_id in solutions
                and c.to_status in STARTED
                and c.organisation_id in visible
            ):
                starts[c.organisation_id] = min(
                    starts.get(c.organisation_id, c.effective_date), c.effective_date
                )
        for r in BenefitReport.objects.filter(benefit=b):
            counts = r.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED)
            if r.kind == MeasurementKind.BASELINE and r.organisation_id and counts:
                baselines[r.organisation_id] = min(
                    baselines.get(r.organisation_id, r.period_end), r.period_end
                )
        late = sorted(
            (day, o) for o, day in starts.items() if o not in baselines or baselines[o] > day
        )
        if late:
            rows = [(o, day, baselines.get(o)) for day, o in late[:shown]]
            groups.append((b.pk, len(late), rows))
    return groups


def shown(groups):
    return [
        (
            g["benefit"].pk,
            g["count"],
            [(r["organisation"].pk, r["start"], r["baseline"]) for r in g["rows"]],
        )
        for g in groups
    ]


def overview(client):
    """The overview's figures, and whether its counts were counted afresh."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("benefits:overview"))
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    cards = {c["summary"].benefit.pk: c["summary"] for c in response.context["cards"]}
    expected = {
        pk: (s.expected_organisations, s.expected_municipalities) for pk, s in cards.items()
    }
    missing = shown(response.context["missing_groups"])
    return expected, missing, IN_USE_COUNT in sql or STARTS_COUNT in sql


def register(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("benefits:benefit_register"))
    assert response.status_code == 200
    summaries = {b.pk: b.summary for g in response.context["goals"] for b in g.benefits.all()}
    counted = any(IN_USE_COUNT in q["sql"] for q in queries.captured_queries)
    return summaries, counted


def each_on_its_own(user):
    """Each benefit's expected reporters as its own page counts them (benefit_summary)."""
    return {
        b.pk: (s.expected_organisations, s.expected_municipalities)
        for b in Benefit.objects.all()
        for s in [selectors.benefit_summary(b, user)]
    }


@pytest.mark.parametrize("username", ["directorate", "coord_nat", "coord_area", "contact"])
@pytest.mark.parametrize("limit", [1, 2, 25])
def test_who_started_without_a_baseline_is_counted_as_one_by_one(world, make_user, username, limit):
    user = make_user(username)
    assert shown(selectors.missing_baseline_groups(user, limit)) == counted_one_by_one(user, limit)


def test_the_late_starts_in_full(world, directorate, make_user):
    o, tromso = world["bergen"], world["tromso"]
    groups = {
        pk: (n, rows) for pk, n, rows in shown(selectors.missing_baseline_groups(directorate, 25))
    }
    assert groups[world["kj"].pk] == (
        4,
        [
            (tromso.pk, D(2021, 6, 1), None),
            (o[6].pk, D(2021, 11, 1), None),
            (o[0].pk, D(2022, 1, 1), None),
            (o[5].pk, D(2023, 1, 1), None),
        ],
    )
    assert groups[world["both"].pk][0] == 6
    assert groups[world["both"].pk][1][2] == (o[2].pk, D(2021, 12, 1), D(2022, 3, 1))
    assert len(groups) == 2  # the benefit that needs no baseline has no list
    assert selectors.missing_baseline_groups(make_user("norole"), 25) == []


@pytest.mark.parametrize("username", ["directorate", "contact", "coord_area"])
def test_the_pages_show_each_benefits_own_figures_from_the_cache(world, make_user, username):
    user = make_user(username)
    client = client_for(user)
    summaries, counted = register(client)
    assert counted
    figures = {
        pk: (s.expected_organisations, s.expected_municipalities) for pk, s in summaries.items()
    }
    assert figures == each_on_its_own(user)
    again, counted = register(client)
    assert not counted  # from the cache
    assert {
        pk: (s.expected_organisations, s.expected_municipalities) for pk, s in again.items()
    } == figures
    expected, missing, counted = overview(client)
    assert expected == figures
    assert missing == counted_one_by_one(user, 25)
    assert overview(client) == (expected, missing, False)


def test_each_scope_has_its_own_figures(world, make_user):
    """A contact in Bergen never gets the figures cached for the whole country, nor the
    reverse, whoever asked first."""
    users = [make_user(name) for name in ("directorate", "contact", "coord_area", "coord_nat")]
    for user in users + users[::-1]:
        expected, missing, _ = overview(client_for(user))
        assert expected == each_on_its_own(user)
        assert missing == counted_one_by_one(user, 25)
    everyone, own = each_on_its_own(users[0]), each_on_its_own(users[1])
    assert everyone != own
    tromso = world["tromso"].pk
    assert tromso in {o for _b, _n, rows in counted_one_by_one(users[0], 25) for o, *_ in rows}
    assert tromso not in {o for _b, _n, rows in overview(client_for(users[1]))[1] for o, *_ in rows}


def test_a_status_change_shows_at_once(world, nat, directorate, committing):  # noqa: F811
    client = client_for(directorate)
    before, missing, _ = overview(client)
    newcomer = OrganisationFactory(municipality__number="4601", name="Bergen ny")
    with committing():
        start(nat, newcomer, KJ, Status.IN_USE, D(2020, 1, 1))
    after, now_missing, counted = overview(client)
    assert counted
    kj = world["kj"].pk
    assert after[kj][0] == before[kj][0] + 1
    assert now_missing == counted_one_by_one(directorate, 25)
    assert now_missing[0][2][0][0] == newcomer.pk or now_missing[1][2][0][0] == newcomer.pk
    assert now_missing != missing


def test_bulk_writes_and_history_imports_show_at_once(world, directorate, committing):  # noqa: F811
    """Imports write with COPY and UPDATE (no save()), then send the coverage signal."""
    client = client_for(directorate)
    before, _, _ = overview(client)
    planned = world["bergen"][4]  # planning, not in use
    kj = Solution.objects.get(code=KJ)
    with committing():
        RolloutStatus.objects.filter(organisation=planned, solution=kj).update(status=Status.IN_USE)
        StatusChange.objects.bulk_create(
            [
                StatusChange(
                    organisation=planned,
                    solution=kj,
                    from_status=Status.PLANNING,
                    to_status=Status.IN_USE,
                    effective_date=D(2020, 6, 1),
                    source="import",
                )
            ]
        )
        coverage_changed()
    after, missing, counted = overview(client)
    assert counted
    assert after[world["kj"].pk][0] == before[world["kj"].pk][0] + 1
    assert missing == counted_one_by_one(directorate, 25)
    assert (planned.pk, D(2020, 6, 1), None) in missing[0][2] + missing[1][2]


def test_an_organisation_leaving_shows_at_once(world, directorate, committing):  # noqa: F811
    client = client_for(directorate)
    before, _, _ = overview(client)
    leaving = Organisation.objects.get(pk=world["bergen"][0].pk)
    leaving.is_active = False
    with committing():
        leaving.save()
    after, _, counted = overview(client)
    assert counted
    assert after[world["kj"].pk][0] == before[world["kj"].pk][0] - 1
    assert after == each_on_its_own(directorate)


def listed(missing, benefit):
    return {o for b, _n, rows in missing if b == benefit.pk for o, _start, _baseline in rows}


def test_baselines_and_a_benefits_solutions_show_at_once(world, nat, directorate):
    """Benefit reports and benefits change no status: the cache's key names what the figures
    were counted with (each benefit's solutions, every baseline), so they show at once."""
    client = client_for(directorate)
    overview(client)
    kj, o = world["kj"], world["bergen"]
    baseline(nat, kj, o[0], D(2021, 12, 1))  # in time for Bergen 0
    expected, missing, _ = overview(client)
    assert missing == counted_one_by_one(directorate, 25)
    assert o[0].pk not in listed(missing, kj)
    kj.solutions.add(Solution.objects.get(code=PLL))  # Bergen 2 started with pll
    expected, missing, _ = overview(client)
    assert expected == each_on_its_own(directorate)
    assert missing == counted_one_by_one(directorate, 25)
    assert o[2].pk in listed(missing, kj)
    Benefit.objects.filter(pk=kj.pk).update(baseline_required=False)
    assert overview(client)[1] == counted_one_by_one(directorate, 25)
    assert kj.pk not in {b for b, _n, _rows in overview(client)[1]}


def test_the_pages_are_counted_when_the_cache_is_down(world, directorate, caplog):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        }
    }
    with override_settings(CACHES=unreachable), caplog.at_level(logging.WARNING):
        client = client_for(directorate)
        expected, missing, counted = overview(client)
        summaries, _ = register(client)
    assert counted
    assert expected == each_on_its_own(directorate)
    assert missing == counted_one_by_one(directorate, 25)
    assert {
        pk: (s.expected_organisations, s.expected_municipalities) for pk, s in summaries.items()
    } == expected
    assert "the cache cannot be read" in caplog.text
