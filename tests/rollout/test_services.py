import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from actors.concurrency import VersionConflict
from actors.models import OrganisationType
from rollout import selectors, services
from rollout.choices import Source, Status
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def sol(code):
    return Solution.objects.get(code=code)


def change(user, org, code, to, **kw):
    return services.status_change(
        user=user, organisation=org, solution=sol(code), to_status=to, **kw
    )


def test_change_writes_status_and_one_history_row(contact, org_bergen):
    row = change(
        contact, org_bergen, "kjernejournal", Status.PLANNING, effective_date=D(2024, 1, 5)
    )
    assert (row.status, row.version, row.effective_date) == ("planlegging", 1, D(2024, 1, 5))
    history = list(StatusChange.objects.filter(organisation=org_bergen))
    assert [(h.from_status, h.to_status, h.changed_by, h.source) for h in history] == [
        ("ikke_startet", "planlegging", contact, Source.UI)
    ]


def test_transitions_are_declared_in_one_place(contact, org_bergen):
    change(contact, org_bergen, "kjernejournal", Status.IN_USE)
    with pytest.raises(ValidationError) as exc:
        change(contact, org_bergen, "kjernejournal", Status.PLANNING)
    assert "kan ikke endres til" in str(exc.value.message_dict["to_status"])
    with pytest.raises(ValidationError, match="allerede"):
        change(contact, org_bergen, "kjernejournal", Status.IN_USE)


@pytest.mark.parametrize("status", [Status.BLOCKED, Status.NOT_RELEVANT])
def test_reason_required(contact, org_bergen, status):
    with pytest.raises(ValidationError) as exc:
        change(contact, org_bergen, "kjernejournal", status)
    assert "reason" in exc.value.message_dict
    row = change(contact, org_bergen, "kjernejournal", status, reason="Venter på leverandør")
    assert row.reason == "Venter på leverandør"


def test_dates_cannot_go_backwards_or_into_the_future(contact, org_bergen):
    change(contact, org_bergen, "kjernejournal", Status.PLANNING, effective_date=D(2024, 5, 1))
    with pytest.raises(ValidationError) as exc:
        change(contact, org_bergen, "kjernejournal", Status.TRIAL, effective_date=D(2024, 4, 1))
    assert "effective_date" in exc.value.message_dict
    with pytest.raises(ValidationError):
        change(
            contact,
            org_bergen,
            "kjernejournal",
            Status.TRIAL,
            effective_date=services.today() + datetime.timedelta(days=1),
        )


def test_solution_must_apply_to_the_type(contact):
    pharmacy = OrganisationFactory(type=OrganisationType.objects.get(code="apotek"))
    with pytest.raises(ValidationError, match="gjelder ikke"):
        change(contact, pharmacy, "sfm", Status.PLANNING)


def test_prerequisite_refused_then_overridden_by_a_coordinator(contact, coordinator, org_bergen):
    with pytest.raises(ValidationError) as exc:
        change(contact, org_bergen, "dokumentdeling", Status.TRIAL)
    assert "Kjernejournal" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError) as exc:  # a contact cannot override
        change(contact, org_bergen, "dokumentdeling", Status.TRIAL, override_reason="Haster")
    assert "override_reason" in exc.value.message_dict
    change(coordinator, org_bergen, "dokumentdeling", Status.TRIAL, override_reason="Pilot")
    last = StatusChange.objects.filter(solution=sol("dokumentdeling")).get()
    assert last.prerequisite_override == "Pilot"


def test_prerequisite_met_records_no_override(coordinator, org_bergen):
    change(coordinator, org_bergen, "kjernejournal", Status.IN_USE)
    change(coordinator, org_bergen, "dokumentdeling", Status.TRIAL, override_reason="unødvendig")
    assert StatusChange.objects.get(solution=sol("dokumentdeling")).prerequisite_override == ""


def test_prerequisite_skipped_where_it_does_not_apply(coordinator):
    # PLL needs SFM, but SFM does not apply to pharmacies.
    pharmacy = OrganisationFactory(type=OrganisationType.objects.get(code="apotek"))
    assert change(coordinator, pharmacy, "pll", Status.TRIAL).status == Status.TRIAL


def test_version_conflict(contact, org_bergen):
    change(contact, org_bergen, "kjernejournal", Status.PLANNING, expected_version=0)
    with pytest.raises(VersionConflict):
        change(contact, org_bergen, "kjernejournal", Status.TRIAL, expected_version=0)


