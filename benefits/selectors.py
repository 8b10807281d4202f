"""Agreement coverage and benefit realisation, counted in the database."""

from __future__ import annotations

import datetime
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    Organisation,
    RegionalHealthAuthority,
)
from actors.reference import split_population
from actors.registry import organisations_on
from actors.structure import StructureOn, population_year_for
from rollout.choices import Status
from rollout.conditions import AreaFacts, Condition, share_condition
from rollout.corrections import standing
from rollout.models import RolloutStatus, Solution, StatusChange
from rollout.selectors import cached_figures
from rollout.templatetags.rollout_tags import percent

from .choices import AgreementStatus, Direction, MeasurementKind, ReportStatus
from .models import AGREEMENT_TERMS, AgreementChange, Benefit, BenefitReport, IntentAgreement

THRESHOLD = Decimal("0.5")  # "kommuner som representerer om lag halvparten av befolkningen"


def excluded_region() -> str:
    """The regional health authority left out of the agreement requirement (data, not code)."""
    return getattr(settings, "AGREEMENT_EXCLUDED_REGION", "helse-midt-norge")


def excluded_region_name() -> str:
    region = RegionalHealthAuthority.objects.filter(code=excluded_region()).first()
    return region.name if region else excluded_region()


# --- agreements in force on a day -----------------------------------------------------

# An agreement that was signed and later ended still covered the days in between.
COVERING_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.ENDED)


def agreements_in_force(on: datetime.date | None = None):
    """The agreements in force on a day (default: today): THE as-of rule of agreement
    coverage, which every count of covered municipalities or organisations goes through
    (the coverage page and API, the status reports, the area verdict).

    An agreement covers a day when it has been signed (status signed or ended) with a
    signing date on or before that day, and has not ended by then: no end date, or an end
    date after the day (the end date is the first day it no longer covers). So the answer
    for a past day follows from the dates alone and does not change when an agreement is
    ended, or a new one signed, later. Drafts and agreements only sent never cover a day.
    Who and what each one covered that day: agreement_terms_on."""
    day = on or timezone.localdate()
    return IntentAgreement.objects.filter(
        status__in=COVERING_STATUSES, signed_date__isnull=False, signed_date__lte=day
    ).filter(Q(ended_date__isnull=True) | Q(ended_date__gt=day))


def outside_region_ids(structure: StructureOn) -> set[int]:
    """The municipalities of the structure's day outside the excluded region (by their
    catchment; 292 both in 2023 and from 2024, when Haram joined Helse Midt-Norge's 65)."""
    inside = set(
        Catchment.objects.filter(
            health_trust__regional_health_authority__code=excluded_region()
        ).values_list("municipality_id", flat=True)
    )
    return {pk for pk in structure.places if pk not in inside}


def outside_region_municipalities(structure: StructureOn | None = None):
    """The same as a queryset (default: today's structure)."""
    return Municipality.objects.filter(pk__in=outside_region_ids(structure or StructureOn()))


def agreement_terms_on(on: datetime.date | None = None) -> dict[int, dict[str, set[int]]]:
    """The municipalities, organisations and solutions of each agreement in force on `on`
    (default: today) as they stood that day, by agreement pk and term.

    Today's terms with every change recorded after that day undone, newest first: a party
    added to a signed agreement counts from the day it was added, a party removed stops
    counting that day, and a past day keeps its answer whatever is changed later. (Changes
    saved before the change history recorded its parties carry no details and are taken
    as they are now.)"""
    day = on or timezone.localdate()
    agreements = agreements_in_force(day)
    terms = {
        pk: {term: set() for term in AGREEMENT_TERMS}
        for pk in agreements.values_list("pk", flat=True)
    }
    for term in AGREEMENT_TERMS:
        for pk, party in agreements.filter(**{f"{term}__isnull": False}).values_list("pk", term):
            terms[pk][term].add(party)
    later = AgreementChange.objects.filter(
        agreement_id__in=list(terms), changed_at__date__gt=day
    ).exclude(details={})
    for change in later.order_by("-changed_at", "-id"):
        for term, delta in change.details.items():
            terms[change.agreement_id][term].difference_update(delta.get("added", ()))
            terms[change.agreement_id][term].update(delta.get("removed", ()))
    return terms


