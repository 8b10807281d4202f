"""Issue 13, drift: the integrity check finds where the status history and the current
statuses disagree (injected by raw SQL, as an operator's UPDATE or a partial restore would),
the repair adds corrections without rewriting anything, and the figures then equal an
independent count."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from actors.choices import Role
from actors.models import OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import coverage
from benefits.choices import Denominator, Level, TargetUnit
from benefits.models import CoverageSnapshot, CoverageTarget
from benefits.services import snapshots_store
from rollout import integrity
from rollout.choices import Source, Status, StatusChangeKind
from rollout.models import IntegrityCheckRun, RolloutStatus, Solution, StatusChange
from rollout.services import (
    HistoryEntry,
    history_corrections,
    status_change,
    status_history_load,
    status_history_repair,
)
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UserFactory

D = datetime.date
TODAY = timezone.localdate()
S = Status


@pytest.fixture(autouse=True)
def _no_coverage_recompute(monkeypatch):
    """The recomputation after a change or repair is recorded, not run (benefits' own tests
    cover it); tests that need figures compute them directly."""
    asked: list = []
    monkeypatch.setattr("actors.services.coverage_changed", lambda since=None: asked.append(since))
    monkeypatch.setattr("rollout.services.coverage_changed", lambda since=None: asked.append(since))
    return asked


@pytest.fixture
def recomputes(_no_coverage_recompute):
    return _no_coverage_recompute


@pytest.fixture
def admin(db):
    return UserFactory(
        username="admin1", role=Role.ADMIN, email="admin@example.no", is_superuser=True
    )


def solution(code="e-multidose") -> Solution:
    return Solution.objects.get(code=code)


def org(number="4601", name=None, type_code="fastlegekontor"):
    extra = {"name": name} if name else {}
    return OrganisationFactory(
        municipality__number=number, type=OrganisationType.objects.get(code=type_code), **extra
    )


def seed(*changes):
    """(organisation, status, date) through the service (the history is kept right)."""
    sol = solution()
    status_history_load(
        user=SYSTEM_USER,
        changes=[HistoryEntry(o.pk, sol.pk, status, day, "why") for o, status, day in changes],
    )


def raw_status(organisation, status, sol=None):
    """Drift: change the current status behind the services' back (no history row)."""
    sol = sol or solution()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rollout_rolloutstatus SET status = %s "
            "WHERE organisation_id = %s AND solution_id = %s",
            [status, organisation.pk, sol.pk],
        )
        assert cursor.rowcount == 1


def raw_change(organisation, from_status, to_status, day, sol=None):
    """A history row as the status service wrote it before the fix: its from_status taken
    from a drifted row (and the current row moved along with it)."""
    sol = sol or solution()
    StatusChange.objects.create(
        organisation=organisation,
        solution=sol,
        from_status=from_status,
        to_status=to_status,
        effective_date=day,
        source=Source.API,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rollout_rolloutstatus SET status = %s, effective_date = %s "
            "WHERE organisation_id = %s AND solution_id = %s",
            [to_status, day, organisation.pk, sol.pk],
        )


def chain_ok(organisation, sol=None) -> bool:
    """The pair's chain, checked by hand in Python (independently of the SQL)."""
    sol = sol or solution()
    previous = S.NOT_STARTED
    for change in StatusChange.objects.filter(organisation=organisation, solution=sol).order_by(
        "effective_date", "id"
    ):
        if change.from_status != previous:
            return False
        previous = change.to_status
    row = RolloutStatus.objects.filter(organisation=organisation, solution=sol).first()
    return previous == (row.status if row else S.NOT_STARTED)


@pytest.fixture
def registry(db):
    """Four GP offices with a clean history."""
    a, b, c, d = (org(name=f"Legekontor {x}") for x in "ABCD")
    seed(
        (a, S.PLANNING, TODAY - datetime.timedelta(days=40)),
        (a, S.IN_USE, TODAY - datetime.timedelta(days=30)),
        (b, S.PLANNING, TODAY - datetime.timedelta(days=40)),
        (c, S.PLANNING, TODAY - datetime.timedelta(days=20)),
        (c, S.BLOCKED, TODAY - datetime.timedelta(days=10)),
    )
    return {"a": a, "b": b, "c": c, "d": d}


def kinds(findings):
    return sorted((f["kind"], f["organisation_id"]) for f in findings)


# --- the check ------------------------------------------------------------------------


def test_clean_history_has_no_findings(registry):
    assert StatusChange.objects.count() == 5
    assert integrity.history_findings() == []


