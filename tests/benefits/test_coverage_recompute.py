"""Issue 17, the coverage jobs at scale: today's figures come from the current statuses in one
grouped query for every target, earlier days from the history in one pass per target, and
only the days whose figures changed are written. The figures stay the ones the history
gives day by day (`coverage.compute` for one day at a time), across registry changes and
the 2024 structure change, and the recomputation's query count does not grow with the
registry or the days it covers."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actors.models import Job
from actors.scoping import SYSTEM_USER
from benefits import coverage, services
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.models import Solution
from rollout.services import status_change
from tests.factories import OrganisationFactory
from tests.test_coverage_structure import (  # noqa: F401 (the fixture)
    change_the_registry,
    history,
    municipality,
    stored,
)

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = timezone.localdate()


def run(kind: str, **params) -> Job:
    job = services.coverage_job_request(user=SYSTEM_USER, kind=kind, params=params)
    services.coverage_job_run(job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.message
    return job


def snapshots(days) -> dict:
    """{(target code, day): {(level, scope id): (numerator, denominator)}} as stored."""
    out: dict = {}
    for code, day, level, scope, num, den in CoverageSnapshot.objects.filter(
        day__in=list(days)
    ).values_list("target__code", "day", "level", "scope_id", "numerator", "denominator"):
        out.setdefault((code, day), {})[(level, scope)] = (num, den)
    return out


def day_by_day(days) -> dict:
    """The same from the history, one day and one target at a time."""
    return {
        (target.code, day): coverage.compute(target, [day])[day]
        for target in CoverageTarget.objects.filter(is_active=True)
        for day in days
    }


def daily(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def test_the_jobs_store_what_the_history_gives_day_by_day(stored):  # noqa: F811
    admin, orgs, _before = stored
    change_the_registry(admin, orgs)  # today: two move to Tromsø, one closes
    history(
        (orgs["tromso_home"], "kjernejournal", "i_bruk", TODAY - datetime.timedelta(days=3)),
        (orgs["bergen_gp"], "e-multidose", "stanset", TODAY - datetime.timedelta(days=1)),
    )
    # Across the 2024 structure change (Haram split from Ålesund) and up to today, with
    # the registry changed since every one of these days (replayed from its versions).
    around_2024 = daily(D(2023, 12, 25), D(2024, 1, 6))
    recent = daily(TODAY - datetime.timedelta(days=9), TODAY)
    run("coverage_backfill", start=around_2024[0].isoformat(), end=around_2024[-1].isoformat(),
        every="day")  # fmt: skip
    run("coverage_backfill", start=recent[0].isoformat(), every="day")
    assert snapshots(around_2024 + recent) == day_by_day(around_2024 + recent)
    # Today's figures, read from the current statuses, are the history's too.
    gp_target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    assert snapshots([TODAY])[(gp_target.code, TODAY)][(Level.NATION, 0)] == (
        coverage.independent_count(gp_target)
    )
    tromso = municipality("5501").pk
    assert snapshots([TODAY])[("kjernejournal-plo", TODAY)][(Level.MUNICIPALITY, tromso)] == (
        1,
        1,
    )


def test_a_rerun_rewrites_only_the_days_whose_figures_changed(stored):  # noqa: F811
    admin, orgs, _before = stored
    days = daily(TODAY - datetime.timedelta(days=20), TODAY)
    run("coverage_backfill", start=days[0].isoformat(), every="day")
    rows = dict(CoverageSnapshot.objects.filter(day__in=days).values_list("pk", "numerator"))
    office = OrganisationFactory(municipality=municipality("5501"), type=orgs["bergen_gp"].type)
    changed_on = TODAY - datetime.timedelta(days=5)
    history((office, "e-multidose", "i_bruk", changed_on))
    change_the_registry(admin, orgs)  # today: places and cells that no longer exist
    run("coverage_backfill", start=days[0].isoformat(), every="day")
    assert snapshots(days) == day_by_day(days)
    gp_target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    kept = CoverageSnapshot.objects.filter(pk__in=rows)
    # The days before the change kept their rows; the GP target's days since were written
    # again; the other targets' days changed only today (the registry change).
    assert set(kept.filter(day__lt=changed_on).values_list("day", flat=True)) == {
        d for d in days if d < changed_on
    }
    assert not kept.filter(target=gp_target, day__gte=changed_on).exists()
    assert not kept.filter(day=TODAY, target__code="kjernejournal-plo").exists()
    # Bergen's only GP office moved to Tromsø today: Bergen is no longer a GP-target place.
    bergen = municipality("4601").pk
    assert (Level.MUNICIPALITY, bergen) in snapshots([days[-2]])[(gp_target.code, days[-2])]
    assert (Level.MUNICIPALITY, bergen) not in snapshots([TODAY])[(gp_target.code, TODAY)]


def test_a_deleted_target_takes_its_snapshots_along(stored):  # noqa: F811
    """The snapshots have no foreign-key constraint in the database (benefits 0011: the
    check cost a quarter of a back-fill); a target deleted through Django still removes
    its figures, and nothing else's."""
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    run("coverage_backfill", start=(TODAY - datetime.timedelta(days=3)).isoformat(), every="day")
    others = CoverageSnapshot.objects.exclude(target=target).count()
    assert CoverageSnapshot.objects.filter(target=target).exists() and others
    target.delete()
    assert not CoverageSnapshot.objects.filter(target_id=target.pk).exists()
    assert CoverageSnapshot.objects.count() == others