def change_lines(changes) -> list[tuple[AgreementChange, list[str]]]:
    """Each agreement change with one line per term it changed, naming the parties and
    solutions added and removed ("Municipalities added: Tromsø"), for the history table."""
    changes = list(changes)
    models = {
        "municipalities": Municipality,
        "organisations": Organisation,
        "solutions": Solution,
    }
    labels = {
        "municipalities": (_("Municipalities added"), _("Municipalities removed")),
        "organisations": (_("Organisations added"), _("Organisations removed")),
        "solutions": (_("Solutions added"), _("Solutions removed")),
    }
    names = {}
    for term, model in models.items():
        pks = {pk for c in changes for pk in c.details.get(term, {}).get("added", [])}
        pks |= {pk for c in changes for pk in c.details.get(term, {}).get("removed", [])}
        names[term] = dict(model.objects.filter(pk__in=pks).values_list("pk", "name"))
    result = []
    for change in changes:
        lines = []
        for term, delta in change.details.items():
            for label, key in zip(labels[term], ("added", "removed"), strict=True):
                if delta.get(key):
                    listed = ", ".join(sorted(names[term].get(pk, f"#{pk}") for pk in delta[key]))
                    lines.append(f"{label}: {listed}")
        result.append((change, lines))
    return result


def covered_municipality_ids(on: datetime.date | None = None) -> set[int]:
    """Municipalities that are a party to an agreement in force on `on` (default: today)."""
    return set().union(*(terms["municipalities"] for terms in agreement_terms_on(on).values()))


@dataclass
class CoverageRow:
    key: str
    name: str
    population: int
    covered_population: int
    municipalities: int
    covered_municipalities: int
    url: str = ""
    parent: str = ""  # a municipality's county that day
    pk: int | None = None

    @property
    def share(self) -> float:
        return self.covered_population / self.population if self.population else 0.0

    @property
    def gap(self) -> int:
        """Residents still needed to reach the threshold (0 when reached)."""
        return max(0, int(self.population * THRESHOLD - self.covered_population + Decimal("0.999")))


@dataclass
class Coverage:
    nation: CoverageRow
    by_county: list[CoverageRow] = field(default_factory=list)
    by_area: list[CoverageRow] = field(default_factory=list)
    threshold: float = float(THRESHOLD)
    by_municipality: list[CoverageRow] = field(default_factory=list)  # numbers of that day
    # What the figures are read in: the structure of this day, residents on 1 January of
    # this year (named on every page and export that shows them).
    structure_day: datetime.date | None = None
    population_year: int | None = None
    structure_municipalities: int = 0
    structure_counties: int = 0

    @property
    def above_threshold(self) -> bool:
        return self.nation.share >= self.threshold

    @property
    def municipality_share(self) -> float:
        n = self.nation
        return n.covered_municipalities / n.municipalities if n.municipalities else 0.0


def agreement_coverage(on: datetime.date | None = None, year: int | None = None) -> Coverage:
    """Population covered by agreements in force on `on` (default: today; see
    agreements_in_force) outside the excluded region, against the seed's threshold (half of
    that population) and the goal of every municipality; per county and per health-trust
    area (catchment population, so Oslo counts in two areas).

    Read in the structure of that day (its municipalities and counties: 356 in 11 counties
    on a day in 2023) with the residents of `year` (default: the day's year, see
    population_year_for), each counted in the municipality of the day it belongs to."""
    structure = StructureOn(on)
    year = year or population_year_for(structure.day)
    residents = structure.population(year) if year else dict.fromkeys(structure.places, 0)
    outside = sorted(outside_region_ids(structure), key=lambda pk: structure.places[pk].number)
    # Parties are municipalities of their day (a structure change carries them over).
    covered = covered_municipality_ids(on) & set(structure.places)

    def add(row: CoverageRow, pk: int, population: int) -> None:
        row.population += population
        row.municipalities += 1
        if pk in covered:
            row.covered_population += population
            row.covered_municipalities += 1

    nation = CoverageRow(
        "nation", _("Norway outside %(region)s") % {"region": excluded_region_name()}, 0, 0, 0, 0
    )
    county_names = {c.pk: c for c in County.objects.filter(pk__in=structure.county_ids)}
    counties: dict[int, CoverageRow] = {}
    municipalities = []
    urls = {
        m.pk: m.get_absolute_url()
        for m in Municipality.objects.filter(pk__in=outside).only("pk", "number")
    }
    for pk in outside:
        place = structure.places[pk]
        county = county_names[place.county_id]
        add(nation, pk, residents[pk])
        row = CoverageRow(place.number, place.name, 0, 0, 0, 0, urls[pk], county.name, pk)
        add(row, pk, residents[pk])
        municipalities.append(row)
        add(
            counties.setdefault(county.pk, CoverageRow(county.number, county.name, 0, 0, 0, 0)),
            pk,
            residents[pk],
        )
    areas: dict[int, CoverageRow] = {}
    trusts = {t.pk: t for t in HealthTrust.objects.all()}
    shares: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for municipality_id, trust_id, share in Catchment.objects.filter(
        municipality_id__in=outside
    ).values_list("municipality_id", "health_trust_id", "share"):
        shares[municipality_id][trusts[trust_id].code] = share
    by_code = {t.code: t for t in trusts.values()}
    for pk in outside:
        for code, population in split_population(residents[pk], shares[pk]).items():
            t = by_code[code]
            if t.pk not in areas:  # one link per area, not one per municipality
                areas[t.pk] = CoverageRow(t.code, t.name, 0, 0, 0, 0, t.get_absolute_url())
            add(areas[t.pk], pk, population)
    return Coverage(
        nation,
        sorted(counties.values(), key=lambda r: r.key),
        sorted(areas.values(), key=lambda r: r.name),
        by_municipality=municipalities,
        structure_day=structure.day,
        population_year=year,
        structure_municipalities=len(structure),
        structure_counties=len(structure.county_ids),
    )


