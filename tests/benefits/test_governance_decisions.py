"""Decision points, decisions, the change log and the cut list (benefits.governance:
decision_points, briefs, decisions, changelog, cutlist, whatif)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Sum
from django.urls import reverse

from actors.models import Catchment, HealthTrust, Municipality
from actors.scoping import SYSTEM_USER
from benefits.governance import briefs, changelog, cutlist, decision_points, decisions, whatif
from benefits.models import Benefit, BenefitGoal, BenefitReport, CoverageSnapshot, CoverageTarget
from rollout import services as rollout_services
from rollout.choices import ChangeKind, CutStatus, DecisionKind, DecisionPointStatus, Phase
from rollout.models import (
    AreaRollout,
    ChangeLogEntry,
    CutListItem,
    DecisionPoint,
    GovernanceSchedule,
    PhaseChange,
    RolloutStatus,
    Solution,
)
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def trust(code):
    return HealthTrust.objects.get(code=code)


def solution(code):
    return Solution.objects.get(code=code)


def snapshot(target, day, level, scope_id, num, den):
    CoverageSnapshot.objects.create(
        target=target, day=day, level=level, scope_id=scope_id, numerator=num, denominator=den
    )


def point(day, **kw):
    return DecisionPoint.objects.create(title=f"Punkt {day}", scheduled_for=day, **kw)


# --- schedule -----------------------------------------------------------------------------


def test_schedule_generates_points_once(make_user):
    user = make_user("directorate")
    schedule = GovernanceSchedule.objects.get()
    schedule.cadence, schedule.first_date = "halvarlig", D(2025, 1, 31)
    schedule.save()
    assert decision_points.scheduled_dates(schedule, D(2026, 1, 31)) == [
        D(2025, 1, 31),
        D(2025, 7, 31),
        D(2026, 1, 31),
    ]
    created = decision_points.points_generate(user=user, schedule=schedule, until=D(2026, 1, 31))
    assert [p.scheduled_for for p in created] == [D(2025, 1, 31), D(2025, 7, 31), D(2026, 1, 31)]
    assert decision_points.points_generate(user=user, schedule=schedule, until=D(2026, 1, 31)) == []
    with pytest.raises(PermissionDenied):
        decision_points.points_generate(user=make_user("coord_area"), schedule=schedule)


def test_schedule_generates_at_most_five_years_ahead(make_user):
    api = api_client_for(make_user("directorate"))
    response = api.post("/api/v1/decision-points/generate/", {"until": "9999-12-31"}, format="json")
    assert response.status_code == 400
    assert "5" in response.json()["until"][0]
    assert not DecisionPoint.objects.exists()
    response = api.post("/api/v1/decision-points/generate/", {"until": "2027-06-30"}, format="json")
    assert response.status_code == 201
    assert isinstance(response.json(), list) and response.json()


def test_add_months_keeps_month_ends():
    assert decision_points.add_months(D(2025, 8, 31), 6) == D(2026, 2, 28)
    assert decision_points.add_months(D(2025, 3, 31), -3) == D(2024, 12, 31)


# --- brief --------------------------------------------------------------------------------


def test_brief_from_known_data(make_user):
    """Previous point held 02.01.2025, this one 01.04.2025, quarterly: since 02.01.2025,
    next 01.07.2025."""
    user = make_user("directorate")
    GovernanceSchedule.objects.update(cadence="kvartalsvis")
    point(D(2025, 1, 1), held_on=D(2025, 1, 2), status=DecisionPointStatus.DECIDED)
    current = point(D(2025, 4, 1))

    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    snapshot(target, D(2024, 12, 31), "nation", 0, 10, 100)
    snapshot(target, D(2025, 3, 31), "nation", 0, 30, 100)

    # An area planned to start before the next point, without any ready actors.
    rollout_services.area_rollout_update(
        user=SYSTEM_USER,
        solution=solution("pll"),
        health_trust=trust("helse-bergen"),
        expected_version=0,
        phase=Phase.PLANNING,
        planned_start=D(2025, 5, 1),
    )
    # One planned after the next point: not an assumption for this period.
    rollout_services.area_rollout_update(
        user=SYSTEM_USER,
        solution=solution("pll"),
        health_trust=trust("unn"),
        expected_version=0,
        phase=Phase.PLANNING,
        planned_start=D(2025, 9, 1),
    )
    org = OrganisationFactory(municipality__number="4601")
    for _ in range(2):
        RolloutStatus.objects.create(
            organisation=OrganisationFactory(municipality__number="5501"),
            solution=solution("kjernejournal"),
            status="blokkert",
            reason="Venter på EPJ-oppgradering",
            effective_date=D(2025, 2, 1),
        )

    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.first(),
        name="Spart tid",
        indicator="Minutter",
        unit="min",
        direction="lower",
        owner="Kommunen",
    )
    for kind, end, value in [("nullpunkt", D(2024, 6, 30), 30), ("oppfolging", D(2025, 3, 1), 20)]:
        BenefitReport.objects.create(
            benefit=benefit,
            municipality=org.municipality,
            organisation=org,
            kind=kind,
            period_start=end.replace(day=1),
            period_end=end,
            value=value,
            method="Telling",
            status="godkjent",
        )

    briefs.brief_generate(user=user, point=current)
    current.refresh_from_db()
    brief = current.brief
    assert current.status == DecisionPointStatus.PREPARED
    assert current.brief_generated_at is not None
    assert brief["period"] == {"since": "2025-01-02", "point": "2025-04-01", "next": "2025-07-01"}

    row = next(t for t in brief["targets"] if t["code"] == "e-multidose-legekontor")
    assert (row["numerator"], row["denominator"], row["ratio"]) == (30, 100, 0.3)
    assert row["ratio_at_last_point"] == 0.1
    assert row["gap"] == 50  # 80 % of 100 = 80, 30 achieved

    assert [(a["area_code"], a["planned_start"]) for a in brief["assumptions"]] == [
        ("helse-bergen", "2025-05-01")
    ]
    assert "ready" in {f["condition"] for f in brief["assumptions"][0]["failing"]}

    assert brief["blockers"][0]["reason"] == "Venter på EPJ-oppgradering"
    assert brief["blockers"][0]["organisations"] == 2

    (b,) = [b for b in brief["benefits"] if b["benefit"] == "Spart tid"]
    assert b["realisations"] == 1 and b["total_improvement"] == 10.0
    assert b["new_follow_ups"] == 1


def test_brief_hides_area_details_from_limited_readers(make_user):
    current = point(D(2025, 4, 1))
    current.brief = {"targets": [], "assumptions": [{"area": "X"}], "blockers": [{"r": 1}]}
    current.save()
    assert "blockers" in briefs.brief_for(make_user("directorate"), current)
    limited = briefs.brief_for(make_user("coord_area"), current)
    assert "blockers" not in limited and "assumptions" not in limited and "targets" in limited


def test_closed_point_keeps_its_brief(make_user):
    closed = point(D(2025, 1, 1), status=DecisionPointStatus.DECIDED)
    with pytest.raises(ValidationError):
        briefs.brief_generate(user=make_user("directorate"), point=closed)


# --- decisions ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["directorate", "coord_nat"])
def test_start_and_stop_area_by_decision_write_history(make_user, role):
    user = make_user(role)
    current = point(D(2025, 4, 1))
    pll, bergen = solution("pll"), trust("helse-bergen")
    decision = decisions.decision_record(
        user=user,
        point=current,
        kind=DecisionKind.START_AREA,
        text="Helse Bergen starter",
        reason="Klar",
        solution=pll,
        health_trust=bergen,
        effective_date=D(2025, 4, 2),
    )
    area = AreaRollout.objects.get(solution=pll, health_trust=bergen)
    assert area.phase == Phase.LIMITED_ROLLOUT  # PLL is in limited rollout nationally
    assert area.actual_start == D(2025, 4, 2) and area.decision_date == D(2025, 4, 2)
    assert area.decision_reference == current.title
    assert "Helse Bergen starter" in area.decision_note
    change = PhaseChange.objects.get(solution=pll, health_trust=bergen)
    assert (change.from_phase, change.to_phase) == (Phase.PLANNING, Phase.LIMITED_ROLLOUT)
    # The directorate changes the area as the system, but the decision and its log are its.
    assert change.changed_by == (None if role == "directorate" else user)
    assert decision.decided_by == user
    entry = ChangeLogEntry.objects.get(decision=decision)
    assert entry.recorded_by == user and entry.decision_point == current
    assert entry.kind == ChangeKind.DECISION

    decisions.decision_record(
        user=user,
        point=current,
        kind=DecisionKind.STOP_AREA,
        text="Stanses",
        reason="Leverandør mangler",
        solution=pll,
        health_trust=bergen,
        effective_date=D(2025, 5, 1),
    )
    area.refresh_from_db()
    assert area.phase == Phase.PLANNING
    assert area.actual_start == D(2025, 4, 2)  # what happened stays
    phases = list(
        PhaseChange.objects.filter(solution=pll, health_trust=bergen)
        .order_by("id")
        .values_list("to_phase", flat=True)
    )
    assert phases == [Phase.LIMITED_ROLLOUT, Phase.PLANNING]
    assert ChangeLogEntry.objects.filter(decision_point=current).count() == 2


def test_area_decision_rules(make_user):
    user = make_user("directorate")
    current = point(D(2025, 4, 1))
    with pytest.raises(ValidationError) as exc:
        decisions.decision_record(
            user=user,
            point=current,
            kind=DecisionKind.START_AREA,
            text="Start",
            solution=solution("kjernejournal"),
            health_trust=trust("helse-bergen"),
        )
    assert {"solution", "effective_date"} <= set(exc.value.message_dict)
    with pytest.raises(PermissionDenied):
        decisions.decision_record(
            user=make_user("coord_area"), point=current, kind=DecisionKind.OTHER, text="x"
        )
    closed = point(D(2025, 1, 1), status=DecisionPointStatus.DECIDED)
    with pytest.raises(ValidationError):
        decisions.decision_record(user=user, point=closed, kind=DecisionKind.OTHER, text="x")
    assert not ChangeLogEntry.objects.exists()


def test_close_point_logs_the_scope(make_user):
    user = make_user("directorate")
    current = point(D(2025, 4, 1))
    decision_points.point_close(
        user=user,
        point=current,
        held_on=D(2025, 4, 1),
        summary="Godt i rute",
        scope_until_next="PLL i Helse Bergen og Helse Stavanger",
        expected_version=current.version,
    )
    current.refresh_from_db()
    assert current.status == DecisionPointStatus.DECIDED and current.decided_by == user
    entry = ChangeLogEntry.objects.get(decision_point=current)
    assert entry.kind == ChangeKind.SCOPE and "Helse Stavanger" in entry.reason


# --- change log ---------------------------------------------------------------------------


def test_change_log_is_append_only(make_user):
    entry = changelog.changelog_entry_create(
        user=make_user("directorate"),
        kind=ChangeKind.THRESHOLD,
        title="Terskel for PLL senket til 70 %",
        reason="Styringsgruppen",
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        ChangeLogEntry.objects.filter(pk=entry.pk).update(title="Endret")
    with pytest.raises(DatabaseError), transaction.atomic():
        ChangeLogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionDenied):
        changelog.changelog_entry_create(
            user=make_user("contact"), kind=ChangeKind.SCOPE, title="x", reason="y"
        )


def test_change_log_exports(make_user):
    user = make_user("coord_area")
    changelog.changelog_record(
        user=SYSTEM_USER, kind=ChangeKind.TARGET, title="=Mål endret", reason="Fordi"
    )
    response = client_for(user).get(reverse("governance:changelog_export") + "?format=csv")
    body = response.content.decode("utf-8")
    assert response.status_code == 200 and body.startswith("\ufeff")
    assert ';"\'=Mål endret";"Fordi";' in body  # quoted, `;`-separated, formula-safe
    response = client_for(user).get(reverse("governance:changelog_export") + "?format=xlsx")
    assert response.content[:2] == b"PK"
    api = api_client_for(user).get("/api/v1/change-log/export/?format=csv")
    assert api.status_code == 200 and "Fordi" in api.content.decode("utf-8")


# --- cut list -----------------------------------------------------------------------------


def test_cut_item_for_pll_is_a_whole_area(make_user):
    user = make_user("directorate")
    fields = {"title": "Kutt", "justification": "Dyrt", "solution": solution("pll")}
    with pytest.raises(ValidationError) as exc:
        cutlist.cut_item_save(user=user, item_id=None, expected_version=None, fields=fields)
    assert "health_trust" in exc.value.message_dict
    cutlist.cut_item_save(
        user=user,
        item_id=None,
        expected_version=None,
        fields={**fields, "health_trust": trust("unn")},
    )
    entry = ChangeLogEntry.objects.get(kind=ChangeKind.CUT_LIST)
    assert entry.subject == f"{solution('pll').short_name} – {trust('unn').name}"


def test_cutting_a_pll_area_stops_it(make_user):
    user = make_user("directorate")
    current = point(D(2025, 4, 1))
    item = cutlist.cut_item_save(
        user=user,
        item_id=None,
        expected_version=None,
        fields={
            "title": "PLL i UNN",
            "justification": "Lav nytte",
            "solution": solution("pll"),
            "health_trust": trust("unn"),
        },
    )
    item = cutlist.cut_item_decide(
        user=user,
        item=item,
        to_status=CutStatus.CUT,
        point=current,
        reason="Vedtatt",
        effective_date=D(2025, 4, 2),
        expected_version=item.version,
    )
    assert item.status == CutStatus.CUT and item.decision.kind == DecisionKind.STOP_AREA
    area = AreaRollout.objects.get(solution__code="pll", health_trust__code="unn")
    assert area.phase == Phase.PLANNING and "PLL i UNN" in area.decision_note
    assert ChangeLogEntry.objects.filter(decision_point=current).count() == 2


def _item(sol, trust_code, title="x"):
    return CutListItem.objects.create(
        title=title,
        justification="j",
        solution=solution(sol),
        health_trust=trust(trust_code) if trust_code else None,
    )


def test_what_if_arithmetic():
    """Hand-built snapshots: organisation targets lose the cut areas' figures; municipality
    targets lose only municipalities wholly inside the cut areas (Oslo once, and only when
    both its trusts are cut); older days are ignored."""
    day, old = D(2025, 3, 31), D(2025, 2, 28)
    bergen, unn = trust("helse-bergen"), trust("unn")
    ous, ahus = trust("oslo-universitetssykehus"), trust("akershus-universitetssykehus")
    oslo = Municipality.objects.get(number="0301")
    lillestrom = Municipality.objects.get(number="3205")  # wholly in Ahus' catchment
    assert set(lillestrom.catchments.values_list("health_trust__code", flat=True)) == {
        "akershus-universitetssykehus"
    }

    pll_target = CoverageTarget.objects.get(code="pll-prioriterte-aktorer")
    snapshot(pll_target, old, "nation", 0, 1, 1)
    snapshot(pll_target, day, "nation", 0, 50, 200)
    snapshot(pll_target, day, "area", bergen.pk, 10, 40)
    snapshot(pll_target, day, "area", unn.pk, 5, 20)

    kj = CoverageTarget.objects.get(code="kjernejournal-plo")
    snapshot(kj, day, "nation", 0, 100, 357)  # every municipality of 2025
    snapshot(kj, day, "area", ous.pk, 1, 1)  # Oslo, also in Ahus' area figures
    snapshot(kj, day, "area", ahus.pk, 7, 10)
    snapshot(kj, day, "municipality", oslo.pk, 1, 1)
    snapshot(kj, day, "municipality", lillestrom.pk, 1, 1)

    result = whatif.what_if([_item("pll", "helse-bergen")])
    (row,) = result.targets
    assert row.target_code == "pll-prioriterte-aktorer"
    assert row.day == day
    assert (row.numerator, row.denominator) == (50, 200)
    assert (row.numerator_after, row.denominator_after) == (40, 160)
    assert row.ratio == 0.25 and row.ratio_after == 0.25
    (pop,) = result.population
    bergen_pop = Catchment.objects.filter(health_trust=bergen).aggregate(p=Sum("population"))["p"]
    total = Catchment.objects.aggregate(p=Sum("population"))["p"]
    assert (pop.population_cut, pop.population_total) == (bergen_pop, total)
    assert pop.share_cut == pytest.approx(bergen_pop / total)

    # Two PLL areas: both subtracted.
    result = whatif.what_if([_item("pll", "helse-bergen"), _item("pll", "unn")])
    assert (result.targets[0].numerator_after, result.targets[0].denominator_after) == (35, 140)

    # Kjernejournal, Oslo universitetssykehus only: Oslo still has Ahus; nothing taken.
    (row,) = whatif.what_if([_item("kjernejournal", "oslo-universitetssykehus")]).targets
    assert (row.numerator_after, row.denominator_after) == (100, 357)
    # Ahus only: Lillestrøm goes (wholly inside), Oslo stays.
    (row,) = whatif.what_if([_item("kjernejournal", "akershus-universitetssykehus")]).targets
    assert (row.numerator_after, row.denominator_after) == (99, 356)
    # Both: Oslo goes once, not twice.
    result = whatif.what_if(
        [
            _item("kjernejournal", "oslo-universitetssykehus"),
            _item("kjernejournal", "akershus-universitetssykehus"),
        ]
    )
    (row,) = result.targets
    assert (row.numerator_after, row.denominator_after) == (98, 355)
    assert (
        result.population[0].population_cut
        == Catchment.objects.filter(health_trust__in=[ous, ahus]).aggregate(p=Sum("population"))[
            "p"
        ]
    )
    assert row.threshold == Decimal("0.800")

    # An item without an area cannot be counted.
    result = whatif.what_if([_item("kjernejournal", None)])
    assert result.targets == [] and len(result.unquantified) == 1


# --- pages and API ------------------------------------------------------------------------


def test_decision_pages_render(make_user):
    current = point(D(2025, 4, 1))
    _item("pll", "unn", "PLL i UNN")
    briefs.brief_generate(user=make_user("admin"), point=current)
    directorate = client_for(make_user("directorate"))
    page = directorate.get(reverse("governance:decision_point_detail", args=[current.pk]))
    assert page.status_code == 200 and b"PLL i UNN" in page.content
    contact = client_for(make_user("contact"))
    page = contact.get(reverse("governance:decision_point_detail", args=[current.pk]))
    assert page.status_code == 200
    for name in ["decision_point_list", "changelog_list", "cutlist_list", "cutlist_what_if"]:
        assert contact.get(reverse(f"governance:{name}")).status_code == 200


def test_decision_form_keeps_input_on_error(make_user):
    current = point(D(2025, 4, 1))
    client = client_for(make_user("directorate"))
    response = client.post(
        reverse("governance:decision_create", args=[current.pk]),
        {"kind": DecisionKind.START_AREA, "text": "Start Bergen", "solution": ""},
    )
    assert response.status_code == 200 and b"Start Bergen" in response.content
    assert not current.decisions.exists()


def test_api_decision_starts_area(make_user):
    current = point(D(2025, 4, 1))
    client = api_client_for(make_user("directorate"))
    response = client.post(
        f"/api/v1/decision-points/{current.pk}/decisions/",
        {
            "kind": "start_omrade",
            "text": "Start",
            "solution": "pll",
            "health_trust": "helse-bergen",
            "effective_date": "2025-04-02",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert AreaRollout.objects.get(health_trust__code="helse-bergen").phase == Phase.LIMITED_ROLLOUT
    response = client.post(
        f"/api/v1/decision-points/{current.pk}/close/",
        {"held_on": "2025-04-01"},
        format="json",
    )
    assert response.status_code == 428
    etag = client.get(f"/api/v1/decision-points/{current.pk}/")["ETag"]
    response = client.post(
        f"/api/v1/decision-points/{current.pk}/close/",
        {"held_on": "2025-04-01"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200 and response.json()["status"] == "besluttet"