def test_raw_update_is_found_exactly(registry):
    raw_status(registry["b"], S.IN_USE)

    findings = integrity.history_findings()

    assert kinds(findings) == [("drift", registry["b"].pk)]
    (f,) = findings
    assert f["history_status"] == S.PLANNING and f["current_status"] == S.IN_USE
    assert f["solution_code"] == "e-multidose" and f["organisation"] == "Legekontor B"
    text = integrity.describe(f)
    assert str(S.PLANNING.label) in text and str(S.IN_USE.label) in text


def test_a_broken_chain_in_the_middle_is_reported(registry):
    # b: history says planning; the row was set to in use by hand; a later change recorded
    # its from_status from the drifted row, so the end agrees but the middle does not.
    raw_status(registry["b"], S.IN_USE)
    raw_change(registry["b"], S.IN_USE, S.STOPPED, TODAY - datetime.timedelta(days=5))

    findings = integrity.history_findings()

    assert kinds(findings) == [("gap", registry["b"].pk)]
    (f,) = findings
    assert (f["history_status"], f["current_status"]) == (S.PLANNING, S.IN_USE)
    assert f["entry_date"] == (TODAY - datetime.timedelta(days=5)).isoformat()


def test_a_status_without_history_and_a_history_without_status_are_found(registry):
    sol = solution()
    RolloutStatus.objects.create(
        organisation=registry["d"], solution=sol, status=S.TRIAL, effective_date=TODAY
    )
    with connection.cursor() as cursor:  # a partial restore lost c's row
        cursor.execute(
            "DELETE FROM rollout_rolloutstatus WHERE organisation_id = %s", [registry["c"].pk]
        )

    assert kinds(integrity.history_findings()) == sorted(
        [("no_history", registry["d"].pk), ("no_current", registry["c"].pk)]
    )


def test_a_row_not_started_without_history_is_no_finding(registry):
    RolloutStatus.objects.create(
        organisation=registry["d"], solution=solution(), status=S.NOT_STARTED, effective_date=TODAY
    )
    assert integrity.history_findings() == []


def test_the_check_is_a_few_queries_whatever_the_registry(registry, django_assert_num_queries):
    for o in registry.values():
        if o is not registry["d"]:
            raw_status(o, S.NOT_RELEVANT)
    with django_assert_num_queries(1):
        assert len(integrity.history_findings()) == 3


# --- the repair -----------------------------------------------------------------------


def test_repair_writes_one_correction_and_the_check_is_clean(registry, admin, recomputes):
    raw_status(registry["b"], S.IN_USE)
    before = set(StatusChange.objects.values_list("pk", flat=True))
    recomputes.clear()

    result = status_history_repair(
        user=admin, pairs=[(registry["b"].pk, solution().pk)], reason="UPDATE i drift 12.3."
    )

    assert result.written == 1
    (new,) = StatusChange.objects.exclude(pk__in=before)
    assert (new.from_status, new.to_status) == (S.PLANNING, S.IN_USE)
    assert new.source == Source.SYSTEM and new.kind == StatusChangeKind.CORRECTION
    assert new.reason == "UPDATE i drift 12.3." and new.changed_by == admin
    assert new.effective_date == TODAY
    # nothing rewritten: the old rows are as they were, the current row untouched
    assert StatusChange.objects.filter(pk__in=before).count() == len(before)
    assert RolloutStatus.objects.get(organisation=registry["b"]).status == S.IN_USE
    assert chain_ok(registry["b"])
    assert integrity.history_findings() == []
    assert recomputes == [TODAY]


def test_repair_mends_a_gap_the_day_before_the_change_that_starts_from_it(registry, admin):
    raw_status(registry["b"], S.IN_USE)
    raw_change(registry["b"], S.IN_USE, S.STOPPED, TODAY - datetime.timedelta(days=5))

    result = status_history_repair(
        user=admin, pairs=[(registry["b"].pk, solution().pk)], reason="Drift"
    )

    assert result.written == 1 and not result.left
    new = StatusChange.objects.get(kind=StatusChangeKind.CORRECTION)
    assert (new.from_status, new.to_status) == (S.PLANNING, S.IN_USE)
    assert new.effective_date == TODAY - datetime.timedelta(days=6)
    assert chain_ok(registry["b"])
    assert integrity.history_findings() == []


def test_repair_of_a_same_day_gap_is_left_for_a_person(registry, admin):
    day = TODAY - datetime.timedelta(days=40)  # b's planning change is dated this day
    raw_status(registry["b"], S.IN_USE)
    raw_change(registry["b"], S.IN_USE, S.STOPPED, day)

    result = status_history_repair(
        user=admin, pairs=[(registry["b"].pk, solution().pk)], reason="Drift"
    )

    assert result.written == 0 and len(result.left) == 1
    assert kinds(integrity.history_findings()) == [("gap", registry["b"].pk)]