def covered_organisation_ids(
    solution, organisation_ids, on: datetime.date | None = None
) -> set[int]:
    """Organisations covered on `on` (default: today) by an agreement in force for the
    solution (or, naming no solution, the whole programme): as a party themselves, or
    through the municipality they were in that day (the registry as it was)."""
    municipalities, organisations = set(), set()
    for terms in agreement_terms_on(on).values():
        if not terms["solutions"] or solution.pk in terms["solutions"]:
            municipalities |= terms["municipalities"]
            organisations |= terms["organisations"]
    among = Organisation.objects.filter(pk__in=organisation_ids).order_by()
    in_municipality = organisations_on(on, among, municipality_ids=municipalities)
    # Two plain queries: one with an OR of two subqueries scanned every organisation.
    parties = among.filter(pk__in=organisations).values_list("pk", flat=True)
    return set(parties) | set(in_municipality.values_list("pk", flat=True))


def agreement_condition(facts: AreaFacts) -> Condition:
    """The area readiness condition benefits adds (rollout/conditions.py): at least the
    solution's agreement share of the area's actors are covered by an agreement in force
    today."""
    orgs = facts.organisations
    covered = covered_organisation_ids(facts.solution, facts.organisation_ids)
    threshold = float(facts.solution.agreement_share_threshold)
    return share_condition(
        "agreements",
        _("At least %(t)s of the actors are covered by an intention agreement")
        % {"t": percent(threshold)},
        _("Too few actors are covered by an intention agreement"),
        facts,
        len(covered),
        [o for o in orgs if o.pk not in covered],
        threshold,
    )


# --- benefits -------------------------------------------------------------------------


def solution_start_dates(benefit: Benefit, organisation_ids=None) -> dict[int, datetime.date]:
    """When each organisation first tried or used one of the benefit's solutions (an
    entry a coordinator corrected does not count: rollout/corrections.py)."""
    changes = standing(
        StatusChange.objects.filter(
            solution__in=benefit.solutions.all(), to_status__in=[Status.TRIAL, Status.IN_USE]
        )
    )
    if organisation_ids is not None:
        changes = changes.filter(organisation_id__in=organisation_ids)
    return dict(
        changes.values_list("organisation_id")
        .annotate(start=Min("effective_date"))
        .values_list("organisation_id", "start")
    )


def late_baseline_warnings(reports) -> dict[int, str]:
    """The late-baseline warning of each report, by report id, in two queries whatever
    the number of reports: a baseline measured after the organisation first tried or used
    one of the benefit's solutions still counts, but the comparison is weaker: say so.
    Reports that are not baselines of an organisation get no entry."""
    baselines = [r for r in reports if r.kind == MeasurementKind.BASELINE and r.organisation_id]
    if not baselines:
        return {}
    solutions = defaultdict(set)
    for benefit_id, solution_id in Benefit.solutions.through.objects.filter(
        benefit_id__in={r.benefit_id for r in baselines}
    ).values_list("benefit_id", "solution_id"):
        solutions[benefit_id].add(solution_id)
    starts = {
        (organisation_id, solution_id): start
        for organisation_id, solution_id, start in standing(
            StatusChange.objects.filter(
                organisation_id__in={r.organisation_id for r in baselines},
                solution_id__in=set().union(*solutions.values()),
                to_status__in=[Status.TRIAL, Status.IN_USE],
            )
        )
        .values_list("organisation_id", "solution_id")
        .annotate(start=Min("effective_date"))
        .order_by()
        .values_list("organisation_id", "solution_id", "start")
    }
    warnings = {}
    for report in baselines:
        start = min(
            (
                starts[report.organisation_id, s]
                for s in solutions[report.benefit_id]
                if (report.organisation_id, s) in starts
            ),
            default=None,
        )
        warnings[report.pk] = (
            _(
                "Baseline measured after %(org)s started using the solution (%(d)s): the "
                "realised benefit will look smaller than it is."
            )
            % {"org": report.organisation.name, "d": start.strftime("%d.%m.%Y")}
            if start and report.period_end > start
            else ""
        )
    return warnings


