"""Status reports (national, per area, per municipality) as data: titled tables with typed
columns and one trend per target. The HTML preview, the PDF (the same HTML), the XLSX and
the zipped CSVs are all drawn from one `Report`, so what the preview shows is what the
files hold. Everything is read within the requesting user's reach."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from actors import scoping
from actors.choices import Role
from actors.models import HealthTrust, Municipality, Organisation
from rollout.choices import ADOPTED_STATUSES, Answer, ReportStatus, Status
from rollout.models import AreaRollout, ReadinessAnswer, RolloutStatus, Solution, StatusChange
from rollout.selectors import cached_figures

from . import coverage, selectors
from .choices import Level
from .models import Benefit, CoverageTarget, IntentAgreement
from .selectors import COVERING_STATUSES

NATIONAL, AREA, MUNICIPALITY = "national", "area", "municipality"
KINDS = (NATIONAL, AREA, MUNICIPALITY)
TOP_REASONS = 15


@dataclass
class Column:
    label: str
    kind: str = "text"  # text | int | percent (0..1) | date | number


@dataclass
class Table:
    key: str  # sheet and file name
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    note: str = ""

    @property
    def typed_rows(self) -> list[list[tuple]]:
        """Each row's cells with their column's kind: (value, kind), for the templates."""
        kinds = [c.kind for c in self.columns]
        return [list(zip(row, kinds, strict=True)) for row in self.rows]


@dataclass
class Trend:
    """A target's share over time at the report's place (month ends), for charts."""

    title: str
    labels: list[str]
    values: list[float | None]  # 0..1
    threshold: float
    deadline: datetime.date


@dataclass
class Report:
    kind: str
    title: str
    place: coverage.ScopeRef
    since: datetime.date
    generated_at: datetime.datetime
    generated_for: str
    tables: list[Table] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)

    def filename(self, extension: str) -> str:
        day = self.generated_at.date().isoformat()
        return f"statusrapport-{slugify(self.place.name)}-{day}.{extension}"

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


# --- which reports a user may ask for ---------------------------------------------------


def report_place(
    user, kind: str, key: str | None, options: list[coverage.ScopeRef] | None = None
) -> coverage.ScopeRef | None:
    """The place of a report within the user's reach, or None. The national report is for
    those who see everything; an area report for an area in reach (coordinators, the
    directorate); a municipality report for a municipality in reach (everyone with one).
    `options`: coverage.scope_options(user) when the caller has read them already."""
    scope = scoping.scope_for(user)
    if not scope.role or kind not in KINDS:
        return None
    if options is None:
        options = coverage.scope_options(user)
    if kind == NATIONAL:
        return options[0] if scope.sees_all else None
    level = Level.AREA if kind == AREA else Level.MUNICIPALITY
    if kind == AREA and scope.role == Role.MUNICIPALITY_CONTACT:
        return None
    place = coverage.resolve_scope(user, key, options) if key else None
    return place if place is not None and place.level == level else None


# --- building ------------------------------------------------------------------------


def build(user, kind: str, place: coverage.ScopeRef, since: datetime.date, progress=None) -> Report:
    """The report of `kind` for `place` (from report_place), with changes since `since`.
    `progress(done, total)` is called as the sections are read (for the Job's bar)."""
    organisations = _organisations(user, place)
    statuses_here = _at_place(RolloutStatus.objects.visible_to(user), place, "organisation__")
    adoption = _adoption(organisations, statuses_here)
    # Naming every solution changes nothing but lets PostgreSQL read the few blocked
    # statuses and recent changes through the (solution, status) and (solution,
    # effective_date) indexes instead of scanning the statuses and the whole history.
    every_solution = [s.pk for s in adoption.solutions]
    # What the cached counts name besides their SQL: the solutions' names and order.
    named = [(s.pk, s.name, s.sort_order) for s in adoption.solutions]
    changes_here = _at_place(StatusChange.objects.visible_to(user), place, "organisation__")
    titles = {
        NATIONAL: _("National status report"),
        AREA: _("Status report for %(p)s") % {"p": place.name},
        MUNICIPALITY: _("Status report for %(p)s") % {"p": place.name},
    }
    report = Report(
        kind=kind,
        title=titles[kind],
        place=place,
        since=since,
        generated_at=timezone.localtime(),
        generated_for=str(user),
    )
    statuses = _target_statuses(place)
    report.trends = [_trend(s) for s in statuses if s.series]
    sections = [
        lambda: _solutions(adoption),
        lambda: _by_type(adoption),
        lambda: _targets(statuses),
    ]
    if kind != MUNICIPALITY:
        sections.append(lambda: _areas(user, place))
    sections += [
        lambda: _status_changes(changes_here.filter(solution__in=every_solution), since, named),
        lambda: _areas_started(user, place, since),
        lambda: _agreements_signed(user, place, since),
        lambda: _blocking_reasons(statuses_here.filter(solution__in=every_solution), named),
        lambda: _unmet_prerequisites(user, place),
    ]
    if kind == NATIONAL:
        # The whole reach: the organisations counted as adopted are those the benefits
        # count as in use (while "adopted" means in use), read once for both.
        in_use = adoption.adopted if {Status.IN_USE} == ADOPTED_STATUSES else None
        sections += [_agreement_coverage, lambda: _benefits(user, in_use)]
    for done, section in enumerate(sections, start=1):
        report.tables.append(section())
        if progress:
            progress(done, len(sections))
    return report


def _organisations(user, place: coverage.ScopeRef):
    """Active organisations in the user's reach at the place."""
    return _at_place(Organisation.objects.visible_to(user), place)


def _at_place(qs, place: coverage.ScopeRef, organisation: str = ""):
    """`qs` narrowed to the active organisations at the place; `organisation` is the path to
    the organisation ("organisation__" for its statuses and history: a join, not a
    semi-join over the organisations)."""
    qs = qs.filter(**{f"{organisation}is_active": True})
    if place.level == Level.AREA:
        qs = qs.filter(**{f"{organisation}health_trust_id": place.scope_id})
    elif place.level == Level.MUNICIPALITY:
        qs = qs.filter(**{f"{organisation}municipality_id": place.scope_id})
    return qs


def _counted(name: str, querysets: list, compute, *parts):
    """compute() from the cache of counted figures (rollout.selectors.cached_figures, whose
    version every change of statuses, their history or organisations replaces) when it
    holds it for the SQL of `querysets` (the user's scope and the place) and `parts`
    (whatever else compute reads); a count that reads anything else must not come here."""
    try:
        sqls = [qs.query.sql_with_params() for qs in querysets]
    except EmptyResultSet:  # nothing visible
        return compute()
    return cached_figures(f"report-{name}", (sqls, *parts), compute)


@dataclass
class Adoption:
    """What the solution tables count, read once: the solutions (with the organisation
    types they apply to), the organisations per type, the organisations that adopted each
    set of solutions (per municipality and type), and from those the organisations per
    solution and type."""

    solutions: list[Solution]
    totals: dict[int, int]  # type -> organisations
    adopted: list[selectors.InUse]  # the organisations per set of solutions adopted
    used: Counter = field(default_factory=Counter)  # (solution, type) -> organisations

    def __post_init__(self):
        for row in self.adopted:
            for solution_id in row.solutions:
                self.used[solution_id, row.type_id] += row.organisations


def _adoption(organisations, statuses) -> Adoption:
    solutions = list(Solution.objects.prefetch_related("organisation_types"))
    ids = [s.pk for s in solutions]
    adopted = statuses.filter(status__in=ADOPTED_STATUSES)
    per_type = organisations.values_list("type_id").annotate(n=Count("id")).order_by()
    totals, in_use = _counted(
        "adoption",
        [per_type, adopted],
        lambda: (dict(per_type), selectors.solutions_in_use(adopted, ids)),
        ids,
    )
    return Adoption(solutions=solutions, totals=totals, adopted=in_use)


def _solutions(adoption: Adoption) -> Table:
    """Per solution: its national phase, and how many of the organisations it applies to
    have it in use."""
    in_use = Counter()
    for (solution_id, _type_id), n in adoption.used.items():
        in_use[solution_id] += n
    table = Table(
        "losninger",
        _("Solutions"),
        [
            Column(_("Solution")),
            Column(_("National phase")),
            Column(_("In use"), "int"),
            Column(_("Of"), "int"),
            Column(_("Share in use"), "percent"),
        ],
    )
    for s in adoption.solutions:
        total = sum(adoption.totals.get(t.pk, 0) for t in s.organisation_types.all())
        used = in_use[s.pk]
        table.rows.append(
            [s.name, s.get_national_phase_display(), used, total, used / total if total else None]
        )
    return table


def _by_type(adoption: Adoption) -> Table:
    """Adoption by solution and organisation type."""
    table = Table(
        "per-type",
        _("Adoption by organisation type"),
        [
            Column(_("Solution")),
            Column(_("Organisation type")),
            Column(_("In use"), "int"),
            Column(_("Of"), "int"),
            Column(_("Share in use"), "percent"),
        ],
    )
    for s in adoption.solutions:
        for t in sorted(s.organisation_types.all(), key=lambda t: t.sort_order):
            total = adoption.totals.get(t.pk, 0)
            if not total:
                continue
            n = adoption.used.get((s.pk, t.pk), 0)
            table.rows.append([s.name, t.name, n, total, n / total])
    return table


def _target_statuses(place: coverage.ScopeRef) -> list[coverage.TargetStatus]:
    targets = list(CoverageTarget.objects.filter(is_active=True).select_related("solution"))
    return coverage.target_statuses(targets, place)


def _targets(statuses: list[coverage.TargetStatus]) -> Table:
    table = Table(
        "resultatmal",
        _("Result targets"),
        [
            Column(_("Target")),
            Column(_("Achieved"), "int"),
            Column(_("Of"), "int"),
            Column(_("Share"), "percent"),
            Column(_("Threshold"), "percent"),
            Column(_("Deadline"), "date"),
            Column(_("Forecast"), "date"),
            Column(_("Verdict")),
            Column(_("As of"), "date"),
        ],
        note=_(
            "Forecast: the date the threshold is reached at the pace of a straight line "
            "fitted to the last twelve months; where no date can be projected, why not."
        ),
    )
    for s in statuses:
        latest = s.latest
        f = s.forecast
        table.rows.append(
            [
                s.target.name,
                latest[1] if latest else None,
                latest[2] if latest else None,
                s.ratio,
                float(s.target.threshold),
                s.target.deadline,
                f.projected or str(f.message),
                str(f.verdict_label),
                latest[0] if latest else None,
            ]
        )
    return table


def _trend(status: coverage.TargetStatus) -> Trend:
    points = coverage.last_of_each_month(status.series)
    return Trend(
        title=status.target.name,
        labels=[d.strftime("%m.%Y") for d, _n, _d in points],
        values=[n / den if den else None for _d, n, den in points],
        threshold=float(status.target.threshold),
        deadline=status.target.deadline,
    )


def _areas(user, place: coverage.ScopeRef) -> Table:
    """Per area in reach (at the place): the PLL rollout record and each target's share."""
    trusts = HealthTrust.objects.visible_to(user).select_related("regional_health_authority")
    if place.level == Level.AREA:
        trusts = trusts.filter(pk=place.scope_id)
    elif place.level == Level.REGION:
        trusts = trusts.filter(regional_health_authority_id=place.scope_id)
    trusts = list(trusts.order_by("name"))
    targets = list(CoverageTarget.objects.filter(is_active=True))
    shares = coverage.latest_by_place(targets, Level.AREA, [t.pk for t in trusts])
    rollouts = {r.health_trust_id: r for r in AreaRollout.objects.filter(solution__area_wise=True)}
    table = Table(
        "omrader",
        _("Health-trust areas"),
        [
            Column(_("Area")),
            Column(_("Regional health authority")),
            Column(_("PLL phase")),
            Column(_("Planned start"), "date"),
            Column(_("Started"), "date"),
            *[Column(t.name, "percent") for t in targets],
        ],
    )
    for trust in trusts:
        rollout = rollouts.get(trust.pk)
        table.rows.append(
            [
                trust.name,
                trust.regional_health_authority.name,
                rollout.get_phase_display() if rollout else "",
                rollout.planned_start if rollout else None,
                rollout.actual_start if rollout else None,
                *[shares.get((t.pk, trust.pk)) for t in targets],
            ]
        )
    return table


def _status_changes(changes, since: datetime.date, named: list) -> Table:
    """The history at the place since the day, counted per solution and new status
    (`named`: the solutions' id, name and order, which the rows name and follow)."""
    grouped = (
        changes.filter(effective_date__gte=since)
        .values_list("solution__name", "to_status")
        .annotate(n=Count("id"))
        .order_by("solution__sort_order", "solution__name", "-n")
    )
    table = Table(
        "endringer",
        _("Status changes since %(d)s") % {"d": since.strftime("%d.%m.%Y")},
        [Column(_("Solution")), Column(_("New status")), Column(_("Changes"), "int")],
    )
    rows = _counted("changes", [grouped], lambda: list(grouped), named)
    table.rows = [[name, str(Status(status).label), n] for name, status, n in rows]
    return table


def _areas_started(user, place: coverage.ScopeRef, since: datetime.date) -> Table:
    rollouts = AreaRollout.objects.visible_to(user).filter(actual_start__gte=since)
    if place.level == Level.AREA:
        rollouts = rollouts.filter(health_trust_id=place.scope_id)
    elif place.level == Level.MUNICIPALITY:
        rollouts = rollouts.filter(health_trust__catchments__municipality_id=place.scope_id)
    table = Table(
        "omrader-startet",
        _("Areas started since %(d)s") % {"d": since.strftime("%d.%m.%Y")},
        [
            Column(_("Solution")),
            Column(_("Area")),
            Column(_("Started"), "date"),
            Column(_("Phase")),
            Column(_("Decision")),
        ],
    )
    for r in rollouts.select_related("solution", "health_trust").order_by("actual_start"):
        table.rows.append(
            [
                r.solution.name,
                r.health_trust.name,
                r.actual_start,
                r.get_phase_display(),
                r.decision_reference,
            ]
        )
    return table


def _agreements_signed(user, place: coverage.ScopeRef, since: datetime.date) -> Table:
    agreements = IntentAgreement.objects.visible_to(user).filter(
        status__in=COVERING_STATUSES, signed_date__gte=since
    )
    if place.level == Level.AREA:
        agreements = agreements.filter(
            Q(municipalities__catchments__health_trust_id=place.scope_id)
            | Q(organisations__health_trust_id=place.scope_id)
        )
    elif place.level == Level.MUNICIPALITY:
        agreements = agreements.filter(
            Q(municipalities=place.scope_id) | Q(organisations__municipality=place.scope_id)
        )
    table = Table(
        "avtaler-signert",
        _("Intention agreements signed since %(d)s") % {"d": since.strftime("%d.%m.%Y")},
        [Column(_("Agreement")), Column(_("Signed"), "date"), Column(_("Parties"), "int")],
    )
    for a in (
        IntentAgreement.objects.filter(pk__in=agreements.values("pk"))
        .annotate(
            parties=Count("municipalities", distinct=True) + Count("organisations", distinct=True)
        )
        .order_by("signed_date", "title")
    ):
        table.rows.append([a.title, a.signed_date, a.parties])
    return table


def blocking_reasons(organisations) -> Table:
    """The most common reasons the organisations are blocked."""
    return _blocking_reasons(RolloutStatus.objects.filter(organisation__in=organisations))


def _blocking_reasons(statuses, named: list | None = None) -> Table:
    """The most common reasons for blocked statuses; from the cache of counted figures when
    `named` (the solutions' id, name and order, which the rows name) is given."""
    grouped = (
        statuses.filter(status=Status.BLOCKED)
        .values_list("solution__name", "reason")
        .annotate(n=Count("id"))
        .order_by("-n", "solution__name")[:TOP_REASONS]
    )
    table = Table(
        "blokkeringer",
        _("Most common blocking reasons"),
        [Column(_("Solution")), Column(_("Reason")), Column(_("Organisations"), "int")],
    )
    if named is None:
        rows = list(grouped)
    else:
        rows = _counted("blocked", [grouped], lambda: list(grouped), named)
    table.rows = [list(r) for r in rows]
    return table


def _unmet_prerequisites(user, place: coverage.ScopeRef) -> Table:
    """Checklist items answered "not ready" in the latest submitted or approved readiness
    reports in reach."""
    answers = ReadinessAnswer.objects.filter(
        report__in=_readiness_reports(user, place), answer=Answer.NOT_READY
    )
    rows = (
        answers.values_list("report__solution__name", "prerequisite__text")
        .annotate(n=Count("id"))
        .order_by("-n", "report__solution__name")[:TOP_REASONS]
    )
    table = Table(
        "forutsetninger",
        _("Most common unmet prerequisites"),
        [Column(_("Solution")), Column(_("Prerequisite")), Column(_("Not ready"), "int")],
        note=_("From submitted and approved readiness reports."),
    )
    table.rows = [list(r) for r in rows]
    return table


def _readiness_reports(user, place: coverage.ScopeRef):
    from rollout.models import ReadinessReport

    reports = ReadinessReport.objects.visible_to(user).filter(
        status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED]
    )
    if place.level == Level.AREA:
        reports = reports.filter(municipality__catchments__health_trust_id=place.scope_id)
    elif place.level == Level.MUNICIPALITY:
        reports = reports.filter(municipality_id=place.scope_id)
    return reports.values("pk")