def test_repair_follows_the_current_row_when_it_is_missing(registry, admin):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM rollout_rolloutstatus WHERE organisation_id = %s", [registry["a"].pk]
        )
    status_history_repair(user=admin, pairs=[(registry["a"].pk, solution().pk)], reason="x")
    new = StatusChange.objects.get(kind=StatusChangeKind.CORRECTION)
    assert (new.from_status, new.to_status) == (S.IN_USE, S.NOT_STARTED)
    assert integrity.history_findings() == []


def test_repair_needs_an_administrator_and_a_reason(registry, make_user):
    raw_status(registry["b"], S.IN_USE)
    pair = [(registry["b"].pk, solution().pk)]
    with pytest.raises(PermissionDenied):
        status_history_repair(user=make_user("coord_nat"), pairs=pair, reason="x")
    with pytest.raises(ValidationError):
        status_history_repair(user=SYSTEM_USER, pairs=pair, reason=" ")
    assert not StatusChange.objects.filter(kind=StatusChangeKind.CORRECTION).exists()


def test_history_corrections_walks_the_chain():
    class C:
        def __init__(self, f, t, d):
            self.from_status, self.to_status, self.effective_date = f, t, d

    d1, d5 = D(2026, 1, 1), D(2026, 1, 5)
    chain = [C(S.NOT_STARTED, S.PLANNING, d1), C(S.TRIAL, S.IN_USE, d5)]
    assert history_corrections(chain, S.BLOCKED, D(2026, 2, 1)) == (
        [(S.PLANNING, S.TRIAL, D(2026, 1, 4)), (S.IN_USE, S.BLOCKED, D(2026, 2, 1))],
        None,
    )
    assert history_corrections([], S.TRIAL, d5) == ([(S.NOT_STARTED, S.TRIAL, d5)], None)
    assert history_corrections(chain[:1], S.PLANNING, d5) == ([], None)


# --- the status service no longer builds on a drifted row -----------------------------


def test_status_change_records_the_correction_before_the_change(registry, admin):
    raw_status(registry["b"], S.IN_USE)

    status_change(
        user=admin, organisation=registry["b"], solution=solution(), to_status=S.STOPPED,
        reason="Leverandørfeil",
    )  # fmt: skip

    last_two = list(
        StatusChange.objects.filter(organisation=registry["b"]).order_by("-effective_date", "-id")[
            :2
        ]
    )
    change, correction = last_two
    assert (correction.from_status, correction.to_status) == (S.PLANNING, S.IN_USE)
    assert correction.kind == StatusChangeKind.CORRECTION and correction.source == Source.SYSTEM
    assert correction.changed_by == admin and correction.effective_date == change.effective_date
    assert (change.from_status, change.to_status) == (S.IN_USE, S.STOPPED)
    assert change.kind == StatusChangeKind.CHANGE
    assert chain_ok(registry["b"]) and integrity.history_findings() == []


def test_bulk_history_load_also_corrects_first(registry):
    raw_status(registry["b"], S.TECHNICALLY_READY)
    seed((registry["b"], S.TRIAL, TODAY))
    assert StatusChange.objects.filter(kind=StatusChangeKind.CORRECTION).count() == 1
    assert chain_ok(registry["b"]) and integrity.history_findings() == []


def test_status_change_cannot_be_dated_before_the_histories_last_entry(registry, admin):
    # After a repair the correction is dated today while the row keeps its older date.
    raw_status(registry["b"], S.IN_USE)
    status_history_repair(user=admin, pairs=[(registry["b"].pk, solution().pk)], reason="x")
    with pytest.raises(ValidationError) as exc:
        status_change(
            user=admin, organisation=registry["b"], solution=solution(), to_status=S.STOPPED,
            reason="r", effective_date=TODAY - datetime.timedelta(days=3),
        )  # fmt: skip
    assert "effective_date" in exc.value.message_dict
    assert integrity.history_findings() == []


# --- runs, e-mail, the command --------------------------------------------------------