def late_baseline_warning(report: BenefitReport) -> str:
    """One report's late-baseline warning (late_baseline_warnings holds the rule)."""
    return late_baseline_warnings([report]).get(report.pk, "")


# How a benefit's realised changes may be combined across reporters, from its unit.
PERCENT, RATE, AMOUNT = "percent", "rate", "amount"
PERCENT_UNIT = re.compile(r"%|\bprosent|\bpercent|\bandel\b|\bshare\b", re.IGNORECASE)
# "per <something>" that is not a period of time: a rate (deviations per 1000 transfers);
# an amount per period (letters per month) is still an amount that adds up.
RATE_UNIT = re.compile(
    r"\bper\s+(?!(?:dag|døgn|uke|måned|mnd|kvartal|halvår|år|day|week|month|quarter|year)\b)",
    re.IGNORECASE,
)
CENT = Decimal("0.01")


def unit_kind(unit: str) -> str:
    """PERCENT for a share (prosent, %, andel), RATE for a ratio of two quantities
    (avvik per 1000 overføringer), AMOUNT for anything that adds up (minutes, kroner, a
    count, letters per month). The one place the unit's text decides the arithmetic."""
    if PERCENT_UNIT.search(unit or ""):
        return PERCENT
    if RATE_UNIT.search(unit or ""):
        return RATE
    return AMOUNT


@dataclass
class Realisation:
    reporter: str
    municipality: Municipality
    organisation: Organisation | None
    baseline: Decimal
    latest: Decimal

    def improvement(self, direction: str) -> Decimal:
        """The reporter's change against its own baseline, positive when it is better."""
        change = self.latest - self.baseline
        return change if direction == Direction.HIGHER else -change

    @property
    def is_municipality(self) -> bool:
        """Reported by the municipality as a whole, not by one of its organisations."""
        return self.organisation is None


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class BenefitSummary:
    """A benefit's realised change, combined as its unit allows, with who reported.

    - kind PERCENT (a share) and RATE (a ratio): the mean and the median of each
      reporter's change against its own baseline (in percentage points for a share);
      never a sum: `total_improvement` is None.
    - kind AMOUNT (minutes, kroner, a count): the sum of the reporters' changes, and the
      mean and median per reporter.
    Improvements are signed so that positive is better (the benefit's direction). Every
    figure is rounded to hundredths here, so pages and files show the same numbers; with
    no reporter there is no figure (None), never 0.

    Reporters are organisations and municipalities reporting for themselves as a whole
    (whatever BenefitReport allows). Expected, by the kinds of reporter the benefit has
    reports from (organisations when it has none yet): the organisations that have one of
    the benefit's solutions in use, and the municipalities where an organisation has it;
    a reporter outside those (e.g. still in trial) counts as expected too, so coverage
    never exceeds 100 %."""

    benefit: Benefit
    realisations: list[Realisation]
    expected_organisations: int
    expected_municipalities: int
    by_area: list[dict]
    by_county: list[dict]
    kind: str = AMOUNT
    mean_improvement: Decimal | None = None
    median_improvement: Decimal | None = None
    total_improvement: Decimal | None = None  # only where a sum means something
    mean_baseline: Decimal | None = None
    mean_latest: Decimal | None = None

    @property
    def n(self) -> int:
        return len(self.realisations)

    @property
    def reported_organisations(self) -> int:
        return sum(1 for r in self.realisations if not r.is_municipality)

    @property
    def reported_municipalities(self) -> int:
        return sum(1 for r in self.realisations if r.is_municipality)

    @property
    def reported(self) -> int:
        return self.n

    @property
    def expected(self) -> int:
        return self.expected_organisations + self.expected_municipalities

    @property
    def coverage(self) -> float | None:
        """Reported of expected, as a share; None while nobody has reported (no
        percentage is shown for nobody: "0 of 5 713" says it, the note says why)."""
        return self.reported / self.expected if self.reported and self.expected else None

    @property
    def note(self) -> str:
        """Why the realised figures are empty, where they are (shown beside them)."""
        if self.reported:
            return ""
        return _(
            "Nobody reported yet: a realised change needs an approved baseline and an "
            "approved follow-up from the same reporter."
        )

    @property
    def is_summable(self) -> bool:
        return self.kind == AMOUNT

    @property
    def change_unit(self) -> str:
        """The unit of a change: percentage points for a share, else the benefit's unit."""
        return _("percentage points") if self.kind == PERCENT else self.benefit.unit

    @property
    def kind_label(self) -> str:
        return {
            PERCENT: _("Share: mean and median of the changes, never summed"),
            RATE: _("Rate: mean and median of the changes, never summed"),
            AMOUNT: _("Amount: sum of the changes, and mean and median per reporter"),
        }[self.kind]

    @property
    def progress(self) -> float | None:
        """The share of the way from the mean baseline to the target (a level of the
        indicator) that the mean latest level has come."""
        target = self.benefit.target_value
        if self.mean_baseline is None or target is None or target == self.mean_baseline:
            return None
        return float((self.mean_latest - self.mean_baseline) / (target - self.mean_baseline))


