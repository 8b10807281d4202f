"""Reads for rollout pages, the API and later the coverage computations. Everything starts
from the user's scoped querysets; counts are done by the database."""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save

from actors import registry
from actors.models import Organisation, OrganisationType
from actors.signals import coverage_inputs_changed

from . import conditions
from .choices import (
    ADOPTED_STATUSES,
    READY_STATUSES,
    STATUS_ORDER,
    Answer,
    PrerequisiteScope,
    ReportStatus,
    Status,
)
from .conditions import Condition
from .models import ReadinessAnswer, RolloutStatus, Solution, StatusChange

log = logging.getLogger(__name__)

T = TypeVar("T")


def applicable(organisations, solution: Solution):
    """Active organisations of the types the solution applies to."""
    return organisations.filter(is_active=True, type__in=solution.organisation_types.values("pk"))


def with_status(organisations, solution: Solution):
    """Annotate `current_status` ('ikke_startet' without a row), `status_date`,
    `status_reason`, `status_version`: one LEFT JOIN on the status row of the solution
    (at most one per organisation), so filtering and sorting on them stay cheap."""
    return organisations.annotate(
        _status=FilteredRelation(
            "rollout_statuses", condition=Q(rollout_statuses__solution=solution)
        ),
    ).annotate(
        current_status=Coalesce(
            F("_status__status"), Value(Status.NOT_STARTED), output_field=CharField()
        ),
        status_date=F("_status__effective_date"),
        status_reason=Coalesce(F("_status__reason"), Value(""), output_field=CharField()),
        status_version=Coalesce(F("_status__version"), Value(0)),
    )


@dataclass
class MatrixCell:
    type: OrganisationType
    total: int
    counts: dict[str, int]

    @property
    def in_use(self) -> int:
        return sum(self.counts.get(s, 0) for s in ADOPTED_STATUSES)

    @property
    def share_in_use(self) -> float:
        return self.in_use / self.total if self.total else 0.0

    def ordered(self) -> list[tuple[str, str, int]]:
        return [(s, Status(s).label, self.counts.get(s, 0)) for s in STATUS_ORDER]


@dataclass
class MatrixRow:
    solution: Solution
    cells: list[MatrixCell | None] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.cells if c)

    @property
    def in_use(self) -> int:
        return sum(c.in_use for c in self.cells if c)


def status_matrix(user) -> tuple[list[OrganisationType], list[MatrixRow]]:
    """Solution × organisation type: how many of the user's visible organisations are in
    each status. Four queries, plus two (one grouped count over all statuses) when the
    counts are not in the cache (`matrix_counts`)."""
    types = list(OrganisationType.objects.all())
    solutions = list(Solution.objects.prefetch_related("organisation_types"))
    totals, counted = matrix_counts(Organisation.objects.visible_to(user))
    matrix = []
    for solution in solutions:
        applies = {t.pk for t in solution.organisation_types.all()}
        row = MatrixRow(solution)
        for t in types:
            if t.pk not in applies:
                row.cells.append(None)
                continue
            c = Counter(counted.get((solution.pk, t.pk), {}))
            total = totals.get(t.pk, 0)
            # Organisations without a status row have not started.
            c[Status.NOT_STARTED] += total - sum(c.values())
            row.cells.append(MatrixCell(t, total, dict(c)))
        matrix.append(row)
    return types, matrix


# Figures counted over many statuses, their history or organisations are cached (the
# matrix's grouped count over every status row took 80-300 ms at 10x; benefits caches its
# figures the same way, through cached_figures) under a version that every change of
# statuses, status history or organisations replaces when its transaction commits: the
# coverage signal that every service and import sends (actors.services.coverage_changed),
# and any save or delete of a status, a history entry or an organisation (connected in
# RolloutConfig.ready()). One replacement per transaction, however many rows it changed. A
# version is a random token, not a counter, so a lost version key can never bring back old
# entries; entries also expire. The cache is a convenience: when it cannot be reached, the
# figures are counted and changes are saved all the same (a warning is logged).
MATRIX_VERSION_KEY = "rollout:matrix:version"
MATRIX_TIMEOUT = 15 * 60


