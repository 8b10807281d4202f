"""The benefit report list computes the late-baseline warnings of a page in one batch:
its query count does not grow with the number of baseline reports on the page."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.choices import ReportStatus
from actors.scoping import SYSTEM_USER
from benefits.choices import MeasurementKind
from benefits.models import BenefitReport
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.benefits.test_api import make_benefit
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

START = datetime.date(2026, 3, 1)


def add_reports(benefits, count):
    """`count` organisations in 4601, each with a baseline per benefit measured after its
    start on the first benefit's solution (late for the benefits that share it), plus a
    municipality-wide follow-up."""
    solution = Solution.objects.get(code="kjernejournal")
    for _ in range(count):
        organisation = OrganisationFactory(municipality__number="4601")
        rollout_services.status_change(
            user=SYSTEM_USER,
            organisation=organisation,
            solution=solution,
            to_status=Status.TRIAL,
            effective_date=START,
        )
        for benefit in benefits:
            BenefitReport.objects.create(
                benefit=benefit,
                municipality=organisation.municipality,
                organisation=organisation,
                kind=MeasurementKind.BASELINE,
                period_start=datetime.date(2026, 1, 1),
                period_end=datetime.date(2026, 4, 30),
                value=Decimal(10),
                method="Tidsstudie",
                status=ReportStatus.SUBMITTED,
            )
        BenefitReport.objects.create(
            benefit=benefits[0],
            municipality=organisation.municipality,
            kind=MeasurementKind.FOLLOW_UP,
            period_start=datetime.date(2026, 5, 1),
            period_end=datetime.date(2026, 5, 31),
            value=Decimal(8),
            method="Tidsstudie",
            status=ReportStatus.SUBMITTED,
        )


def listed(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("benefitreport-list"), {"page_size": 100})
    assert response.status_code == 200
    return response.json()["results"], len(captured)


def test_benefit_report_list_query_count_is_constant(contact):
    late = make_benefit()  # kjernejournal: the organisations started before the baseline
    other = make_benefit(codes=("pll",), name="Færre feil i legemiddellister")
    client = api_client_for(contact)
    listed(client)  # the first request of a session does its own bookkeeping

    add_reports([late, other], 2)
    small, small_queries = listed(client)
    add_reports([late, other], 6)
    large, large_queries = listed(client)

    assert len(small) == 6 and len(large) == 24
    assert large_queries == small_queries
    warned = {(r["benefit"], r["kind"]): bool(r["late_baseline_warning"]) for r in large}
    assert warned == {
        (late.pk, MeasurementKind.BASELINE): True,
        (other.pk, MeasurementKind.BASELINE): False,
        (late.pk, MeasurementKind.FOLLOW_UP): False,
    }
    assert all(
        "01.03.2026" in r["late_baseline_warning"]
        for r in large
        if r["benefit"] == late.pk and r["kind"] == MeasurementKind.BASELINE
    )