def benefit_summary(benefit: Benefit, user) -> BenefitSummary:
    """THE realised benefit, for the page, the API, the status report's files and the
    decision briefs: the latest approved follow-up against the same reporter's first
    approved baseline, combined as the unit allows (see BenefitSummary), always with how
    many reported out of how many should have. Within the user's reach."""
    realisations = _realisations(_approved_reports(user).filter(benefit=benefit))[benefit.pk]
    in_use = Organisation.objects.visible_to(user).filter(
        is_active=True,
        rollout_statuses__solution__in=benefit.solutions.all(),
        rollout_statuses__status=Status.IN_USE,
    )
    # Who reports on this benefit (any report, anywhere): organisations, municipalities as
    # a whole, or both; with no report yet, the organisations that use the solution.
    reports_of = BenefitReport.objects.filter(benefit=benefit)
    municipalities_report = reports_of.filter(organisation__isnull=True).exists()
    organisations_report = (
        reports_of.filter(organisation__isnull=False).exists() or not municipalities_report
    )
    reported_orgs = [r.organisation.pk for r in realisations if not r.is_municipality]
    expected_orgs = Organisation.objects.filter(
        Q(pk__in=in_use.values("pk") if organisations_report else []) | Q(pk__in=reported_orgs)
    )
    reported_munis = [r.municipality.pk for r in realisations if r.is_municipality]
    expected_munis = Municipality.objects.filter(pk__in=reported_munis)
    if municipalities_report:
        expected_munis = Municipality.objects.filter(
            Q(pk__in=reported_munis)
            | Q(
                pk__in=Municipality.objects.visible_to(user)
                .filter(organisations__in=in_use.values("pk"))
                .values("pk")
            )
        )
    area_of_municipality: dict[int, list[str]] = defaultdict(list)
    for m, name in Catchment.objects.filter(
        municipality_id__in=[r.municipality.pk for r in realisations if r.is_municipality]
    ).values_list("municipality_id", "health_trust__name"):
        area_of_municipality[m].append(name)
    by_area = _reporting_by(
        [
            _count_by(expected_orgs, "health_trust__name"),
            _count_by(
                Catchment.objects.filter(municipality__in=expected_munis), "health_trust__name"
            ),
        ],
        [
            name
            for r in realisations
            for name in (
                area_of_municipality[r.municipality.pk]
                if r.is_municipality
                else [r.organisation.health_trust.name]
            )
        ],
        "area",
    )
    by_county = _reporting_by(
        [
            _count_by(expected_orgs, "municipality__county__name"),
            _count_by(expected_munis, "county__name"),
        ],
        [
            (r.municipality if r.is_municipality else r.organisation.municipality).county.name
            for r in realisations
        ],
        "county",
    )
    summary = BenefitSummary(
        benefit,
        realisations,
        expected_organisations=expected_orgs.count(),
        expected_municipalities=expected_munis.count(),
        by_area=by_area,
        by_county=by_county,
        kind=unit_kind(benefit.unit),
    )
    return _combined(summary)


def _approved_reports(user):
    """Approved benefit reports in reach, with what a realisation names, in time order."""
    return (
        BenefitReport.objects.visible_to(user)
        .filter(status=ReportStatus.APPROVED)
        .select_related(
            "municipality__county",
            "organisation__health_trust",
            "organisation__municipality__county",
        )
        .order_by("period_end", "id")
    )


def _realisations(reports, *, names_only=False) -> dict[int, list[Realisation]]:
    """Each reporter's latest follow-up against its first baseline, by benefit id (`reports`:
    approved reports in time order, _approved_reports). The reports are read as plain values;
    the full rows (with what a realisation names) only of the latest follow-ups that have a
    baseline: two queries whatever the number of benefits. `names_only`: the realisations'
    municipality and organisation carry their names only (the rest is read when asked for:
    for figures that need no breakdown by area or county)."""
    baseline: dict[tuple, Decimal] = {}
    latest: dict[tuple, int] = {}
    for pk, benefit_id, municipality_id, organisation_id, kind, value in reports.values_list(
        "pk", "benefit_id", "municipality_id", "organisation_id", "kind", "value"
    ):
        key = (benefit_id, municipality_id, organisation_id)
        if kind == MeasurementKind.BASELINE:
            baseline.setdefault(key, value)
        else:
            latest[key] = pk
    realised = [(key[0], latest[key], baseline[key]) for key in latest if key in baseline]
    if names_only:
        reports = (
            reports.select_related(None)
            .select_related("municipality", "organisation")
            .only("value", "municipality__name", "organisation__name")
        )
    rows = reports.in_bulk([pk for _benefit, pk, _value in realised]) if realised else {}
    by_benefit: dict[int, list[Realisation]] = defaultdict(list)
    for benefit_id, pk, value in realised:
        r = rows.get(pk)
        if r is None:  # no longer approved since the first query
            continue
        by_benefit[benefit_id].append(
            Realisation(r.reporter_name, r.municipality, r.organisation, value, r.value)
        )
    return by_benefit


