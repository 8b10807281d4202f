"""Bulk status changes (rollout/bulk.py, issue 18): the preview says what each selected
organisation's change does (change, refused and why, already so) and writes nothing;
applying only the allowed changes writes one history row each and leaves the refused ones
as they are; applying after a preview re-checks against what the preview saw. The rules
are those of status_change: the result is what one change at a time gives."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from actors.models import HealthTrust, Municipality, Organisation
from rollout import services
from rollout.bulk import CHANGE, REFUSED, UNCHANGED, bulk_change
from rollout.choices import Source, Status, StatusChangeKind
from rollout.models import RolloutStatus, Solution, StatusChange
from tests.factories import OrganisationFactory
from tests.rollout.test_status_import_bulk import snapshot

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 3)


def sol(code="kjernejournal"):
    return Solution.objects.get(code=code)


def set_status(user, organisation, status, code="kjernejournal", **kwargs):
    return services.status_change(
        user=user, organisation=organisation, solution=sol(code), to_status=status, **kwargs
    )


@pytest.fixture
def three(coordinator):
    """Not started; in use (cannot go back to planning); planning already."""
    fresh, in_use, planning = (
        OrganisationFactory(municipality__number="4601", name=name)
        for name in ("A legesenter", "B legesenter", "C legesenter")
    )
    set_status(coordinator, in_use, Status.IN_USE, effective_date=datetime.date(2024, 1, 1))
    set_status(coordinator, planning, Status.PLANNING, effective_date=datetime.date(2024, 1, 1))
    return fresh, in_use, planning


def to_planning(user, organisations, **kwargs):
    return bulk_change(
        user=user,
        organisation_ids=[o.pk for o in organisations],
        solution=sol(),
        to_status=Status.PLANNING,
        reason="Oppstart",
        effective_date=DAY,
        **kwargs,
    )


def test_the_preview_sorts_every_organisation_and_writes_nothing(coordinator, three):
    fresh, in_use, planning = three
    before = snapshot()
    plan = to_planning(coordinator, three)
    assert snapshot() == before
    assert not plan.applied
    assert [(o.organisation, o.kind) for o in plan.outcomes] == [
        (fresh, CHANGE),
        (in_use, REFUSED),
        (planning, UNCHANGED),
    ]
    refused = plan.refused[0]
    assert (refused.from_status, refused.why) == (Status.IN_USE, "transition")
    assert refused.message
    assert (plan.changed, plan.unchanged, plan.ok) == (1, 1, False)
    assert plan.by_from_status() == [(Status.NOT_STARTED.label, 1)]
    assert plan.by_municipality() == [("Bergen", 1, 1, 1)]


def test_allowed_only_saves_the_allowed_with_one_history_row_each(coordinator, three):
    fresh, in_use, planning = three
    history = StatusChange.objects.count()
    plan = to_planning(coordinator, three, apply=True, allowed_only=True)
    assert plan.applied and [o.organisation for o in plan.refused] == [in_use]
    assert StatusChange.objects.count() == history + 1
    change = StatusChange.objects.latest("id")
    assert (change.organisation, change.from_status, change.to_status) == (
        fresh,
        Status.NOT_STARTED,
        Status.PLANNING,
    )
    assert (change.reason, change.effective_date, change.changed_by, change.source) == (
        "Oppstart",
        DAY,
        coordinator,
        Source.UI,
    )
    assert services.current_status(in_use, sol()).status == Status.IN_USE


def test_all_or_nothing_saves_nothing_when_one_is_refused(coordinator, three):
    before = snapshot()
    plan = to_planning(coordinator, three, apply=True)
    assert not plan.applied and len(plan.refused) == 1
    assert snapshot() == before


def test_each_refusal_names_its_rule(coordinator):
    orgs = OrganisationFactory.create_batch(4, municipality__number="4601")
    set_status(coordinator, orgs[1], Status.IN_USE, code="kjernejournal")
    set_status(coordinator, orgs[2], Status.PLANNING, effective_date=datetime.date(2025, 6, 1))

    def why(**kwargs):
        plan = bulk_change(
            user=coordinator,
            organisation_ids=[o.pk for o in orgs],
            solution=sol(kwargs.pop("code", "dokumentdeling")),
            **kwargs,
        )
        return {o.organisation.pk: o.why for o in plan.refused}

    # Trying dokumentdeling needs kjernejournal in use (only orgs[1] has it).
    trial = why(to_status=Status.TRIAL)
    assert trial[orgs[0].pk] == "prerequisite" and orgs[1].pk not in trial
    # Blocked needs a reason.
    assert set(why(to_status=Status.BLOCKED, code="kjernejournal").values()) == {"reason"}
    # A date before the current status's date.
    early = why(
        to_status=Status.TECHNICALLY_READY,
        code="kjernejournal",
        effective_date=datetime.date(2025, 1, 1),
    )
    assert early[orgs[2].pk] == "date"


def test_a_solution_that_does_not_apply_is_refused(coordinator):
    from actors.models import OrganisationType

    pharmacy = OrganisationType.objects.get(code="apotek")  # no kritisk informasjon there
    organisation = OrganisationFactory(municipality__number="4601", type=pharmacy)
    plan = bulk_change(
        user=coordinator,
        organisation_ids=[organisation.pk],
        solution=sol("kritisk-informasjon"),
        to_status=Status.PLANNING,
    )
    assert plan.refused[0].why == "not_applicable"


def test_applying_after_a_preview_refuses_what_changed_since(coordinator, contact, three):
    fresh, in_use, planning = three
    extra = OrganisationFactory(municipality__number="4601", name="D legesenter")
    preview = to_planning(coordinator, [fresh, planning, extra])
    expected = {o.organisation.pk: o.version for o in preview.outcomes}
    # A colleague changes one of them between the preview and the apply.
    set_status(contact, extra, Status.TECHNICALLY_READY)
    history = StatusChange.objects.count()
    plan = to_planning(
        coordinator, [fresh, planning, extra], apply=True, allowed_only=True, expected=expected
    )
    assert plan.applied
    assert [(o.organisation, o.why) for o in plan.refused] == [(extra, "stale")]
    assert "Teknisk klar" in plan.refused[0].message or "Technically" in plan.refused[0].message
    assert services.current_status(extra, sol()).status == Status.TECHNICALLY_READY
    assert services.current_status(fresh, sol()).status == Status.PLANNING
    assert StatusChange.objects.count() == history + 1


def test_all_or_nothing_after_a_preview_writes_nothing_when_one_became_refused(
    coordinator, contact
):
    a, b = OrganisationFactory.create_batch(2, municipality__number="4601")
    preview = to_planning(coordinator, [a, b])
    assert preview.ok
    set_status(contact, b, Status.IN_USE)
    before = snapshot()
    plan = to_planning(
        coordinator,
        [a, b],
        apply=True,
        expected={o.organisation.pk: o.version for o in preview.outcomes},
    )
    assert not plan.applied and plan.refused[0].organisation == b
    assert snapshot() == before


def test_applying_after_a_preview_leaves_new_and_gone_organisations_alone(coordinator, three):
    fresh, in_use, planning = three
    preview = to_planning(coordinator, [fresh, in_use])
    expected = {o.organisation.pk: o.version for o in preview.outcomes}
    newcomer = OrganisationFactory(municipality__number="4601")
    # `in_use` moves out of the coordinator's areas; `newcomer` matches now, not previewed.
    Organisation.objects.filter(pk=in_use.pk).update(
        municipality=Municipality.objects.get(number="5501"),
        health_trust=HealthTrust.objects.get(code="unn"),
    )
    plan = to_planning(
        coordinator, [fresh, newcomer], apply=True, allowed_only=True, expected=expected
    )
    assert (plan.not_previewed, plan.gone, plan.changed) == (1, 1, 1)
    assert services.current_status(newcomer, sol()).status == Status.NOT_STARTED


def test_organisations_outside_scope_are_refused(contact, org_bergen, org_tromso):
    with pytest.raises(Organisation.DoesNotExist):
        to_planning(contact, [org_bergen, org_tromso])
    with pytest.raises(Organisation.DoesNotExist):
        to_planning(contact, [org_bergen, org_tromso], apply=True, allowed_only=True)
    assert not StatusChange.objects.exists()


def test_a_bulk_change_gives_what_one_change_at_a_time_gives(coordinator, three):
    fresh, in_use, planning = three
    drifted = OrganisationFactory(municipality__number="4601", name="E legesenter")
    # A row stored without history: the change is preceded by a correction.
    RolloutStatus.objects.create(
        organisation=drifted, solution=sol(), status=Status.BLOCKED, effective_date=DAY
    )
    organisations = [fresh, in_use, planning, drifted]
    with transaction.atomic():
        to_planning(coordinator, organisations, apply=True, allowed_only=True)
        bulk = snapshot()
        transaction.set_rollback(True)
    for organisation in organisations:
        if services.current_status(organisation, sol()).status == Status.PLANNING:
            continue
        try:
            set_status(
                coordinator, organisation, Status.PLANNING, reason="Oppstart", effective_date=DAY
            )
        except ValidationError:  # the refused one stays as it is
            continue
    assert bulk == snapshot()
    kinds = [h[8] for h in bulk[1]]
    assert kinds.count(StatusChangeKind.CORRECTION) == 1


def test_queries_do_not_grow_with_the_selection(coordinator):
    def queries(n):
        orgs = OrganisationFactory.create_batch(n, municipality__number="4601")
        from django.db import connection

        with CaptureQueriesContext(connection) as captured:
            to_planning(coordinator, orgs, apply=True, allowed_only=True)
        return len(captured)

    queries(2)  # the first reads what is then kept (the user's scope, …)
    assert queries(3) == queries(30)