def test_a_run_with_findings_is_stored_and_emails_the_administrators(
    registry, admin, django_capture_on_commit_callbacks
):
    UserFactory(username="admin-no-mail", role=Role.ADMIN, email="")
    UserFactory(username="coord", role=Role.COORDINATOR, email="coord@example.no")
    raw_status(registry["b"], S.IN_USE)

    with django_capture_on_commit_callbacks(execute=True):
        run = integrity.run_check(trigger=IntegrityCheckRun.Trigger.SCHEDULE)

    run.refresh_from_db()
    assert run.finding_count == 1 and run.counts == {"history.drift": 1}
    assert run.findings[0]["organisation_id"] == registry["b"].pk
    assert run.notified == 1
    (message,) = mail.outbox
    assert message.to == ["admin@example.no"]
    assert "Legekontor B" in message.body


def test_a_clean_run_sends_nothing(registry, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = integrity.run_check(trigger=IntegrityCheckRun.Trigger.SCHEDULE)
    assert run.finding_count == 0 and mail.outbox == []


def test_a_failing_check_does_not_stop_the_others(registry, monkeypatch):
    raw_status(registry["b"], S.IN_USE)

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(
        integrity._CHECKS,
        "zz-broken",
        integrity.Check("zz-broken", "Broken", broken, lambda *a, **k: 0, lambda f: ""),
    )
    run = integrity.run_check(trigger=IntegrityCheckRun.Trigger.COMMAND, notify=False)
    assert run.counts == {"history.drift": 1, "zz-broken.error": 1}
    assert "boom" in integrity.describe(run.findings[-1])


def test_command_exits_non_zero_on_findings_and_repairs(registry, capsys):
    call_command("check_integrity")  # clean: exit 0
    raw_status(registry["b"], S.IN_USE)

    with pytest.raises(CommandError) as exc:
        call_command("check_integrity")
    assert exc.value.returncode == 1
    assert "Legekontor B" in capsys.readouterr().out

    with pytest.raises(CommandError):
        call_command("check_integrity", "--repair")  # a repair needs a reason
    call_command("check_integrity", "--repair", "--reason", "Rettet etter hendelse 42")
    out = capsys.readouterr().out
    assert "0 findings" in out.splitlines()[-1]
    correction = StatusChange.objects.get(kind=StatusChangeKind.CORRECTION)
    assert correction.reason == "Rettet etter hendelse 42" and correction.changed_by is None


def test_the_beat_task_runs_the_check(registry):
    from rollout.tasks import check_integrity

    raw_status(registry["b"], S.IN_USE)
    assert check_integrity() == 1  # the task body (tasks are tested directly)
    assert IntegrityCheckRun.objects.get().trigger == IntegrityCheckRun.Trigger.SCHEDULE


# --- the coverage side (benefits registers it) ----------------------------------------


def make_target(code="drift-target") -> CoverageTarget:
    target = CoverageTarget.objects.create(
        code=code,
        name="Drift target",
        solution=solution(),
        unit=TargetUnit.ORGANISATIONS,
        achieved_statuses=[S.IN_USE],
        denominator=Denominator.ALL,
        threshold=Decimal("0.8"),
        deadline=D(2030, 12, 31),
    )
    target.organisation_types.set(OrganisationType.objects.filter(code="fastlegekontor"))
    return target


def sql_in_use(target) -> int:
    """Independent count over the current rows: active GP offices with e-multidose in use."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(*) FROM rollout_rolloutstatus s
               JOIN actors_organisation o ON o.id = s.organisation_id
               JOIN actors_organisationtype t ON t.id = o.type_id
               WHERE s.solution_id = %s AND s.status = 'i_bruk' AND o.is_active
                 AND t.code = 'fastlegekontor'""",
            [target.solution_id],
        )
        return cursor.fetchone()[0]


def test_stale_snapshots_are_found_and_named(registry):
    target = make_target()
    snapshots_store(target, coverage.compute(target, [TODAY]))
    assert integrity._find_all()["coverage"] == []

    seed((registry["b"], S.IN_USE, TODAY))  # a change whose recomputation was lost

    findings = integrity._find_all()["coverage"]
    nation = next(f for f in findings if f["level"] == Level.NATION)
    assert nation["kind"] == "snapshot" and nation["target_code"] == "drift-target"
    assert nation["live"][0] == nation["stored"][0] + 1
    assert "Drift target" in integrity.describe(nation)


def test_drift_shows_as_history_against_current_count(registry):
    target = make_target()
    raw_status(registry["b"], S.IN_USE)
    snapshots_store(target, coverage.compute(target, [TODAY]))

    (f,) = integrity._find_all()["coverage"]
    assert f["kind"] == "current"
    assert f["current"][0] == f["live"][0] + 1 == sql_in_use(target)