def matrix_changed(**kwargs) -> None:
    """Statuses, their history or organisations changed: once the transaction commits, the
    cached figures are no longer read. One replacement is queued per transaction: a later
    change rides on the pending one. (A pending callback queued in a savepoint that is still
    open encloses this change, so they roll back together; one queued in a released
    savepoint belongs to the transaction; one in a rolled-back savepoint is gone.)"""
    for _sids, func, _robust in transaction.get_connection().run_on_commit:
        if isinstance(func, MatrixBump) and not func.done:
            return
    transaction.on_commit(MatrixBump(), robust=True)


class MatrixBump:
    """Replaces the cache version of the figures (once)."""

    done = False

    def __call__(self) -> None:
        self.done = True
        try:
            cache.set(MATRIX_VERSION_KEY, uuid.uuid4().hex, None)
        except Exception:  # the cache is down: its entries expire, nothing else to do
            log.warning("rollout matrix: could not replace the cache version", exc_info=True)


def _matrix_version() -> str:
    version = cache.get(MATRIX_VERSION_KEY)
    if version is None:  # the first reader (or a lost key) starts one; a racing reader's wins
        cache.add(MATRIX_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(MATRIX_VERSION_KEY)
    return version or "none"


def connect_matrix_signals() -> None:
    coverage_inputs_changed.connect(matrix_changed, dispatch_uid="rollout.matrix_changed")
    for model in (RolloutStatus, StatusChange, Organisation):
        for signal in (post_save, post_delete):
            signal.connect(matrix_changed, sender=model, dispatch_uid=f"rollout.matrix.{model}")


def cached_figures(name: str, parts, compute: Callable[[], T]) -> T:
    """compute(), from the cache when it holds its answer for this version, this database
    and its newest rows, and `parts`; computed and stored otherwise (and when the cache
    cannot be reached, computed). The answer may depend on statuses, their history and
    organisations (the version follows them) and on nothing else but `parts`, which must
    therefore name all the rest: at least the scope (e.g. the SQL and parameters of the
    user's visible queryset) and whatever else compute() reads (solution ids, ...)."""
    # Also the database and its newest rows: a cache shared by several databases (tests,
    # a benchmark copy) never answers for another one.
    newest = (
        Organisation.objects.order_by("-pk")
        .values_list(
            "pk",
            Subquery(RolloutStatus.objects.order_by("-pk").values("pk")[:1]),
            Subquery(StatusChange.objects.order_by("-pk").values("pk")[:1]),
        )
        .first()
    )
    scope = repr((connection.settings_dict["NAME"], newest, parts))
    try:
        digest = hashlib.sha256(scope.encode()).hexdigest()
        key = f"rollout:{name}:{_matrix_version()}:{digest}"
        cached = cache.get(key)
    except Exception:  # the cache is down: count
        log.warning("rollout %s: the cache cannot be read", name, exc_info=True)
        return compute()
    if cached is None:
        cached = compute()
        try:
            cache.set(key, cached, MATRIX_TIMEOUT)
        except Exception:
            log.warning("rollout %s: the cache cannot be written", name, exc_info=True)
    return cached


def cached_count(name: str, rows) -> int:
    """How many `rows` (a queryset over organisations, statuses or history) there are,
    through cached_figures, keyed by the queryset's SQL (so its scope and filters)."""
    try:
        query = rows.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (e.g. an invalid form)
        return 0
    return cached_figures(name, query, rows.count)


def matrix_counts(visible) -> tuple[dict[int, int], dict[tuple[int, int], dict[str, int]]]:
    """({type id: active visible organisations}, {(solution id, type id): {status: n}})
    over the `visible` organisations, from the cache when it holds them for this version,
    this database and this scope (the visible queryset's SQL names the scope)."""
    try:
        sql, params = visible.query.sql_with_params()
    except EmptyResultSet:  # nothing visible (a user without a role)
        return {}, {}
    return cached_figures(
        "matrix", (sql, params), lambda: _count_matrix(visible.filter(is_active=True))
    )


def _count_matrix(active):
    totals = dict(active.values_list("type_id").annotate(n=Count("id")).values_list("type_id", "n"))
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    # Joined from the organisations (one join; a semi-join on them doubled the time at
    # 10x). Organisations without any status row give a row without a solution.
    rows = active.values_list(
        "rollout_statuses__solution_id", "type_id", "rollout_statuses__status"
    ).annotate(n=Count("rollout_statuses__id"))
    for solution_id, type_id, status, n in rows.order_by():
        if solution_id is not None:
            counts[(solution_id, type_id)][status] = n
    return totals, dict(counts)


# --- the past: statuses as they stood at the end of a day ----------------------------
#
# A status "as of" a day is the `to_status` of the organisation's last change for the
# solution with `effective_date <= day`; among changes on the same day the one recorded
# last (highest id) wins. Every reader below uses that one order.
#
# Which organisations a past day is about is the caller's choice: to select them by the
# place, type or active flag they had that day (not today's), use
# `actors.registry.organisations_on(day, organisations, municipality_ids=…, …)`.


def history_first_day() -> datetime.date | None:
    """The earliest effective date in the status history (None: no history yet)."""
    return StatusChange.objects.aggregate(first=Min("effective_date"))["first"]


def changes_as_of(
    solution: Solution, day: datetime.date, organisations=None
) -> dict[int, StatusChange]:
    """{organisation id: the change that set its status for `solution`} at the end of
    `day` (absent: not started then). One query; pass `organisations` (ids or a queryset,
    e.g. the organisations of one list page) to read only their history."""
    changes = StatusChange.objects.filter(solution=solution, effective_date__lte=day)
    if organisations is not None:
        changes = changes.filter(organisation__in=organisations)
    result: dict[int, StatusChange] = {}
    for change in changes.order_by("effective_date", "id").only(
        "id", "organisation_id", "to_status", "effective_date", "reason"
    ):
        result[change.organisation_id] = change
    return result


def statuses_as_of(solution: Solution, day: datetime.date, organisations=None) -> dict[int, str]:
    """{organisation id: status} on `day`, from the history (absent: not started)."""
    return {
        org_id: change.to_status
        for org_id, change in changes_as_of(solution, day, organisations).items()
    }


def latest_changes_as_of(day: datetime.date, changes=None):
    """The changes that set each (organisation, solution) status as it stood at the end of
    `day`: one row per pair that had a status then, as a queryset (filter, order and
    paginate it in the database). `changes` narrows the history first, e.g. to
    `StatusChange.objects.visible_to(user)`."""
    changes = StatusChange.objects.all() if changes is None else changes
    later = StatusChange.objects.filter(
        organisation=OuterRef("organisation"),
        solution=OuterRef("solution"),
        effective_date__lte=day,
    ).filter(
        Q(effective_date__gt=OuterRef("effective_date"))
        | Q(effective_date=OuterRef("effective_date"), pk__gt=OuterRef("pk"))
    )
    return changes.filter(effective_date__lte=day).exclude(Exists(later))


def status_counts_over_time(
    solution: Solution, days: list[datetime.date], organisations, *, among=None
) -> dict[str, list[int]]:
    """{status: [count on each day]} in one pass over the history. `organisations` is the
    denominator today (visible, applicable); those without history count as not started.
    Each day counts the organisations applicable that day in the registry of that day
    (actors.registry): one that was inactive or of another type then is left out; with
    `among` (the set `organisations` was drawn from, e.g. those visible to the user), one
    that is closed or of another type today but was applicable then is counted too."""
    org_ids = set(organisations.values_list("pk", flat=True))
    days = sorted(days)
    series = {s: [0] * len(days) for s in STATUS_ORDER}
    if not days:
        return series
    changed = registry.changed_after(days[0])
    then: set[int] = set()  # the changed ones that may count on some day
    timelines = None
    if changed:
        then = changed & org_ids
        if among is not None:
            then |= set(among.filter(pk__in=changed).values_list("pk", flat=True))
        timelines = registry.Timelines(then)
    types = set(solution.organisation_types.values_list("pk", flat=True)) if then else set()
    steady = org_ids - changed
    followed = steady | then
    current: dict[int, str] = {}
    changes = (
        StatusChange.objects.filter(solution=solution, effective_date__lte=days[-1])
        .order_by("effective_date", "id")
        .values_list("organisation_id", "to_status", "effective_date")
        .iterator(chunk_size=5000)
    )
    pending = next(changes, None)
    for i, day in enumerate(days):
        while pending is not None and pending[2] <= day:
            if pending[0] in followed:
                current[pending[0]] = pending[1]
            pending = next(changes, None)
        if then:
            members = steady | {
                pk
                for pk in then
                if (state := timelines.state_on(pk, day)).is_active and state.type_id in types
            }
            tally = Counter(current[pk] for pk in members if pk in current)
            total = len(members)
        else:
            tally, total = Counter(current.values()), len(org_ids)
        tally[Status.NOT_STARTED] += total - sum(tally.values())
        for s in STATUS_ORDER:
            series[s][i] = tally.get(s, 0)
    return series


def month_ends(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    days, year, month = [], start.year, start.month
    while True:
        nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
        last = nxt - datetime.timedelta(days=1)
        if last >= end:
            days.append(end)
            return days
        days.append(last)
        year, month = nxt.year, nxt.month


def municipality_grid(user, municipality, organisations=None) -> tuple[list[Solution], list[dict]]:
    """Organisations of a municipality × solutions, with the status in each cell
    (None where the solution does not apply). Four queries; three when the caller gives
    the `organisations` (e.g. those its page shows)."""
    solutions = list(Solution.objects.prefetch_related("organisation_types"))
    if organisations is None:
        organisations = list(
            Organisation.objects.visible_to(user)
            .filter(municipality=municipality)
            .select_related("type")
            .order_by("type__sort_order", "name")
        )
    statuses = {
        (r.organisation_id, r.solution_id): r
        for r in RolloutStatus.objects.filter(organisation__in=[o.pk for o in organisations])
    }
    applies = {s.pk: {t.pk for t in s.organisation_types.all()} for s in solutions}
    rows = []
    for o in organisations:
        cells = []
        for s in solutions:
            if o.type_id not in applies[s.pk]:
                cells.append(None)
            else:
                row = statuses.get((o.pk, s.pk))
                cells.append(
                    {
                        "solution": s,
                        "status": row.status if row else Status.NOT_STARTED,
                        "reason": row.reason if row else "",
                    }
                )
        rows.append({"organisation": o, "cells": cells})
    return solutions, rows


# --- area readiness -------------------------------------------------------------------


@dataclass
class AreaReadiness:
    total: int
    ready: int
    by_type: list[dict]
    conditions: list[Condition]

    @property
    def ready_share(self) -> float:
        return self.ready / self.total if self.total else 0.0

    @property
    def can_start(self) -> bool:
        return all(c.passed for c in self.conditions)

    @property
    def agreement_covered(self) -> int:
        """Actors covered by an intention agreement (0 when no app judges agreements)."""
        return next((c.met for c in self.conditions if c.name == "agreements"), 0)


def ready_by_reports(solution: Solution) -> Q:
    """Organisations whose approved readiness reports answer every item about them as
    ready or not relevant: one grouped subquery (planned once, not once per row)."""
    verdicts = (
        ReadinessAnswer.objects.filter(
            report__solution=solution,
            report__status=ReportStatus.APPROVED,
            organisation__isnull=False,
        )
        .values("organisation")
        .annotate(not_ready=Count("pk", filter=~Q(answer__in=[Answer.READY, Answer.NOT_RELEVANT])))
        .filter(not_ready=0)
    )
    return Q(pk__in=verdicts.values("organisation"))


def with_readiness(organisations, solution: Solution):
    """`with_status` plus `is_ready`: technically ready by status (READY_STATUSES) or by
    the approved readiness reports."""
    ready = Q(current_status__in=READY_STATUSES) | ready_by_reports(solution)
    return with_status(organisations, solution).annotate(
        is_ready=ExpressionWrapper(ready, output_field=BooleanField())
    )


def _area(solution: Solution, trust, user):
    organisations = Organisation.objects.visible_to(user).filter(health_trust=trust)
    return applicable(organisations, solution)


def area_organisation_ids(solution: Solution, trust, user):
    """The pks of the area's organisations the solution applies to, as far as the user can
    see them: a subquery."""
    return _area(solution, trust, user).order_by().values("pk")


def area_organisations(solution: Solution, trust, user):
    """Those organisations with their status and readiness (`with_readiness`)."""
    return with_readiness(_area(solution, trust, user), solution)


@dataclass(slots=True)
class AreaActor:
    """One organisation of an area as the readiness conditions read it: plain values, so
    an area of thousands builds in a few milliseconds."""

    pk: int
    type_id: int
    record_system_id: int | None
    current_status: str
    is_ready: bool


def area_facts(solution: Solution, trust, user, *, ordered=False) -> conditions.AreaFacts:
    """What the readiness conditions read about an area: one query for its organisations
    (as AreaActor; `ordered`: in the order of its list of actors, AREA_ACTOR_ORDER) and one
    for their types, whatever the area's size."""
    organisations = area_organisations(solution, trust, user)
    actors = [
        AreaActor(*row)
        for row in organisations.order_by(*(AREA_ACTOR_ORDER if ordered else ())).values_list(
            "pk", "type_id", "record_system_id", "current_status", "is_ready"
        )
    ]
    types = OrganisationType.objects.filter(pk__in={a.type_id for a in actors})
    by_type = {t.pk: {"type": t, "organisations": [], "counts": Counter()} for t in types}
    for a in actors:
        group = by_type[a.type_id]
        group["organisations"].append(a)
        group["counts"][a.current_status] += 1
    for group in by_type.values():
        group["total"] = len(group["organisations"])
        group["ready"] = sum(a.is_ready for a in group["organisations"])
        group["share"] = group["ready"] / group["total"]
    return conditions.AreaFacts(
        solution,
        trust,
        actors,
        list(by_type.values()),  # in the types' order (sort order, name)
        float(solution.ready_share_threshold),
        area_organisation_ids(solution, trust, user),
    )


def area_readiness(solution: Solution, trust, user) -> AreaReadiness:
    """Whether an area is ready to start, condition by condition (rollout/conditions.py),
    and for whom each fails."""
    facts = area_facts(solution, trust, user)
    ready = sum(a.is_ready for a in facts.organisations)
    return AreaReadiness(facts.total, ready, facts.by_type, conditions.evaluate(facts))


AREA_ACTOR_ORDER = ("type__sort_order", "type__name", "name", "pk")


def area_actor_rows(solution: Solution, trust, user, **filters):
    """The area's organisations for its list of actors (`area_organisations` with their
    type, municipality and record system) in type and name order, narrowed by `filters`
    (lookups such as current_status, is_ready; None: no filter)."""
    lookups = {name: value for name, value in filters.items() if value is not None}
    return (
        area_organisations(solution, trust, user)
        .filter(**lookups)
        .select_related("type", "municipality", "record_system")
        .order_by(*AREA_ACTOR_ORDER)
    )


def area_prerequisite_answers(solution: Solution, trust):
    """Approved answers to the area-wide checklist items from the area's municipalities."""
    return ReadinessAnswer.objects.filter(
        report__solution=solution,
        report__status=ReportStatus.APPROVED,
        prerequisite__scope=PrerequisiteScope.AREA,
        report__municipality__catchments__health_trust=trust,
    ).select_related("prerequisite", "report__municipality")


def organisation_rollout(user, organisation) -> dict:
    """Status for every solution that applies to the organisation, and its full history."""
    from .services import current_status

    stored = {r.solution_id: r for r in organisation.rollout_statuses.select_related("solution")}
    rows = [
        {"solution": s, "status": stored.get(s.pk) or current_status(organisation, s)}
        for s in organisation.type.solutions.all()
    ]
    history = StatusChange.objects.filter(organisation=organisation).select_related(
        "solution", "changed_by"
    )
    can_edit = Organisation.objects.editable_by(user).filter(pk=organisation.pk).exists()
    return {"status_rows": rows, "history": history, "can_change_status": can_edit}