def _combined(summary: BenefitSummary) -> BenefitSummary:
    """Fills in the summary's mean, median and (for amounts) sum of its realisations."""
    realisations = summary.realisations
    if realisations:
        improvements = [r.improvement(summary.benefit.direction) for r in realisations]
        n = len(realisations)
        summary.mean_improvement = _round(sum(improvements) / n)
        summary.median_improvement = _round(statistics.median(improvements))
        if summary.is_summable:
            summary.total_improvement = _round(sum(improvements))
        summary.mean_baseline = _round(sum(r.baseline for r in realisations) / n)
        summary.mean_latest = _round(sum(r.latest for r in realisations) / n)
    return summary


def benefit_summaries(benefits, user, in_use: list[InUse] | None = None) -> list[BenefitSummary]:
    """benefit_summary of each of `benefits`, in at most eight queries whatever the number
    of benefits and organisations (the status report's table, the benefit register and the
    overview): the same figures and expected counts, without the breakdown by area and
    county (by_area and by_county are empty). `in_use`: solutions_in_use of the statuses in
    use of the active organisations in the user's reach (for at least the benefits'
    solutions), when the caller has read them; without it, the organisations in use per
    benefit come from the cache of counted figures (counted when it does not hold them)."""
    benefits = list(benefits)
    ids = [b.pk for b in benefits]
    realised = _realisations(_approved_reports(user).filter(benefit__in=ids), names_only=True)
    # (benefit, reported as a whole municipality?) for any report, anywhere
    reporter_kinds = set(
        BenefitReport.objects.filter(benefit__in=ids)
        .annotate(whole=ExpressionWrapper(Q(organisation__isnull=True), BooleanField()))
        .values_list("benefit_id", "whole")
        .order_by()
        .distinct()
    )
    solutions: dict[int, set[int]] = defaultdict(set)
    for benefit_id, solution_id in Benefit.solutions.through.objects.filter(
        benefit__in=ids
    ).values_list("benefit_id", "solution_id"):
        solutions[benefit_id].add(solution_id)
    statuses_in_use = RolloutStatus.objects.visible_to(user).filter(
        status=Status.IN_USE, organisation__is_active=True
    )
    if in_use is None:  # counted per benefit, from the cache
        in_use_count, in_use_municipalities = _cached_in_use_by_benefit(
            statuses_in_use, solutions, user
        )
    else:
        in_use_count, in_use_municipalities = _in_use_by_benefit(in_use, solutions)
    realisations = {b.pk: realised[b.pk] for b in benefits}
    reported_orgs = {
        r.organisation.pk for rs in realisations.values() for r in rs if not r.is_municipality
    }
    reported_in_use = set(
        statuses_in_use.filter(organisation_id__in=reported_orgs)
        .values_list("solution__benefits", "organisation_id")
        .order_by()
        .distinct()
        if reported_orgs
        else []
    )
    municipalities_in_reach = None  # everyone's, unless the user's reach is limited
    if scoping.scope_for(user).is_limited:
        municipalities_in_reach = set(
            Municipality.objects.visible_to(user).values_list("pk", flat=True)
        )
    summaries = []
    for benefit in benefits:
        done = realisations[benefit.pk]
        municipalities_report = (benefit.pk, True) in reporter_kinds
        organisations_report = (benefit.pk, False) in reporter_kinds or not municipalities_report
        orgs = {r.organisation.pk for r in done if not r.is_municipality}
        munis = {r.municipality.pk for r in done if r.is_municipality}
        expected_orgs = len(orgs)
        if organisations_report:
            outside = {o for o in orgs if (benefit.pk, o) not in reported_in_use}
            expected_orgs = in_use_count.get(benefit.pk, 0) + len(outside)
        if municipalities_report:
            used_in = in_use_municipalities.get(benefit.pk, set())
            if municipalities_in_reach is not None:
                used_in = used_in & municipalities_in_reach
            munis |= used_in
        summary = BenefitSummary(
            benefit,
            done,
            expected_organisations=expected_orgs,
            expected_municipalities=len(munis),
            by_area=[],
            by_county=[],
            kind=unit_kind(benefit.unit),
        )
        summaries.append(_combined(summary))
    return summaries


