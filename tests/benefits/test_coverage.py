"""Coverage targets: counting rules against hand-built registries, past dates from the
history, idempotent snapshots, debounced recomputation and the forecast."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from actors.models import (
    County,
    HealthTrust,
    Job,
    Municipality,
    OrganisationType,
    RegionalHealthAuthority,
)
from actors.scoping import SYSTEM_USER
from benefits import coverage, services
from benefits.choices import Denominator, Level, MunicipalityRule, TargetUnit, Verdict
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.models import Solution
from rollout.services import HistoryEntry, status_change, status_history_load
from tests.factories import OrganisationFactory

D = datetime.date
TODAY = timezone.localdate()
NATION = (Level.NATION, 0)


def make_target(code="test-target", **fields) -> CoverageTarget:
    types = fields.pop("types", ["fastlegekontor"])
    defaults = {
        "name": code,
        "solution": Solution.objects.get(code="e-multidose"),
        "unit": TargetUnit.ORGANISATIONS,
        "achieved_statuses": ["i_bruk"],
        "denominator": Denominator.RELEVANT,
        "threshold": Decimal("0.8"),
        "deadline": D(2030, 12, 31),
    }
    target = CoverageTarget.objects.create(code=code, **{**defaults, **fields})
    target.organisation_types.set(OrganisationType.objects.filter(code__in=types))
    return target


def org(number="4601", type_code="fastlegekontor", **extra):
    return OrganisationFactory(
        municipality__number=number, type=OrganisationType.objects.get(code=type_code), **extra
    )


def history(*changes):
    """(organisation, solution code, status, date[, reason]) → written through the service."""
    solutions = {s.code: s.pk for s in Solution.objects.all()}
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(o.pk, solutions[code], status, day, *(rest or ["why"]))
            for o, code, status, day, *rest in changes
        ],
    )


def sql_count(target: CoverageTarget) -> tuple[int, int]:
    """An independent count in plain SQL over the current statuses (organisation targets)."""
    types = list(target.organisation_types.values_list("pk", flat=True))
    marks = ",".join(["%s"] * len(types))
    achieved = ",".join(["%s"] * len(target.achieved_statuses))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT
                  SUM(CASE WHEN s.status IN ({achieved}) THEN 1 ELSE 0 END),
                  COUNT(*) - SUM(CASE WHEN s.status = 'ikke_relevant' THEN 1 ELSE 0 END)
                FROM actors_organisation o
                LEFT JOIN rollout_rolloutstatus s
                  ON s.organisation_id = o.id AND s.solution_id = %s
                WHERE o.is_active AND o.type_id IN ({marks})""",
            [*target.achieved_statuses, target.solution_id, *types],
        )
        num, den = cursor.fetchone()
    return num or 0, den or 0