@pytest.mark.postgres
def test_drift_end_to_end_on_postgresql(admin, django_capture_on_commit_callbacks):
    """The issue's scenario: in a cell with nobody counted, a raw UPDATE puts one office in
    use, a later change then records its from_status from the drifted row, and the sums go
    to −1, which the snapshot table's check constraint refuses. The check finds it, the
    repair mends it, the recomputation succeeds and equals an independent count."""
    target = make_target()
    office = org("1103", name="Stavanger legesenter")  # alone in its cell
    other = org("1103", name="Stavanger legevaktkontor")
    seed(
        (office, S.PLANNING, TODAY - datetime.timedelta(days=30)),
        (other, S.PLANNING, TODAY - datetime.timedelta(days=30)),
    )
    raw_status(office, S.IN_USE)
    raw_change(office, S.IN_USE, S.STOPPED, TODAY - datetime.timedelta(days=2))

    values = coverage.compute(target, [TODAY])
    assert values[TODAY][(Level.MUNICIPALITY, office.municipality_id)][0] == -1
    with pytest.raises(Exception, match="numerator_check"), transaction.atomic():
        snapshots_store(target, values)

    findings = integrity.history_findings()
    assert kinds(findings) == [("gap", office.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        outcome = integrity.repair_findings(user=admin, reason="Hendelse 13", keys=None)
    assert outcome.repaired == 1 and outcome.run.finding_count == 0
    assert chain_ok(office) and chain_ok(other)

    days = [TODAY - datetime.timedelta(days=n) for n in range(0, 31)]
    values = coverage.compute(target, days)
    snapshots_store(target, values)  # no negative cell on any day
    assert CoverageSnapshot.objects.filter(target=target, numerator__lt=0).count() == 0
    nation = values[TODAY][(Level.NATION, 0)]
    assert nation[0] == sql_in_use(target) == coverage.independent_count(target)[0]
    assert integrity._find_all()["coverage"] == []


@pytest.mark.postgres
def test_the_check_scales_with_window_functions(registry):
    """EXPLAIN: one scan of the history with a window over each pair (no nested loop per
    row of history)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + integrity._chain_sql(), {"ns": S.NOT_STARTED})
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "WindowAgg" in plan


# --- the page -------------------------------------------------------------------------


def test_page_shows_findings_to_an_administrator(registry, admin):
    raw_status(registry["b"], S.IN_USE)
    integrity.run_check(trigger=IntegrityCheckRun.Trigger.SCHEDULE, notify=False)

    response = client_for(admin).get(reverse("rollout:integrity"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Legekontor B" in html
    assert solution().name in html
    assert f'value="history:{registry["b"].pk}:{solution().pk}"' in html  # the Repair button


def test_page_refuses_a_municipality_contact(registry, make_user):
    contact = make_user("contact")
    assert client_for(contact).get(reverse("rollout:integrity")).status_code == 403
    response = client_for(contact).post(
        reverse("rollout:integrity_repair"), {"all": "1", "reason": "x"}
    )
    assert response.status_code == 403


def test_national_coordinator_reads_without_repair_buttons(registry, make_user):
    raw_status(registry["b"], S.IN_USE)
    integrity.run_check(trigger=IntegrityCheckRun.Trigger.SCHEDULE, notify=False)
    response = client_for(make_user("coord_nat")).get(reverse("rollout:integrity"))
    assert response.status_code == 200
    assert b"Legekontor B" in response.content and b'name="key"' not in response.content


def test_repair_one_finding_from_the_page(registry, admin):
    raw_status(registry["b"], S.IN_USE)
    raw_status(registry["c"], S.PLANNING)
    sol = solution()

    response = client_for(admin).post(
        reverse("rollout:integrity_repair"),
        {"key": f"history:{registry['b'].pk}:{sol.pk}", "reason": "Rettet fra siden"},
    )

    assert response.status_code == 302
    correction = StatusChange.objects.get(kind=StatusChangeKind.CORRECTION)
    assert correction.organisation_id == registry["b"].pk and correction.changed_by == admin
    assert kinds(integrity.history_findings()) == [("drift", registry["c"].pk)]
    run = IntegrityCheckRun.objects.get(trigger=IntegrityCheckRun.Trigger.REPAIR)
    assert run.repaired == 1 and run.finding_count == 1


def test_repair_from_the_page_needs_a_reason(registry, admin):
    raw_status(registry["b"], S.IN_USE)
    response = client_for(admin).post(reverse("rollout:integrity_repair"), {"all": "1"})
    assert response.status_code == 302
    assert not StatusChange.objects.filter(kind=StatusChangeKind.CORRECTION).exists()