@dataclass(frozen=True)
class InUse:
    """How many organisations of a type in a municipality have exactly these solutions
    (among those asked about) in the statuses counted."""

    municipality_id: int | None
    type_id: int | None
    solutions: frozenset[int]
    organisations: int


def solutions_in_use(statuses, solution_ids) -> list[InUse]:
    """The organisations of `statuses` (e.g. those in use of the active organisations in
    reach) counted per municipality, type and set of solutions among `solution_ids`, in
    one pass over the statuses: an inner GROUP BY organisation sums a bit per solution
    (an organisation has one status per solution, so the sum is the set), an outer one
    counts the organisations per municipality, type and set. Answers both "how many have
    solution X" and "how many have any of X and Y" without counting anyone twice."""
    bits = sorted(solution_ids)
    if not bits:
        return []
    per_organisation = (
        statuses.filter(solution_id__in=bits)
        .values("organisation_id", "organisation__municipality_id", "organisation__type_id")
        .annotate(
            used=Sum(
                Case(
                    *[When(solution_id=s, then=Value(1 << i)) for i, s in enumerate(bits)],
                    default=Value(0),
                )
            )
        )
        .order_by()
    )
    sql, params = per_organisation.query.sql_with_params()
    columns = ", ".join(
        connection.ops.quote_name(name)
        for name in ("organisation__municipality_id", "organisation__type_id", "used")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, COUNT(*) FROM ({sql}) per_organisation GROUP BY 1, 2, 3", params
        )
        rows = cursor.fetchall()
    return [
        InUse(m, t, frozenset(s for i, s in enumerate(bits) if int(used) & (1 << i)), n)
        for m, t, used, n in rows
    ]


def _in_use_by_benefit(
    in_use: list[InUse], solutions: dict[int, set[int]]
) -> tuple[dict[int, int], dict[int, set[int]]]:
    """({benefit id: organisations using any of its solutions}, {benefit id: the
    municipalities they are in}) from solutions_in_use's rows."""
    count: dict[int, int] = defaultdict(int)
    municipalities: dict[int, set[int]] = defaultdict(set)
    for row in in_use:
        for benefit_id, of_benefit in solutions.items():
            if row.solutions & of_benefit:
                count[benefit_id] += row.organisations
                if row.municipality_id is not None:
                    municipalities[benefit_id].add(row.municipality_id)
    return dict(count), dict(municipalities)


def _cached_in_use_by_benefit(
    statuses, solutions: dict[int, set[int]], user
) -> tuple[dict[int, int], dict[int, set[int]]]:
    """_in_use_by_benefit of `statuses` (one grouped count over all of them) from the cache of
    counted figures (rollout.selectors.cached_figures): the answer depends on statuses and
    organisations, whose changes replace the cache's version, and on what the key names:
    the user's scope, the `statuses` queryset's SQL (the statuses in use in that scope: it
    must be filtered on nothing else) and each benefit's solutions."""
    try:
        sql, params = statuses.query.sql_with_params()
    except EmptyResultSet:  # nothing visible (a user without a role)
        return {}, {}
    return cached_figures(
        "benefits-in-use",
        (_scope_key(user), sql, params, sorted((b, sorted(ids)) for b, ids in solutions.items())),
        lambda: _in_use_by_benefit(
            solutions_in_use(statuses, set().union(*solutions.values())), solutions
        ),
    )


def _scope_key(user) -> tuple:
    """The user's scope as part of a cache key: a municipality contact or an area
    coordinator only ever gets figures counted for the same reach."""
    scope = scoping.scope_for(user)
    return (scope.role, scope.sees_all, sorted(scope.trust_ids), sorted(scope.municipality_ids))


def _reporting_by(expected: list[dict[str, int]], reported: list[str], label: str) -> list[dict]:
    """Per area or county: how many should report (the sum of the counts per kind of
    reporter) and how many did (one name per reporter and place it counts in)."""
    totals: dict[str, int] = defaultdict(int)
    for counts in expected:
        for name, n in counts.items():
            totals[name] += n
    did: dict[str, int] = defaultdict(int)
    for name in reported:
        did[name] += 1
    return [
        {label: name, "expected": n, "reported": did.get(name, 0)}
        for name, n in sorted(totals.items())
    ]


def _count_by(queryset, field_path: str) -> dict[str, int]:
    return dict(queryset.order_by().values_list(field_path).annotate(n=Count("pk", distinct=True)))


def missing_baselines(user, limit: int = 200) -> list[dict]:
    """Organisations that started using a solution whose benefit needs a baseline before
    rollout, without an approved or submitted baseline dated before that start."""
    rows = [row for group in missing_baseline_groups(user, limit) for row in group["rows"]]
    return sorted(rows, key=lambda r: (r["benefit"].pk, r["start"]))[:limit]


