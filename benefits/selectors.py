"""Agreement coverage and benefit realisation, counted in the database."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils.translation import gettext as _

from actors.models import (
    Catchment,
    HealthTrust,
    Municipality,
    Organisation,
    RegionalHealthAuthority,
)
from rollout.choices import Status
from rollout.models import StatusChange

from .choices import AgreementStatus, Direction, MeasurementKind, ReportStatus
from .models import Benefit, BenefitReport, IntentAgreement

THRESHOLD = Decimal("0.5")  # "kommuner som representerer om lag halvparten av befolkningen"


def excluded_region() -> str:
    """The regional health authority left out of the agreement requirement (data, not code)."""
    return getattr(settings, "AGREEMENT_EXCLUDED_REGION", "helse-midt-norge")


def excluded_region_name() -> str:
    region = RegionalHealthAuthority.objects.filter(code=excluded_region()).first()
    return region.name if region else excluded_region()


def signed_agreements():
    return IntentAgreement.objects.filter(status=AgreementStatus.SIGNED)


def outside_region_municipalities():
    inside = Catchment.objects.filter(
        health_trust__regional_health_authority__code=excluded_region()
    ).values("municipality_id")
    return Municipality.objects.exclude(pk__in=inside)


def covered_municipality_ids(on: datetime.date | None = None) -> set[int]:
    """Municipalities that are a party to a signed agreement (signed by `on`, if given)."""
    agreements = signed_agreements()
    if on is not None:
        agreements = agreements.filter(signed_date__lte=on)
    return set(Municipality.objects.filter(agreements__in=agreements).values_list("pk", flat=True))


@dataclass
class CoverageRow:
    key: str
    name: str
    population: int
    covered_population: int
    municipalities: int
    covered_municipalities: int
    url: str = ""

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

    @property
    def above_threshold(self) -> bool:
        return self.nation.share >= self.threshold

    @property
    def municipality_share(self) -> float:
        n = self.nation
        return n.covered_municipalities / n.municipalities if n.municipalities else 0.0


def agreement_coverage(on: datetime.date | None = None) -> Coverage:
    """Population covered by signed agreements outside the excluded region, against the
    seed's threshold (half of that population) and the goal of every municipality; per
    county and per health-trust area (catchment population, so Oslo counts in two areas)."""
    outside = list(outside_region_municipalities().select_related("county"))
    covered = covered_municipality_ids(on)
    nation = CoverageRow(
        "nation",
        _("Norway outside %(region)s") % {"region": excluded_region_name()},
        sum(m.population for m in outside),
        sum(m.population for m in outside if m.pk in covered),
        len(outside),
        sum(1 for m in outside if m.pk in covered),
    )
    counties: dict[int, CoverageRow] = {}
    for m in outside:
        row = counties.setdefault(
            m.county_id, CoverageRow(m.county.number, m.county.name, 0, 0, 0, 0)
        )
        row.population += m.population
        row.municipalities += 1
        if m.pk in covered:
            row.covered_population += m.population
            row.covered_municipalities += 1
    outside_ids = {m.pk for m in outside}
    areas: dict[int, CoverageRow] = {}
    trusts = {t.pk: t for t in HealthTrust.objects.all()}
    for c in Catchment.objects.filter(municipality_id__in=outside_ids):
        t = trusts[c.health_trust_id]
        row = areas.setdefault(t.pk, CoverageRow(t.code, t.name, 0, 0, 0, 0, t.get_absolute_url()))
        row.population += c.population
        row.municipalities += 1
        if c.municipality_id in covered:
            row.covered_population += c.population
            row.covered_municipalities += 1
    return Coverage(
        nation,
        sorted(counties.values(), key=lambda r: r.key),
        sorted(areas.values(), key=lambda r: r.name),
    )


def covered_organisation_ids(solution, organisation_ids) -> set[int]:
    """Organisations covered by a signed agreement for the solution (or the whole
    programme): as a party themselves, or through their municipality."""
    agreements = signed_agreements().filter(Q(solutions=solution) | Q(solutions=None))
    return set(
        Organisation.objects.filter(pk__in=organisation_ids)
        .filter(Q(agreements__in=agreements) | Q(municipality__agreements__in=agreements))
        .values_list("pk", flat=True)
        .distinct()
    )


# --- benefits -------------------------------------------------------------------------


def solution_start_dates(benefit: Benefit, organisation_ids=None) -> dict[int, datetime.date]:
    """When each organisation first tried or used one of the benefit's solutions."""
    changes = StatusChange.objects.filter(
        solution__in=benefit.solutions.all(), to_status__in=[Status.TRIAL, Status.IN_USE]
    )
    if organisation_ids is not None:
        changes = changes.filter(organisation_id__in=organisation_ids)
    return dict(
        changes.values_list("organisation_id")
        .annotate(start=Min("effective_date"))
        .values_list("organisation_id", "start")
    )


