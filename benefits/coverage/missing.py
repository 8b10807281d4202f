"""Who is missing: the organisations and municipalities at a place, in a user's reach, that do
not (yet) count towards a coverage target. Today's: the current statuses, registry and
municipalities."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from actors.models import Municipality, Organisation
from rollout.choices import Status
from rollout.selectors import cached_figures, with_status

from ..choices import Denominator, Level
from ..models import CoverageTarget
from .counting import Cell, municipality_counts, target_organisations
from .scopes import ScopeRef

SHOWN = 10  # organisations named per municipality that does not count


def missing_organisations(target: CoverageTarget, user, scope: ScopeRef):
    """Organisations of an organisation target, in the user's reach and at the place, not
    (yet) counted, with their current status and reason (and what they wait for)."""
    qs = with_status(
        target_organisations(target, Organisation.objects.visible_to(user)), target.solution
    ).exclude(current_status__in=target.achieved_statuses)
    if target.denominator == Denominator.RELEVANT:
        qs = qs.exclude(current_status=Status.NOT_RELEVANT)
    return (
        _at_place(qs, scope)
        .select_related("type", "municipality")
        .only("name", "type_id", "municipality_id", "type__name", "municipality__name")
    )


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


def _counted(rows, target: CoverageTarget) -> list:
    """`list(rows)`, a grouped count of today's organisations and statuses, from the cache
    while no status or organisation has changed (rollout.selectors.cached_figures): its SQL
    names the solution, the statuses, the place and the user's scope; the key adds the
    target's organisation types (a subquery in the SQL)."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # nothing in reach
        return []
    types = sorted(t.pk for t in target.organisation_types.all())
    return cached_figures("coverage-missing", (sql, params, types), lambda: list(rows))


def missing_sizes(target: CoverageTarget, missing) -> list[tuple[str, int]]:
    """[(municipality name, organisations)] of a list of `missing_organisations`, in the
    order of the names (for actors.listing.OrderedByGroup): counted per municipality (from
    the cache, `_counted`), the names read afresh."""
    counts = dict(
        _counted(missing.order_by().values_list("municipality_id").annotate(n=Count("pk")), target)
    )
    sizes: list[tuple[str, int]] = []
    for pk, name in (
        Municipality.objects.filter(pk__in=list(counts)).order_by("name").values_list("pk", "name")
    ):
        if sizes and sizes[-1][0] == name:  # one group per name, as the list sorts
            sizes[-1] = (name, sizes[-1][1] + counts[pk])
        else:
            sizes.append((name, counts[pk]))
    return sizes


@dataclass
class MunicipalityGap:
    municipality: Municipality
    cell: Cell
    missing: list = field(default_factory=list)  # the first SHOWN, by name (attach_missing)
    missing_count: int = 0  # all of them

    @property
    def more(self) -> int:
        """How many are missing beyond those named."""
        return self.missing_count - len(self.missing)


def missing_municipalities(target: CoverageTarget, user, scope: ScopeRef) -> list[MunicipalityGap]:
    """Municipalities of a municipality target, in reach and at the place, that do not count,
    with their organisations' counts (one aggregate query, or the cache). `attach_missing`
    then names the organisations that hold back the municipalities on one page."""
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
    cells = {
        r["municipality_id"]: Cell(r["total"], r["achieved"], r["excluded"])
        for r in _counted(rows, target)
    }
    gaps = []
    for m in municipalities.order_by("name"):
        cell = cells.get(m.pk, Cell())
        counted, in_denominator = municipality_counts(target, cell)
        if in_denominator and not counted:
            gaps.append(MunicipalityGap(m, cell))
    return gaps


def attach_missing(target: CoverageTarget, user, gaps: list[MunicipalityGap]) -> None:
    """Fill `missing` of each gap with the first SHOWN (by name) of its organisations of the
    types, within the user's reach, not achieved and not marked not relevant, with their
    status and reason, and `missing_count` with how many there are. One query for all the
    gaps. (A coordinator of one of Oslo's areas sees Oslo, but only the organisations of
    their own area.)"""
    by_municipality = {g.municipality.pk: g for g in gaps}
    in_municipality = {"partition_by": F("municipality_id")}
    organisations = (
        with_status(
            target_organisations(target, Organisation.objects.visible_to(user)).filter(
                municipality__in=list(by_municipality)
            ),
            target.solution,
        )
        .exclude(current_status__in=[*target.achieved_statuses, Status.NOT_RELEVANT])
        .annotate(
            rank=Window(RowNumber(), order_by=[F("name").asc(), F("pk").asc()], **in_municipality),
            of=Window(Count("pk"), **in_municipality),
        )
        .filter(rank__lte=SHOWN)
        .only("pk", "name", "municipality_id")
        .order_by("name", "pk")
    )
    for o in organisations:
        gap = by_municipality[o.municipality_id]
        gap.missing.append(o)
        gap.missing_count = o.of
