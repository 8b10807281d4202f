"""The cut list: items proposed for cutting, and cutting or keeping them by a decision at
a decision point (with the change log)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors.concurrency import check_version
from rollout.choices import ChangeKind, CutStatus, DecisionKind
from rollout.models import CutListItem, DecisionPoint

from .access import require_govern
from .changelog import changelog_record
from .decisions import decision_record

CUT_FIELDS = (
    "title",
    "justification",
    "cost_consequence",
    "benefit_consequence",
    "solution",
    "health_trust",
)


def cut_item_save(*, user, item_id: int | None, expected_version, fields: dict) -> CutListItem:
    """Propose an item for the cut list, or change a proposed one. For an area-wise
    solution an item is a whole area (CutListItem.clean)."""
    require_govern(user)
    unknown = set(fields) - set(CUT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if item_id is None:
            item = CutListItem()
        else:
            item = CutListItem.objects.select_for_update().get(pk=item_id)
            check_version(item, expected_version)
            if item.status != CutStatus.PROPOSED:
                raise ValidationError(_("Only proposed items can be changed."))
            item.version += 1
        for name, value in fields.items():
            setattr(item, name, value)
        item.full_clean(exclude=["decision"])
        item.save()
        if item_id is None:
            changelog_record(
                user=user,
                kind=ChangeKind.CUT_LIST,
                title=_("Proposed for the cut list: %(t)s") % {"t": item.title},
                reason=item.justification,
                cost_benefit_note=_cost_benefit(item),
                subject=_item_subject(item),
            )
    return item


def _cost_benefit(item: CutListItem) -> str:
    parts = [item.cost_consequence.strip(), item.benefit_consequence.strip()]
    return "\n".join(p for p in parts if p)


def _item_subject(item: CutListItem) -> str:
    if item.health_trust_id:
        return f"{item.solution.short_name} – {item.health_trust.name}"
    return item.solution.short_name


def cut_item_decide(
    *,
    user,
    item: CutListItem,
    to_status: str,
    point: DecisionPoint,
    reason: str,
    effective_date: datetime.date | None,
    expected_version,
) -> CutListItem:
    """Cut or keep an item by a decision at a decision point. Cutting a whole area of an
    area-wise solution is a decision to stop the area (its rollout record goes back to
    planning, with history); other cuts are decisions on scope."""
    require_govern(user)
    if to_status not in (CutStatus.CUT, CutStatus.KEPT):
        raise ValidationError({"status": _("Decide to cut or to keep the item.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    with transaction.atomic():
        # Lock the item's own row only (PostgreSQL cannot lock the nullable side of the
        # outer join to the area).
        item = (
            CutListItem.objects.select_for_update(of=("self",))
            .select_related("solution", "health_trust")
            .get(pk=item.pk)
        )
        check_version(item, expected_version)
        if item.status != CutStatus.PROPOSED:
            raise ValidationError(_("This item has been decided already."))
        stops_area = to_status == CutStatus.CUT and item.solution.area_wise
        verb = _("Cut") if to_status == CutStatus.CUT else _("Keep")
        decision = decision_record(
            user=user,
            point=point,
            kind=DecisionKind.STOP_AREA if stops_area else DecisionKind.SCOPE,
            text=f"{verb}: {item.title}",
            reason=reason,
            cost_benefit_note=_cost_benefit(item),
            solution=item.solution,
            health_trust=item.health_trust,
            effective_date=effective_date or (timezone.localdate() if stops_area else None),
        )
        item.status, item.decision = to_status, decision
        item.version += 1
        item.save()
        changelog_record(
            user=user,
            kind=ChangeKind.CUT_LIST,
            title=f"{CutStatus(to_status).label}: {item.title}",
            reason=reason,
            cost_benefit_note=_cost_benefit(item),
            subject=_item_subject(item),
            decision_point=point,
            decision=decision,
        )
    return item