def _agreement_coverage() -> Table:
    from .selectors import agreement_coverage

    result = agreement_coverage()
    table = Table(
        "avtaledekning",
        _("Intention-agreement coverage"),
        [
            Column(_("Place")),
            Column(_("Population"), "int"),
            Column(_("Covered"), "int"),
            Column(_("Share"), "percent"),
            Column(_("Municipalities"), "int"),
            Column(_("Covered municipalities"), "int"),
        ],
        note=_("Threshold: %(t)s of the population. Population on 1 January %(y)s.")
        % {"t": f"{result.threshold:.0%}", "y": result.population_year},
    )
    for row in [result.nation, *result.by_county]:
        table.rows.append(
            [
                row.name,
                row.population,
                row.covered_population,
                row.share,
                row.municipalities,
                row.covered_municipalities,
            ]
        )
    return table


def benefit_columns() -> list[Column]:
    """THE figures of a benefit, as every output shows them: the benefit register and a
    benefit's page, this report's table (preview, XLSX, CSV, PDF) and the register's export
    (benefits.exports). Each value is computed in benefits.selectors.BenefitSummary; the
    changes are per reporter (mean, median) or over all reporters (sum), the averages are
    levels of the indicator in its unit. Nobody reported: no figure and no percentage,
    the note says why."""
    return [
        Column(_("Benefit")),
        Column(_("Unit of the change")),
        Column(_("How it is counted")),
        Column(_("Mean improvement per reporter"), "number"),
        Column(_("Median improvement"), "number"),
        Column(_("Sum of improvements"), "number"),
        Column(_("Reported"), "int"),
        Column(_("Of which municipalities"), "int"),
        Column(_("Expected"), "int"),
        Column(_("Reporting coverage"), "percent"),
        Column(_("Average at baseline"), "number"),
        Column(_("Average now"), "number"),
        Column(_("Unit of the averages")),
        Column(_("Of the way to the target"), "percent"),
        Column(_("Note")),
    ]