def missing_baseline_groups(user, shown: int, benefits=None) -> list[dict]:
    """missing_baselines per benefit that needs a baseline and has any: how many in all
    (`count`) and the `shown` that started earliest (`rows`). Who started when is counted in
    the database and cached (rollout.selectors.cached_figures: the version follows the
    status history and organisations; the key names the scope, the benefits' solutions and
    every baseline it was counted with); only the organisations of the shown rows are read.
    `benefits`: every benefit with its solutions, in their order, when the caller has read
    them."""
    if benefits is None:
        benefits = Benefit.objects.filter(baseline_required=True).prefetch_related("solutions")
    benefits = [b for b in benefits if b.baseline_required]
    solutions = {b.pk: sorted(s.pk for s in b.solutions.all()) for b in benefits}
    baselines: dict[int, dict[int, datetime.date]] = defaultdict(dict)
    for benefit_id, organisation_id, first in (
        BenefitReport.objects.filter(
            benefit__in=list(solutions),
            kind=MeasurementKind.BASELINE,
            organisation__isnull=False,
            status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
        )
        .values_list("benefit_id", "organisation_id")
        .annotate(first=Min("period_end"))
        .values_list("benefit_id", "organisation_id", "first")
        .order_by()
    ):
        baselines[benefit_id][organisation_id] = first
    changes = standing(
        StatusChange.objects.visible_to(user).filter(to_status__in=[Status.TRIAL, Status.IN_USE])
    )
    try:
        sql, params = changes.query.sql_with_params()
    except EmptyResultSet:  # nothing visible (a user without a role)
        return []
    parts = (
        _scope_key(user),
        sql,
        params,
        shown,
        sorted(solutions.items()),
        sorted((b, sorted(firsts.items())) for b, firsts in baselines.items()),
    )
    late = cached_figures(
        "benefits-missing-baselines",
        parts,
        lambda: {
            pk: _late_starts(changes.filter(solution_id__in=ids), baselines[pk], shown)
            for pk, ids in solutions.items()
        },
    )
    # What a row shows of its organisation (the rest is read when asked for).
    organisations = (
        Organisation.objects.select_related("municipality", "type")
        .only("name", "municipality__name", "type__name")
        .in_bulk([o for _count, first in late.values() for o, _start in first])
    )
    groups = []
    for benefit in benefits:
        count, first = late[benefit.pk]
        if not count:
            continue
        rows = [
            {
                "benefit": benefit,
                "organisation": organisations[o],
                "start": start,
                "baseline": baselines[benefit.pk].get(o),
            }
            for o, start in first
            if o in organisations  # (deleted since it was counted)
        ]
        groups.append({"benefit": benefit, "count": count, "rows": rows})
    return groups


def _late_starts(
    changes, baselines: dict[int, datetime.date], shown: int
) -> tuple[int, list[tuple[int, datetime.date]]]:
    """(how many, the `shown` earliest as (organisation id, start)) of the organisations
    that first tried or used a solution (their earliest of `changes`) without a baseline
    dated on or before that start (`baselines`: the first baseline of each organisation
    that has one), in one query: the starts are grouped and ranked in the database, which
    returns how many there are, the first `shown` plus one per baseline (those with an
    early enough baseline are dropped from them), and the starts of the organisations
    with a baseline."""
    starts = changes.values("organisation_id").annotate(start=Min("effective_date")).order_by()
    try:
        sql, params = starts.query.sql_with_params()
    except EmptyResultSet:  # a benefit without solutions
        return 0, []
    organisation, start = (connection.ops.quote_name(c) for c in ("organisation_id", "start"))
    with_baseline = sorted(baselines)
    among = f" OR {organisation} IN ({', '.join(['%s'] * len(with_baseline))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {organisation}, {start}, total FROM ("
            f"SELECT {organisation}, {start}, COUNT(*) OVER () AS total, "
            f"ROW_NUMBER() OVER (ORDER BY {start}, {organisation}) AS n FROM ({sql}) starts"
            f") ranked WHERE n <= %s{among if with_baseline else ''}",
            [*params, max(shown, 1) + len(with_baseline), *with_baseline],
        )
        rows = [(o, _date(day), total) for o, day, total in cursor.fetchall()]
    if not rows:
        return 0, []
    on_time = {o for o, day, _t in rows if o in baselines and baselines[o] <= day}
    late = sorted((day, o) for o, day, _t in rows if o not in on_time)
    return rows[0][2] - len(on_time), [(o, day) for day, o in late[:shown]]


def _date(value) -> datetime.date:
    """A date from a raw query (SQLite answers a computed date as text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