@pytest.fixture
def registry(db):
    """GP offices in Bergen (3), Tromsø (2) and Oslo (one in each of its two areas), one
    inactive, with e-multidose histories since 2022."""
    bergen = [org("4601", name=f"Bergen {i}") for i in range(3)]
    tromso = [org("5501", name=f"Tromsø {i}") for i in range(2)]
    oslo_ous = org("0301", health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"))
    oslo_ahus = org(
        "0301", health_trust=HealthTrust.objects.get(code="akershus-universitetssykehus")
    )
    inactive = org("4601", name="Nedlagt", is_active=False)
    history(
        (bergen[0], "e-multidose", "i_bruk", D(2022, 3, 1)),
        (bergen[1], "e-multidose", "planlegging", D(2022, 5, 1)),
        (bergen[1], "e-multidose", "i_bruk", D(2023, 6, 1)),
        (bergen[2], "e-multidose", "ikke_relevant", D(2022, 1, 10), "ingen multidosepasienter"),
        (tromso[0], "e-multidose", "i_bruk", D(2023, 1, 1)),
        (tromso[0], "e-multidose", "stanset", D(2024, 2, 1), "byttet leverandør"),
        (oslo_ous, "e-multidose", "i_bruk", D(2024, 4, 1)),
        (oslo_ahus, "e-multidose", "i_utproving", D(2024, 4, 1)),
        (inactive, "e-multidose", "i_bruk", D(2022, 1, 1)),
    )
    return {"bergen": bergen, "tromso": tromso, "ous": oslo_ous, "ahus": oslo_ahus}


def values_on(target, day):
    return coverage.compute(target, [day])[day]


def test_organisation_target_counts_by_the_rules(registry):
    target = make_target()
    v = values_on(target, TODAY)
    # In use: Bergen 0 and 1, Oslo OUS = 3. Denominator: 7 active − 1 not relevant = 6.
    assert v[NATION] == (3, 6)
    assert v[NATION] == sql_count(target) == coverage.independent_count(target)
    trust = {t.code: t.pk for t in HealthTrust.objects.all()}
    assert v[(Level.AREA, trust["helse-bergen"])] == (2, 2)
    assert v[(Level.AREA, trust["unn"])] == (0, 2)
    # Oslo's organisations count in their own area each, and both in the municipality.
    assert v[(Level.AREA, trust["oslo-universitetssykehus"])] == (1, 1)
    assert v[(Level.AREA, trust["akershus-universitetssykehus"])] == (0, 1)
    oslo = Municipality.objects.get(number="0301")
    assert v[(Level.MUNICIPALITY, oslo.pk)] == (1, 2)
    assert v[(Level.COUNTY, County.objects.get(number="03").pk)] == (1, 2)
    vest = RegionalHealthAuthority.objects.get(code="helse-vest")
    assert v[(Level.REGION, vest.pk)] == (2, 2)
    # Levels add up to the nation.
    assert sum(n for (lvl, _), (n, _d) in v.items() if lvl == Level.AREA) == 3
    assert sum(d for (lvl, _), (_n, d) in v.items() if lvl == Level.COUNTY) == 6


def test_all_denominator_keeps_not_relevant_and_trial_can_count(registry):
    target = make_target(denominator=Denominator.ALL, achieved_statuses=["i_utproving", "i_bruk"])
    assert values_on(target, TODAY)[NATION] == (4, 7)
    assert values_on(target, TODAY)[NATION] == coverage.independent_count(target)


def test_past_days_come_from_the_history(registry):
    target = make_target()
    series = coverage.compute(target, [D(2021, 12, 31), D(2022, 6, 30), D(2023, 12, 31), TODAY])
    assert series[D(2021, 12, 31)][NATION] == (0, 7)
    # 2022-06-30: Bergen 0 in use; Bergen 2 marked not relevant since January.
    assert series[D(2022, 6, 30)][NATION] == (1, 6)
    # 2023-12-31: Bergen 0, Bergen 1 and Tromsø 0 in use (stopped only in February 2024).
    assert series[D(2023, 12, 31)][NATION] == (3, 6)
    assert series[TODAY][NATION] == (3, 6)
    # One day at a time gives the same as the sweep.
    assert values_on(target, D(2023, 12, 31)) == series[D(2023, 12, 31)]


def test_municipality_target_all_and_any_rules(db):
    solution = "kjernejournal"
    bergen_home = org("4601", "sykehjem")
    bergen_care = org("4601", "hjemmetjeneste")
    tromso_home = org("5501", "sykehjem")
    tromso_care = org("5501", "hjemmetjeneste")
    oslo_home = org(
        "0301", "sykehjem", health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus")
    )
    history(
        (bergen_home, solution, "i_bruk", D(2022, 1, 1)),
        (bergen_care, solution, "i_bruk", D(2023, 1, 1)),
        (tromso_home, solution, "i_bruk", D(2022, 1, 1)),
        (tromso_care, solution, "ikke_relevant", D(2022, 1, 1), "ingen egen tjeneste"),
        (oslo_home, solution, "i_bruk", D(2022, 6, 1)),
    )
    target = make_target(
        solution=Solution.objects.get(code=solution),
        unit=TargetUnit.MUNICIPALITIES,
        types=["sykehjem", "hjemmetjeneste"],
        denominator=Denominator.ALL,
        municipality_rule=MunicipalityRule.ALL,
    )
    v = coverage.compute(target, [D(2022, 12, 31), TODAY])
    # ALL: Bergen only once its home care is in use too; Tromsø's not-relevant unit does not
    # hold it back; Oslo counts. Denominator: every municipality in Norway on the day (356 on
    # 31.12.2022, when Haram was still part of Ålesund; 357 today).
    assert v[D(2022, 12, 31)][NATION] == (2, 356)
    assert v[TODAY][NATION] == (3, 357) == coverage.independent_count(target)
    trust = {t.code: t.pk for t in HealthTrust.objects.all()}
    # Oslo counts in both of its areas, once in its region.
    assert v[TODAY][(Level.AREA, trust["oslo-universitetssykehus"])][0] == 1
    assert v[TODAY][(Level.AREA, trust["akershus-universitetssykehus"])][0] == 1
    sor_ost = RegionalHealthAuthority.objects.get(code="helse-sor-ost")
    assert v[TODAY][(Level.REGION, sor_ost.pk)][0] == 1
    target.municipality_rule = MunicipalityRule.ANY
    assert values_on(target, D(2022, 12, 31))[NATION] == (3, 356)
    target.denominator = Denominator.RELEVANT
    # Only municipalities with such organisations are in the denominator.
    assert values_on(target, TODAY)[NATION] == (3, 3)


def test_inactive_organisations_count_nowhere(registry):
    target = make_target(denominator=Denominator.ALL)
    bergen = Municipality.objects.get(number="4601")
    assert values_on(target, TODAY)[(Level.MUNICIPALITY, bergen.pk)] == (2, 3)


def test_recompute_is_idempotent_and_replaces(registry):
    target = make_target()
    job = Job.objects.create(
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        params={"day": TODAY.isoformat(), "targets": [target.code]},
    )
    services.coverage_job_run(job)
    first = CoverageSnapshot.objects.filter(target=target).count()
    assert first > 0
    assert job.state == Job.State.DONE and job.done == job.total == 1
    status_change(
        user=SYSTEM_USER,
        organisation=registry["ahus"],
        solution=Solution.objects.get(code="e-multidose"),
        to_status="i_bruk",
    )
    again = Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, params=job.params)
    services.coverage_job_run(again)
    assert CoverageSnapshot.objects.filter(target=target).count() == first
    nation = CoverageSnapshot.objects.get(target=target, day=TODAY, level=Level.NATION)
    assert (nation.numerator, nation.denominator) == (4, 6)