def benefit_row(s: selectors.BenefitSummary) -> list:
    """One benefit's figures (benefit_columns) from its summary
    (benefits.selectors.benefit_summary or benefit_summaries)."""
    return [
        s.benefit.name,
        s.change_unit,
        s.kind_label,
        s.mean_improvement,
        s.median_improvement,
        s.total_improvement,
        s.reported,
        s.reported_municipalities,
        s.expected,
        s.coverage,
        s.mean_baseline,
        s.mean_latest,
        s.benefit.unit,
        s.progress,
        s.note,
    ]


def _benefits(user, in_use: list[selectors.InUse] | None = None) -> Table:
    table = Table(
        "gevinster",
        _("Realised benefits"),
        benefit_columns(),
        note=_(
            "Realised: each reporter's latest approved follow-up against its own approved "
            "baseline, positive when better. Shares and rates are never added up: their "
            "mean and median are shown; a sum only for amounts. Reporters are "
            "organisations and municipalities reporting as a whole. The averages are "
            "levels of the indicator in its unit. Where nobody has reported there is no "
            "figure and no percentage; the note says so."
        ),
    )
    benefits = Benefit.objects.select_related("goal").order_by("goal__sort_order", "name")
    table.rows = [benefit_row(s) for s in selectors.benefit_summaries(benefits, user, in_use)]
    return table


def default_since(today: datetime.date | None = None) -> datetime.date:
    """The start of the previous quarter: what changed since the last quarterly report."""
    today = today or timezone.localdate()
    quarter_start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    previous = quarter_start - datetime.timedelta(days=1)
    return datetime.date(previous.year, 3 * ((previous.month - 1) // 3) + 1, 1)


def municipality_of(place: coverage.ScopeRef) -> Municipality | None:
    return Municipality.objects.filter(pk=place.scope_id).first()