def test_out_of_scope_is_not_found(contact, org_tromso):
    with pytest.raises(type(org_tromso).DoesNotExist):
        change(contact, org_tromso, "kjernejournal", Status.PLANNING)


def test_history_refuses_update_and_delete_in_the_database(contact, org_bergen):
    change(contact, org_bergen, "kjernejournal", Status.PLANNING)
    row = StatusChange.objects.get()
    table = StatusChange._meta.db_table
    for sql in (
        f"UPDATE {table} SET reason = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        StatusChange.objects.filter(pk=row.pk).delete()
    assert StatusChange.objects.get(pk=row.pk).reason == ""


def test_as_of_selector_against_a_hand_built_history(coordinator):
    a, b, c = OrganisationFactory.create_batch(3)
    kj = sol("kjernejournal")
    change(coordinator, a, "kjernejournal", Status.PLANNING, effective_date=D(2021, 3, 1))
    change(coordinator, a, "kjernejournal", Status.IN_USE, effective_date=D(2021, 9, 1))
    change(coordinator, b, "kjernejournal", Status.TECHNICALLY_READY, effective_date=D(2021, 9, 1))
    change(
        coordinator,
        b,
        "kjernejournal",
        Status.BLOCKED,
        effective_date=D(2021, 9, 1),
        reason="EPJ-oppgradering",
    )
    assert selectors.statuses_as_of(kj, D(2021, 2, 28)) == {}
    assert selectors.statuses_as_of(kj, D(2021, 8, 31)) == {a.pk: "planlegging"}
    assert selectors.statuses_as_of(kj, D(2021, 9, 1)) == {a.pk: "i_bruk", b.pk: "blokkert"}
    orgs = type(a).objects.filter(pk__in=[a.pk, b.pk, c.pk])
    series = selectors.status_counts_over_time(
        kj, [D(2021, 2, 28), D(2021, 8, 31), D(2021, 12, 31)], orgs
    )
    assert series["ikke_startet"] == [3, 2, 1]
    assert series["planlegging"] == [0, 1, 0]
    assert series["i_bruk"] == [0, 0, 1]
    assert series["blokkert"] == [0, 0, 1]


def test_bulk_is_all_or_nothing_with_one_history_row_each(coordinator):
    orgs = OrganisationFactory.create_batch(3)
    blocked = orgs[2]
    change(coordinator, blocked, "kjernejournal", Status.IN_USE)
    result = services.statuses_bulk_change(
        user=coordinator,
        organisation_ids=[o.pk for o in orgs],
        solution=sol("kjernejournal"),
        to_status=Status.PLANNING,
    )
    assert not result.ok and [o for o, _msg in result.errors] == [blocked]
    assert RolloutStatus.objects.filter(status=Status.PLANNING).count() == 0
    assert StatusChange.objects.count() == 1
    result = services.statuses_bulk_change(
        user=coordinator,
        organisation_ids=[o.pk for o in orgs[:2]],
        solution=sol("kjernejournal"),
        to_status=Status.PLANNING,
    )
    assert (result.changed, result.unchanged, result.ok) == (2, 0, True)
    assert StatusChange.objects.count() == 3


def test_bulk_refuses_organisations_out_of_scope(contact, org_bergen, org_tromso):
    with pytest.raises(type(org_bergen).DoesNotExist):
        services.statuses_bulk_change(
            user=contact,
            organisation_ids=[org_bergen.pk, org_tromso.pk],
            solution=sol("kjernejournal"),
            to_status=Status.PLANNING,
        )
    assert not StatusChange.objects.exists()


def test_area_start_needs_a_decision_and_writes_phase_history(coordinator):
    from actors.models import HealthTrust
    from rollout.models import PhaseChange

    bergen = HealthTrust.objects.get(code="helse-bergen")
    with pytest.raises(ValidationError) as exc:
        services.area_rollout_update(
            user=coordinator,
            solution=sol("pll"),
            health_trust=bergen,
            expected_version=0,
            phase="begrenset_bredding",
        )
    assert "decision_date" in exc.value.message_dict
    area = services.area_rollout_update(
        user=coordinator,
        solution=sol("pll"),
        health_trust=bergen,
        expected_version=0,
        phase="begrenset_bredding",
        decision_date=D(2024, 2, 1),
        decision_reference="PS 3/24",
    )
    assert area.version == 1
    assert PhaseChange.objects.get(health_trust=bergen).to_phase == "begrenset_bredding"
    with pytest.raises(VersionConflict):
        services.area_rollout_update(
            user=coordinator,
            solution=sol("pll"),
            health_trust=bergen,
            expected_version=0,
            phase="planlegging",
        )