def test_backfill_writes_every_day_and_month(registry):
    target = make_target()
    job = services.coverage_job_request(
        user=SYSTEM_USER,
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": [target.code], "start": "2023-01-01", "end": "2023-03-31",
                "every": "day"},
    )  # fmt: skip
    services.coverage_job_run(job)
    days = set(
        CoverageSnapshot.objects.filter(target=target, level=Level.NATION).values_list(
            "day", flat=True
        )
    )
    assert len(days) == 90
    assert job.total == 2  # 90 days in chunks of BACKFILL_CHUNK_DAYS
    nation = CoverageSnapshot.objects.get(target=target, level=Level.NATION, day=D(2023, 1, 31))
    assert (nation.numerator, nation.denominator) == (2, 6)
    monthly = services.backfill_days(D(2023, 1, 15), D(2023, 4, 10), "month")
    assert monthly == [D(2023, 1, 31), D(2023, 2, 28), D(2023, 3, 31), D(2023, 4, 10)]


def test_job_parameters_are_checked(db):
    with pytest.raises(ValidationError) as exc:
        services.coverage_job_request(
            user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL, params={"targets": ["nope"]}
        )
    assert "nope" in str(exc.value)
    tomorrow = TODAY + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="fram i tid"):
        services.coverage_job_request(
            user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL, params={"end": tomorrow}
        )
    with pytest.raises(ValidationError, match="fram i tid"):
        services.coverage_job_request(
            user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE, params={"day": tomorrow}
        )
    assert not Job.objects.exists()