def test_a_failing_target_in_a_recomputation_for_today_leaves_the_others(
    stored,  # noqa: F811
    monkeypatch,
):
    real = services.snapshots_store

    def store(target, values, *stored):
        if target.code == "kjernejournal-plo":
            raise ValueError("new row violates check constraint")
        return real(target, values, *stored)

    monkeypatch.setattr("benefits.services.coverage_jobs.snapshots_store", store)
    job = services.coverage_job_request(user=SYSTEM_USER, kind="coverage_recompute", params={})
    services.coverage_job_run(job)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and set(job.result["failed"]) == {"kjernejournal-plo"}
    stored_codes = set(
        CoverageSnapshot.objects.filter(day=TODAY).values_list("target__code", flat=True)
    )
    active = set(CoverageTarget.objects.filter(is_active=True).values_list("code", flat=True))
    assert stored_codes == active - {"kjernejournal-plo"}
    assert job.done == job.total == len(active)


def recompute_queries(**params) -> int:
    job = Job.objects.create(
        kind=Job.Kind.COVERAGE_RECOMPUTE, params={"day": TODAY.isoformat(), **params}
    )
    with CaptureQueriesContext(connection) as queries:
        services.coverage_job_run(job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.message
    return len(queries)


def test_the_recomputation_query_count_does_not_grow_with_the_registry_or_the_days(
    stored,  # noqa: F811
):
    admin, orgs, _before = stored
    solution = Solution.objects.get(code="e-multidose")

    def add_offices(count: int) -> None:
        for n in range(count):
            number = ["4601", "5501", "1103", "3905"][n % 4]
            office = OrganisationFactory(
                municipality=municipality(number), type=orgs["bergen_gp"].type
            )
            status_change(
                user=SYSTEM_USER,
                organisation=office,
                solution=solution,
                to_status="i_bruk" if n % 2 else "planlegging",
            )

    change_the_registry(admin, orgs)  # organisations replayed from their versions
    recompute_queries()  # stores today
    add_offices(1)
    small = recompute_queries()  # the GP target's figures changed: it is written again
    small_unchanged = recompute_queries()
    add_offices(20)
    assert recompute_queries() == small
    assert recompute_queries() == small_unchanged
    # With a change dated in the past, every stored day since is recomputed, in one pass.
    days = daily(TODAY - datetime.timedelta(days=30), TODAY - datetime.timedelta(days=1))
    run("coverage_backfill", start=days[0].isoformat(), end=days[-1].isoformat(), every="week")
    few = recompute_queries(since=days[-10].isoformat())
    many = recompute_queries(since=days[0].isoformat())
    assert few == many
    weekly = services.backfill_days(days[0], days[-1], "week")
    assert snapshots(weekly) == day_by_day(weekly)
