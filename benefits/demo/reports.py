"""Benefit reports by organisations that have the solutions in use and by municipalities:
baselines mostly before the start, follow-ups improving with noise, in every state."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Min

from actors.choices import OrganisationTypeCode as T
from actors.models import Municipality, Organisation, User
from actors.scoping import SYSTEM_USER
from rollout.choices import Status
from rollout.models import StatusChange
from rollout.services import today as local_today

from .. import services
from ..choices import Direction, MeasurementKind, ReportStatus
from ..models import Benefit
from ..selectors import solution_start_dates
from .agreement_plan import MARKER
from .register import TIME, BenefitSpec

DAY = datetime.timedelta(days=1)
PLO = (T.NURSING_HOME, T.HOME_CARE, T.MUNICIPALITY, T.MUNICIPAL_ACUTE_BEDS)
RETURN_COMMENT = (
    "Verdien avviker mye fra forrige måling. Beskriv hvordan tidsbruken ble registrert "
    "(hvem, hvor mange innleggelser) og legg ved registreringsskjemaet før du sender inn på nytt."
)


@dataclass
class Reporter:
    municipality: Municipality
    organisation: Organisation | None
    start: datetime.date


def _org_reporters(rng: random.Random, spec: BenefitSpec, benefit: Benefit) -> list[Reporter]:
    chosen: list[int] = []
    for types, statuses, trust, count in spec.reporters:
        qs = Organisation.objects.filter(
            is_synthetic=True,
            is_active=True,
            type__code__in=types,
            rollout_statuses__solution__code__in=spec.solutions,
            rollout_statuses__status__in=statuses,
        ).exclude(pk__in=chosen)
        if trust:
            qs = qs.filter(health_trust__code=trust)
        ids = list(qs.order_by("orgnr").values_list("pk", flat=True).distinct())
        chosen += rng.sample(ids, min(count, len(ids)))
    starts = solution_start_dates(benefit, chosen)
    orgs = Organisation.objects.select_related("municipality").in_bulk(chosen)
    return [Reporter(orgs[pk].municipality, orgs[pk], starts[pk]) for pk in chosen if pk in starts]


def _municipality_reporters(rng: random.Random, spec: BenefitSpec) -> list[Reporter]:
    """Municipalities reporting for themselves: started when their nursing and care services
    first tried or used the solution."""
    starts = dict(
        StatusChange.objects.filter(
            solution__code__in=spec.solutions,
            to_status__in=[Status.TRIAL, Status.IN_USE],
            organisation__type__code__in=PLO,
        )
        .values_list("organisation__municipality__number")
        .annotate(start=Min("effective_date"))
        .values_list("organisation__municipality__number", "start")
    )
    numbers = sorted(n for n, start in starts.items() if start <= local_today() - 400 * DAY)
    chosen = rng.sample(numbers, min(spec.municipalities, len(numbers)))
    by_number = Municipality.objects.in_bulk(chosen, field_name="number")
    return [Reporter(by_number[n], None, starts[n]) for n in chosen]


def _reports(rng: random.Random, spec: BenefitSpec, benefit: Benefit, reviewer: User) -> int:
    reporters = _org_reporters(rng, spec, benefit) if spec.reporters else []
    reporters += _municipality_reporters(rng, spec) if spec.municipalities else []
    # A few organisations measured their baseline only after they had started.
    late = set()
    if spec.baseline_required and reporters:
        late = set(rng.sample(range(len(reporters)), max(1, len(reporters) // 10)))
    written = 0
    returned = spec is TIME
    for i, reporter in enumerate(reporters):
        series = _series(rng, spec, reporter.start, late=i in late)
        statuses = [ReportStatus.APPROVED] * len(series)
        r = rng.random()
        if returned and len(series) > 2:
            # An outlier the reviewer sends back.
            kind, a, b, _value, n = series[-1]
            series[-1] = (kind, a, b, _decimal(float(series[0][3]) * 0.3, spec.decimals), n)
            statuses[-1], returned = ReportStatus.RETURNED, False
        elif r < 0.12:
            statuses[-1] = ReportStatus.SUBMITTED
        elif r < 0.2:
            statuses[-1] = ReportStatus.DRAFT
        elif r < 0.26 and i not in late:
            # Just started reporting: only the baseline, in draft or waiting for review.
            series = series[:1]
            statuses = [ReportStatus.DRAFT if r < 0.23 else ReportStatus.SUBMITTED]
        for (kind, start, end, value, n), status in zip(series, statuses, strict=True):
            _write_report(spec, benefit, reporter, kind, start, end, value, n, status, reviewer)
            written += 1
    return written


def _series(rng: random.Random, spec: BenefitSpec, start: datetime.date, late: bool) -> list:
    """A baseline and yearly follow-ups (the first and the latest two): (kind, from, to,
    value, sample size)."""
    length = spec.period_days * DAY
    last_day = local_today() - 21 * DAY
    mean, spread = spec.base
    baseline = max(rng.gauss(mean, spread), mean - 2 * spread, mean * 0.2)
    effect = rng.uniform(0.6, 1.25)

    def value_at(day: datetime.date) -> float:
        progress = min(max((day - start).days / 365 / spec.ramp_years, 0.0), 1.0) * effect
        if spec.direction == Direction.HIGHER:
            value = min(baseline + spec.change * progress, 99.0)
        else:
            value = baseline * (1 + spec.change * progress)
        return value * rng.gauss(1, 0.04)

    # A late baseline ends after the start; the others end some weeks before it.
    end = start + (rng.randint(45, 150) if late else -rng.randint(14, 120)) * DAY
    rows = [(MeasurementKind.BASELINE, end - length + DAY, end, value_at(end))]
    first = start + rng.randint(180, 280) * DAY
    follow_ups = []
    while (end := first + len(follow_ups) * 365 * DAY + length - DAY) <= last_day:
        follow_ups.append((end - length + DAY, end))
    if len(follow_ups) > 3:
        follow_ups = [follow_ups[0], *follow_ups[-2:]]
    rows += [(MeasurementKind.FOLLOW_UP, a, b, value_at(b)) for a, b in follow_ups]
    return [
        (kind, a, b, _decimal(v, spec.decimals), rng.randint(*spec.sample))
        for kind, a, b, v in rows
    ]


def _decimal(value: float, decimals: int) -> Decimal:
    return Decimal(str(round(max(value, 0.0), decimals))).quantize(Decimal("0.01"))


def _write_report(spec, benefit, reporter, kind, start, end, value, n, status, reviewer) -> None:
    place = reporter.organisation.name if reporter.organisation else reporter.municipality.name
    report = services.benefit_report_save(
        user=SYSTEM_USER,
        report_id=None,
        expected_version=None,
        fields={
            "benefit": benefit,
            "municipality": reporter.municipality,
            "organisation": reporter.organisation,
            "kind": kind,
            "period_start": start,
            "period_end": end,
            "value": value,
            "method": spec.method.format(n=n),
            "evidence": f"{MARKER} Registreringer fra {place}, oppsummert av kontaktpersonen.",
        },
    )
    if status == ReportStatus.DRAFT:
        return
    report = services.benefit_report_submit(
        user=SYSTEM_USER, report_id=report.pk, expected_version=report.version
    )
    if status == ReportStatus.SUBMITTED:
        return
    services.benefit_report_review(
        user=reviewer,
        report_id=report.pk,
        expected_version=report.version,
        approve=status == ReportStatus.APPROVED,
        comment="" if status == ReportStatus.APPROVED else RETURN_COMMENT,
    )