def late_baseline_warning(report: BenefitReport) -> str:
    """A baseline measured after the organisation started using the solution still counts,
    but the comparison is weaker: say so."""
    if report.kind != MeasurementKind.BASELINE or not report.organisation_id:
        return ""
    start = solution_start_dates(report.benefit, [report.organisation_id]).get(
        report.organisation_id
    )
    if start and report.period_end > start:
        return _(
            "Baseline measured after %(org)s started using the solution (%(d)s): the realised "
            "benefit will look smaller than it is."
        ) % {"org": report.organisation.name, "d": start.strftime("%d.%m.%Y")}
    return ""


@dataclass
class Realisation:
    reporter: str
    municipality: Municipality
    organisation: Organisation | None
    baseline: Decimal
    latest: Decimal

    def improvement(self, direction: str) -> Decimal:
        change = self.latest - self.baseline
        return change if direction == Direction.HIGHER else -change


@dataclass
class BenefitSummary:
    benefit: Benefit
    realisations: list[Realisation]
    expected: int
    reported: int
    by_area: list[dict]
    by_county: list[dict]

    @property
    def total_improvement(self) -> Decimal:
        return sum((r.improvement(self.benefit.direction) for r in self.realisations), Decimal("0"))

    @property
    def coverage(self) -> float:
        return self.reported / self.expected if self.expected else 0.0


def benefit_summary(benefit: Benefit, user) -> BenefitSummary:
    """Realised benefit = the latest approved follow-up against the same reporter's approved
    baseline. Always with its coverage: how many reported out of how many should have (the
    organisations that have the solution in use)."""
    reports = (
        BenefitReport.objects.visible_to(user)
        .filter(benefit=benefit, status=ReportStatus.APPROVED)
        .select_related(
            "municipality", "organisation__health_trust", "organisation__municipality__county"
        )
        .order_by("period_end", "id")
    )
    baseline: dict[tuple, BenefitReport] = {}
    latest: dict[tuple, BenefitReport] = {}
    for r in reports:
        key = (r.municipality_id, r.organisation_id)
        if r.kind == MeasurementKind.BASELINE:
            baseline.setdefault(key, r)
        else:
            latest[key] = r
    realisations = [
        Realisation(
            latest[key].reporter_name,
            latest[key].municipality,
            latest[key].organisation,
            baseline[key].value,
            latest[key].value,
        )
        for key in latest
        if key in baseline
    ]
    expected_orgs = (
        Organisation.objects.visible_to(user)
        .filter(
            is_active=True,
            rollout_statuses__solution__in=benefit.solutions.all(),
            rollout_statuses__status=Status.IN_USE,
        )
        .distinct()
    )
    by_area = _reporting_by(
        expected_orgs, realisations, "health_trust__name", lambda o: o.health_trust.name, "area"
    )
    by_county = _reporting_by(
        expected_orgs,
        realisations,
        "municipality__county__name",
        lambda o: o.municipality.county.name,
        "county",
    )
    return BenefitSummary(
        benefit,
        realisations,
        expected=sum(row["expected"] for row in by_area),
        reported=sum(1 for r in realisations if r.organisation is not None),
        by_area=by_area,
        by_county=by_county,
    )


def _reporting_by(expected_orgs, realisations, path: str, key_of, label: str) -> list[dict]:
    """Per area or county: how many should report (have the solution in use) and how many
    did (an approved baseline and follow-up)."""
    expected = _count_by(expected_orgs, path)
    reported: dict[str, int] = defaultdict(int)
    for r in realisations:
        if r.organisation is not None:
            reported[key_of(r.organisation)] += 1
    return [
        {label: name, "expected": n, "reported": reported.get(name, 0)}
        for name, n in sorted(expected.items())
    ]


def _count_by(queryset, field_path: str) -> dict[str, int]:
    return dict(queryset.order_by().values_list(field_path).annotate(n=Count("pk", distinct=True)))


def missing_baselines(user, limit: int = 200) -> list[dict]:
    """Organisations that started using a solution whose benefit needs a baseline before
    rollout, without an approved or submitted baseline dated before that start."""
    rows = []
    for benefit in Benefit.objects.filter(baseline_required=True).prefetch_related("solutions"):
        visible = Organisation.objects.visible_to(user).values("pk")
        starts = solution_start_dates(benefit, visible)
        baselines = dict(
            BenefitReport.objects.filter(
                benefit=benefit,
                kind=MeasurementKind.BASELINE,
                organisation_id__in=starts,
                status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
            )
            .values_list("organisation_id")
            .annotate(first=Min("period_end"))
            .values_list("organisation_id", "first")
        )
        late = [o for o, start in starts.items() if o not in baselines or baselines[o] > start]
        organisations = Organisation.objects.filter(pk__in=late[:limit]).select_related(
            "municipality", "type"
        )
        for o in organisations:
            rows.append(
                {
                    "benefit": benefit,
                    "organisation": o,
                    "start": starts[o.pk],
                    "baseline": baselines.get(o.pk),
                }
            )
    return sorted(rows, key=lambda r: (r["benefit"].pk, r["start"]))[:limit]
