"""Who is missing: the organisations and municipalities at a place, in a user's reach, that do
not (yet) count towards a coverage target. Today's: the current statuses, registry and
municipalities."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from actors.models import Municipality, Organisation
from rollout.choices import Status
from rollout.selectors import with_status

from ..choices import Denominator, Level
from ..models import CoverageTarget
from .counting import Cell, municipality_counts, target_organisations
from .scopes import ScopeRef


def missing_organisations(target: CoverageTarget, user, scope: ScopeRef):
    """Organisations of an organisation target, in the user's reach and at the place, not
    (yet) counted, with their current status and reason (and what they wait for)."""
    qs = with_status(
        target_organisations(target, Organisation.objects.visible_to(user)), target.solution
    ).exclude(current_status__in=target.achieved_statuses)
    if target.denominator == Denominator.RELEVANT:
        qs = qs.exclude(current_status=Status.NOT_RELEVANT)
    return _at_place(qs, scope).select_related("type", "municipality", "health_trust")


def _at_place(qs, scope: ScopeRef):
    """Narrow organisations or municipalities to a place."""
    org = qs.model is Organisation
    lookups = {
        Level.REGION: (
            "health_trust__regional_health_authority_id"
            if org
            else "catchments__health_trust__regional_health_authority_id"
        ),
        Level.AREA: "health_trust_id" if org else "catchments__health_trust_id",
        Level.COUNTY: "municipality__county_id" if org else "county_id",
        Level.MUNICIPALITY: "municipality_id" if org else "pk",
    }
    if scope.level == Level.NATION:
        return qs
    return qs.filter(**{lookups[scope.level]: scope.scope_id}).distinct()


@dataclass
class MunicipalityGap:
    municipality: Municipality
    cell: Cell
    missing: list = field(default_factory=list)  # (organisation, status, reason)


def missing_municipalities(target: CoverageTarget, user, scope: ScopeRef) -> list[MunicipalityGap]:
    """Municipalities of a municipality target, in reach and at the place, that do not count,
    with their organisations' counts (one aggregate query). `attach_missing` then names the
    organisations that hold back the municipalities on one page."""
    municipalities = _at_place(Municipality.objects.current().visible_to(user), scope)
    rows = (
        with_status(
            target_organisations(target).filter(municipality__in=municipalities.values("pk")),
            target.solution,
        )
        .values("municipality_id")
        .annotate(
            total=Count("id"),
            achieved=Count("id", filter=Q(current_status__in=target.achieved_statuses)),
            excluded=Count("id", filter=Q(current_status=Status.NOT_RELEVANT)),
        )
        .order_by()
    )
    cells = {r["municipality_id"]: Cell(r["total"], r["achieved"], r["excluded"]) for r in rows}
    gaps = []
    for m in municipalities.select_related("county").order_by("name"):
        cell = cells.get(m.pk, Cell())
        counted, in_denominator = municipality_counts(target, cell)
        if in_denominator and not counted:
            gaps.append(MunicipalityGap(m, cell))
    return gaps


def attach_missing(target: CoverageTarget, user, gaps: list[MunicipalityGap]) -> None:
    """Fill `missing` of each gap: its organisations of the types, within the user's reach,
    not achieved and not marked not relevant, with their status and reason. One query for
    all the gaps. (A coordinator of one of Oslo's areas sees Oslo, but only the
    organisations of their own area.)"""
    by_municipality = {g.municipality.pk: g for g in gaps}
    organisations = (
        with_status(
            target_organisations(target, Organisation.objects.visible_to(user)).filter(
                municipality__in=list(by_municipality)
            ),
            target.solution,
        )
        .exclude(current_status__in=[*target.achieved_statuses, Status.NOT_RELEVANT])
        .select_related("type")
        .order_by("name")
    )
    for o in organisations:
        by_municipality[o.municipality_id].missing.append(o)