def test_a_bulk_change_queues_one_recomputation(db, django_capture_on_commit_callbacks, users):
    from rollout.selectors import MatrixBump
    from rollout.services import statuses_bulk_change

    organisations = [org("4601", name=f"Lege {i}") for i in range(12)]
    solution = Solution.objects.get(code="e-multidose")
    jobs = Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE)
    with django_capture_on_commit_callbacks() as callbacks:
        result = statuses_bulk_change(
            user=users["coord_nat"],
            organisation_ids=[o.pk for o in organisations],
            solution=solution,
            to_status="planlegging",
            effective_date=D(2026, 1, 5),
        )
        status_change(
            user=users["coord_nat"], organisation=organisations[0], solution=solution,
            to_status="i_bruk", effective_date=D(2026, 2, 1),
        )  # fmt: skip
    assert result.changed == 12
    # The request is written with the changes, once, from the earliest date they take
    # effect (so it commits or rolls back with them), and sent to the worker only when
    # they have committed.
    job = jobs.get()
    assert job.state == Job.State.QUEUED and job.params["since"] == "2026-01-05"
    assert job.sent_at is None and job.run_after > job.created_at  # the debounce delay
    # The send, and the mark that the request is written (the matrix's cache version is
    # replaced once more, rollout.selectors).
    coverage_callbacks = [c for c in callbacks if not isinstance(c, MatrixBump)]
    assert len(coverage_callbacks) == 2
    # While that job waits, later changes ride on it, widening what it recomputes.
    with django_capture_on_commit_callbacks(execute=True):
        status_change(
            user=users["coord_nat"], organisation=organisations[1], solution=solution,
            to_status="i_bruk", effective_date=D(2026, 1, 20),
        )  # fmt: skip
    assert jobs.count() == 1
    # …but not on a job a worker has already taken.
    jobs.update(state=Job.State.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        status_change(
            user=users["coord_nat"], organisation=organisations[2], solution=solution,
            to_status="i_bruk", effective_date=D(2026, 3, 1),
        )  # fmt: skip
    assert jobs.count() == 2


def test_a_lost_job_does_not_block_later_changes(db, django_capture_on_commit_callbacks):
    stale = Job.objects.create(
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        params={"trigger": "change", "day": TODAY.isoformat()},
    )
    Job.objects.filter(pk=stale.pk).update(
        created_at=stale.created_at - services.STALE_QUEUED - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks():
        assert services.coverage_queue_after_change(TODAY) is not None


def test_a_back_dated_change_recomputes_the_stored_days_since(registry, users):
    target = make_target()
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_BACKFILL,
        params={"targets": [target.code], "start": "2025-01-01", "every": "month"},
    )  # fmt: skip
    services.coverage_job_run(job)

    def nation(day):
        row = CoverageSnapshot.objects.get(target=target, level=Level.NATION, day=day)
        return row.numerator, row.denominator

    assert nation(D(2025, 6, 30)) == (3, 6)
    status_change(
        user=users["coord_nat"], organisation=registry["ahus"],
        solution=Solution.objects.get(code="e-multidose"), to_status="i_bruk",
        effective_date=D(2025, 5, 15),
    )  # fmt: skip
    job = services.coverage_job_request(
        user=SYSTEM_USER, kind=Job.Kind.COVERAGE_RECOMPUTE,
        params={"targets": [target.code], "since": "2025-05-15"},
    )  # fmt: skip
    services.coverage_job_run(job)
    assert nation(D(2025, 4, 30)) == (3, 6)
    assert nation(D(2025, 5, 31)) == (4, 6)
    assert nation(D(2025, 6, 30)) == (4, 6)
    assert nation(TODAY) == (4, 6)


def test_a_failed_recomputation_does_not_undo_the_change(
    db, users, monkeypatch, django_capture_on_commit_callbacks
):
    """In-process mode runs the job when the change commits; if it fails, the change
    stays saved and the job says why."""
    lege = org("4601")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(coverage, "compute", boom)
    with django_capture_on_commit_callbacks(execute=True):
        row = status_change(
            user=users["coord_nat"], organisation=lege,
            solution=Solution.objects.get(code="e-multidose"), to_status="i_bruk",
        )  # fmt: skip
    assert row.status == "i_bruk"
    job = Job.objects.get(kind=Job.Kind.COVERAGE_RECOMPUTE)
    assert job.state == Job.State.FAILED and "disk full" in job.message


def test_a_failing_job_is_marked_failed(db, monkeypatch):
    job = Job.objects.create(kind=Job.Kind.COVERAGE_RECOMPUTE, params={"day": "2026-01-01"})

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(coverage, "compute", boom)
    services.coverage_job_run(job)  # each target on its own: the job reports, not raises
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "went away" in job.message
    assert job.result["targets"] == [] and set(job.result["failed"]) == set(
        CoverageTarget.objects.filter(is_active=True).values_list("code", flat=True)
    )


def test_changing_a_target_rule_rebuilds_its_history(
    registry, users, django_capture_on_commit_callbacks
):
    target = make_target()
    CoverageSnapshot.objects.create(
        target=target, day=D(2020, 1, 1), level=Level.NATION, numerator=1, denominator=1
    )
    target.denominator = Denominator.ALL
    with pytest.raises(ValidationError):  # a change needs its reason
        services.target_save(user=users["admin"], target=target)
    with django_capture_on_commit_callbacks(execute=True):
        services.target_save(user=users["admin"], target=target, reason="Alle skal telle")
    assert not CoverageSnapshot.objects.filter(target=target, day=D(2020, 1, 1)).exists()
    latest = CoverageSnapshot.objects.filter(target=target, level=Level.NATION).latest("day")
    assert (latest.day, latest.numerator, latest.denominator) == (TODAY, 3, 7)
    # The month ends since the solution's first change were back-filled.
    assert CoverageSnapshot.objects.filter(
        target=target, level=Level.NATION, day=D(2022, 1, 31)
    ).exists()
    with pytest.raises(PermissionDenied, match="administrator|administratorer"):
        services.target_save(user=users["directorate"], target=target, reason="x")


def test_target_changes_are_in_the_change_log(db, users, django_capture_on_commit_callbacks):
    from rollout.models import ChangeLogEntry

    target = make_target()
    target.threshold = Decimal("0.9")
    target.deadline = D(2031, 6, 30)
    services.target_save(user=users["admin"], target=target, reason="Nytt ambisjonsnivå")
    entries = {e.kind: e for e in ChangeLogEntry.objects.filter(subject=target.code)}
    assert set(entries) == {"terskel", "resultatmal"}
    assert "80,0" in entries["terskel"].title or "80.0" in entries["terskel"].title
    assert entries["terskel"].reason == "Nytt ambisjonsnivå"
    assert entries["terskel"].recorded_by == users["admin"]
    # The threshold and deadline do not change what is counted: no rebuild.
    assert not Job.objects.filter(kind=Job.Kind.COVERAGE_BACKFILL).exists()


def test_target_rules_are_validated(db):
    target = CoverageTarget(
        code="x", name="x", solution=Solution.objects.first(), unit=TargetUnit.ORGANISATIONS,
        achieved_statuses=["i_bruk", "flying"], threshold=Decimal("0.8"), deadline=D(2030, 1, 1),
    )  # fmt: skip
    with pytest.raises(ValidationError, match="flying"):
        target.full_clean()
    target.achieved_statuses = ["ikke_startet"]
    with pytest.raises(ValidationError, match="ikke_startet|Not started|Ikke startet"):
        target.full_clean()


# --- forecast -------------------------------------------------------------------------


def linear(start: D, months: int, first: float, per_month: float):
    """Points every 30 days (one a month, from mid-month) rising by `per_month`."""
    return [(start + datetime.timedelta(days=30 * i), first + per_month * i) for i in range(months)]


def test_forecast_projects_a_linear_series_exactly():
    series = linear(D(2025, 1, 15), 13, 0.50, 0.01)  # 50 % rising 1 point every 30 days
    latest_day, latest = series[-1]
    f = coverage.forecast(series, 0.80, D(2030, 1, 1))
    assert f.pace_per_month == pytest.approx(0.01)
    # 62 % now, 18 points to go at 1 point per 30 days: 540 days.
    assert f.projected == latest_day + datetime.timedelta(days=540)
    assert f.verdict == Verdict.ON_TRACK
    assert f.points == 13


def test_forecast_verdicts_against_the_deadline():
    series = linear(D(2025, 1, 15), 13, 0.50, 0.01)
    latest_day = series[-1][0]
    projected = latest_day + datetime.timedelta(days=540)
    assert coverage.forecast(series, 0.8, projected).verdict == Verdict.ON_TRACK
    at_risk = projected - datetime.timedelta(days=100)
    assert coverage.forecast(series, 0.8, at_risk).verdict == Verdict.AT_RISK
    late = projected - datetime.timedelta(days=coverage.RISK_MARGIN_DAYS + 1)
    assert coverage.forecast(series, 0.8, late).verdict == Verdict.OFF_TRACK
    assert coverage.forecast(series, 0.6, late).verdict == Verdict.REACHED


def test_forecast_without_progress_or_history_says_so():
    flat = linear(D(2025, 1, 15), 13, 0.3, 0.0)
    f = coverage.forecast(flat, 0.8, D(2030, 1, 1))
    assert f.verdict == Verdict.OFF_TRACK and f.projected is None and f.message
    short = linear(D(2026, 1, 15), 2, 0.3, 0.05)
    f = coverage.forecast(short, 0.8, D(2030, 1, 1))
    assert f.verdict == Verdict.UNKNOWN and f.projected is None
    assert "2" in f.message
    assert coverage.forecast([], 0.8, D(2030, 1, 1)).verdict == Verdict.UNKNOWN
    slow = linear(D(2025, 1, 15), 13, 0.1, 0.0001)
    f = coverage.forecast(slow, 0.8, D(2030, 1, 1))
    assert f.verdict == Verdict.OFF_TRACK and f.projected is None


def test_forecast_only_fits_the_last_twelve_months():
    # Fast early growth, then flat for a year: the pace is the recent one.
    early = linear(D(2022, 1, 1), 12, 0.0, 0.04)
    recent = linear(D(2023, 6, 1), 14, 0.44, 0.0)
    f = coverage.forecast(early + recent, 0.8, D(2030, 1, 1))
    assert f.pace_per_month == pytest.approx(0.0, abs=1e-9)
    assert f.verdict == Verdict.OFF_TRACK
    passed = coverage.forecast(linear(D(2022, 1, 1), 13, 0.1, 0.01), 0.8, D(2022, 6, 1))
    assert passed.verdict == Verdict.OFF_TRACK and passed.projected is None


def test_forecast_weighs_each_month_once():
    """Daily snapshots of the last month (nightly runs) do not outweigh the monthly
    history: the fit takes the last snapshot of each month."""
    monthly = linear(D(2025, 1, 15), 12, 0.50, 0.01)
    last_day, last = monthly[-1]
    nightly = [(last_day + datetime.timedelta(days=i), last + 0.02) for i in range(1, 16)]
    f = coverage.forecast(monthly + nightly, 0.8, D(2030, 1, 1))
    assert f.points == 12
    assert f.pace_per_month == pytest.approx(0.0115, abs=0.001)
