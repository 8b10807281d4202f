"""Decisions recorded at a decision point, each written to the change log.

Decisions that start or stop an area of an area-wise solution (PLL) change the area's
rollout record through `rollout.services.area_rollout_update`, so the phase history is
written as for any other change. That service is for rollout coordinators; the
directorate edits nothing operational by itself, but a decision of the programme board
recorded by the directorate is the authority for the change. So when the deciding user
may not change the area, the service is called as `SYSTEM_USER`, while the decision and
its change-log entry record the real user (`decided_by`, `recorded_by`), and the area's
decision note names the decision point. Area coordinators never reach this code.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from actors import scoping
from actors.models import HealthTrust
from rollout.choices import ChangeKind, DecisionKind, DecisionPointStatus, Phase
from rollout.models import Decision, DecisionPoint, Solution

from .access import require_govern
from .changelog import changelog_record

AREA_KINDS = (DecisionKind.START_AREA, DecisionKind.STOP_AREA)
CHANGE_KIND_OF = {
    DecisionKind.START_AREA: ChangeKind.DECISION,
    DecisionKind.STOP_AREA: ChangeKind.DECISION,
    DecisionKind.SCOPE: ChangeKind.SCOPE,
    DecisionKind.TARGET: ChangeKind.TARGET,
    DecisionKind.OTHER: ChangeKind.DECISION,
}


def _area_phase_on_start(solution: Solution) -> str:
    """An area starts in limited rollout until the solution is in national rollout."""
    if solution.national_phase == Phase.NATIONAL_ROLLOUT:
        return Phase.NATIONAL_ROLLOUT
    return Phase.LIMITED_ROLLOUT


def _apply_to_area(user, decision: Decision, point: DecisionPoint, reference: str) -> None:
    """Start or stop the decision's area through the rollout service (see the module's
    docstring for why the directorate's decisions go through as SYSTEM_USER)."""
    from rollout import services as rollout_services

    solution, trust = decision.solution, decision.health_trust
    scope = scoping.scope_for(user)
    actor = user if scope.can_edit and scope.edits_all else scoping.SYSTEM_USER
    area = rollout_services.area_rollout_for(solution, trust)
    note = _("%(kind)s – %(point)s (%(by)s): %(text)s") % {
        "kind": decision.get_kind_display(),
        "point": point.title,
        "by": str(user),
        "text": decision.text,
    }
    fields = {
        "decision_date": decision.effective_date,
        "decision_reference": reference[:100],
        "decision_note": note,
    }
    if decision.kind == DecisionKind.START_AREA:
        fields["phase"] = _area_phase_on_start(solution)
        fields["actual_start"] = decision.effective_date
    else:
        # Stopped: back to planning; the start date stays as history of what happened.
        fields["phase"] = Phase.PLANNING
    rollout_services.area_rollout_update(
        user=actor,
        solution=solution,
        health_trust=trust,
        expected_version=area.version,
        **fields,
    )


def decision_record(
    *,
    user,
    point: DecisionPoint,
    kind: str,
    text: str,
    reason: str = "",
    cost_benefit_note: str = "",
    solution: Solution | None = None,
    health_trust: HealthTrust | None = None,
    effective_date: datetime.date | None = None,
) -> Decision:
    """Record a decision at a point and write it to the change log. Starting or stopping
    an area (area-wise solutions only) updates the area's rollout record with history, in
    the same transaction: if the area refuses the change, nothing is recorded."""
    require_govern(user)
    errors: dict[str, list[str]] = {}
    if kind not in DecisionKind.values:
        errors["kind"] = [_("Unknown kind of decision.")]
    if not text.strip():
        errors["text"] = [_("Write the decision.")]
    if kind in AREA_KINDS:
        if solution is None or not solution.area_wise:
            errors["solution"] = [_("Choose a solution that is rolled out area by area.")]
        if health_trust is None:
            errors["health_trust"] = [_("Choose the area.")]
        if effective_date is None:
            errors["effective_date"] = [_("Give the date the decision takes effect.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        point = DecisionPoint.objects.select_for_update().get(pk=point.pk)
        if point.status == DecisionPointStatus.DECIDED:
            raise ValidationError(_("This decision point is closed; record it at a later one."))
        decision = Decision(
            decision_point=point,
            kind=kind,
            text=text.strip(),
            reason=reason.strip(),
            cost_benefit_note=cost_benefit_note.strip(),
            solution=solution,
            health_trust=health_trust,
            effective_date=effective_date,
            decided_by=user,
        )
        decision.full_clean(exclude=["decision_point", "decided_by", "solution", "health_trust"])
        decision.save()
        if kind in AREA_KINDS:
            _apply_to_area(user, decision, point, reference=point.title)
        where = " – ".join(
            x
            for x in (
                solution.short_name if solution else "",
                health_trust.name if health_trust else "",
            )
            if x
        )
        changelog_record(
            user=user,
            kind=CHANGE_KIND_OF[kind],
            title=f"{decision.get_kind_display()}: {where or decision.text[:200]}",
            reason=decision.reason or decision.text,
            cost_benefit_note=decision.cost_benefit_note,
            subject=where,
            decision_point=point,
            decision=decision,
        )
    return decision
