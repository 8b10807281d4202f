"""The synthetic agreements and benefits of seed_demo follow the seed documents: just over
half of the population outside Helse Midt-Norge covered by agreements signed in 2020 (the
deadline 1 July 2020), PLL agreements in the Bergen area, benefits under every goal, with
baselines before (and a few after) the start and follow-ups."""

import datetime
import re

import pytest
from django.core.management import call_command

from actors.models import HealthTrust, Municipality, Organisation
from actors.scoping import SYSTEM_USER
from benefits.choices import AgreementStatus, MeasurementKind, ReportStatus
from benefits.demo import minimal_pdf
from benefits.models import AgreementChange, Benefit, BenefitGoal, BenefitReport, IntentAgreement
from benefits.selectors import (
    agreement_coverage,
    benefit_summary,
    late_baseline_warning,
)
from rollout.models import Solution
from rollout.selectors import area_readiness

DEADLINE = datetime.date(2020, 7, 1)


def _assert_valid_pdf(data: bytes) -> None:
    """A PDF 1.4 whose cross-reference table points at its objects."""
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[xref:].startswith(b"xref\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", data[xref:])
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj" % number)


def test_minimal_pdf_is_a_valid_pdf():
    _assert_valid_pdf(minimal_pdf(["Intensjonsavtale – Bærum (kommune) \\ test", ""]))


@pytest.mark.django_db
def test_seed_demo_writes_agreements_and_benefits_once(capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--seed", "1")
    assert "Synthetic agreements and benefits (seed 1): " in capsys.readouterr().out

    # Built on today's structure: every municipality has organisations, Haram (split from
    # Ålesund on 1.1.2024) included; the Vestfold agreement of 2020 names today's numbers.
    assert not Municipality.objects.current().filter(organisations=None).exists()
    assert Organisation.objects.filter(is_synthetic=True, municipality__number="1580").exists()
    # The plan names the numbers of 2020 (3803 Tønsberg, 3024 Bærum), read through the
    # number mapping on that day: the agreements are with the same municipalities today.
    vestfold = IntentAgreement.objects.get(title="Samarbeidsavtale Vestfold")
    assert sorted(vestfold.municipalities.values_list("number", flat=True)) == [
        "3901", "3903", "3905", "3907", "3909", "3911"
    ]  # fmt: skip
    assert (
        IntentAgreement.objects.get(title="Intensjonsavtale Bærum kommune")
        .municipalities.get()
        .number
        == "3201"
    )
    # The deadline's coverage is read in the structure of 2020 with the residents of 2023.
    at_deadline = agreement_coverage(on=DEADLINE)
    assert (at_deadline.structure_counties, at_deadline.population_year) == (11, 2023)

    # About half of the population outside Helse Midt-Norge, reached by the deadline.
    coverage = agreement_coverage()
    assert 0.5 <= coverage.nation.share <= 0.6
    assert agreement_coverage(on=DEADLINE).above_threshold
    signed = IntentAgreement.objects.filter(status=AgreementStatus.SIGNED)
    programme = signed.filter(solutions=None)
    assert programme.count() >= 20
    assert all(a.signed_date.year == 2020 for a in programme)
    assert all(a.sent_date and a.sent_date <= a.signed_date for a in signed)
    before = programme.filter(signed_date__lt=DEADLINE).count()
    assert before > programme.count() - before > 0
    sizes = [a.municipalities.count() for a in programme]
    assert max(sizes) > 3 and sizes.count(1) > 10  # regional cooperation and single ones
    assert IntentAgreement.objects.filter(status=AgreementStatus.SENT).exists()
    assert IntentAgreement.objects.filter(status=AgreementStatus.DRAFT).exists()
    complete = signed.filter(clause_benefits=True, clause_financing=True, clause_risk_sharing=True)
    assert 1 <= signed.count() - complete.count() <= 2
    assert not signed.filter(contact_person="").exists() and not signed.filter(notes="").exists()
    with_document = [a for a in IntentAgreement.objects.all() if a.current_document]
    assert 3 <= len(with_document) <= 10
    for agreement in with_document:
        with agreement.current_document.file.open("rb") as f:
            _assert_valid_pdf(f.read())
    # Written through agreement_save: every agreement has its history.
    assert AgreementChange.objects.count() == IntentAgreement.objects.count()

    # PLL agreements in the Bergen area with municipalities, GP offices and pharmacies.
    pll = Solution.objects.get(code="pll")
    bergen = HealthTrust.objects.get(code="helse-bergen")
    pll_signed = signed.filter(solutions=pll)
    assert pll_signed.filter(municipalities__catchments__health_trust=bergen).exists()
    party_types = set(
        Organisation.objects.filter(agreements__in=pll_signed, health_trust=bergen).values_list(
            "type__code", flat=True
        )
    )
    assert {"fastlegekontor", "apotek"} <= party_types
    readiness = area_readiness(pll, bergen, SYSTEM_USER)
    assert readiness.agreement_covered > 0
    condition = next(c for c in readiness.conditions if c.name == "agreements")
    assert not condition.detail.startswith("0 /")

    # Benefits under all five goals, with approved baselines and follow-ups.
    goals = set(BenefitGoal.objects.values_list("code", flat=True))
    assert (
        set(Benefit.objects.values_list("goal__code", flat=True))
        == goals
        == {
            "frigjort-tid",
            "faerre-uonskede-hendelser",
            "innbyggeropplevelse",
            "styringsinformasjon",
            "ikt-sikkerhet",
        }
    )
    reports = BenefitReport.objects.all()
    assert set(reports.values_list("status", flat=True)) == set(ReportStatus.values)
    approved = reports.filter(status=ReportStatus.APPROVED)
    for benefit in Benefit.objects.all():
        assert benefit.target_value is not None and benefit.target_date, benefit
        mine = approved.filter(benefit=benefit)
        assert mine.filter(kind=MeasurementKind.BASELINE).exists(), benefit
        assert mine.filter(kind=MeasurementKind.FOLLOW_UP).exists(), benefit
        realised = benefit_summary(benefit, SYSTEM_USER).realisations
        improving = [r for r in realised if r.improvement(benefit.direction) > 0]
        assert realised and len(improving) >= 0.8 * len(realised), benefit
    assert reports.filter(organisation=None).exists()  # municipalities reporting as a whole
    returned = reports.get(status=ReportStatus.RETURNED)
    assert returned.review_comment and returned.reviewed_by and not returned.reviewed_by.is_active

    # Baselines before the start for most organisations, after it for a few.
    baselines = list(
        reports.filter(
            kind=MeasurementKind.BASELINE,
            organisation__isnull=False,
            benefit__baseline_required=True,
        ).select_related("benefit", "organisation")
    )
    late = [r for r in baselines if late_baseline_warning(r)]
    assert 1 <= len(late) <= 0.2 * len(baselines)

    # A second run changes nothing.
    counts = (IntentAgreement.objects.count(), Benefit.objects.count(), reports.count())
    call_command("seed_demo", "--seed", "1")
    assert (
        "Synthetic agreements and benefits (seed 1) already in place: nothing changed."
        in capsys.readouterr().out
    )
    assert counts == (IntentAgreement.objects.count(), Benefit.objects.count(), reports.count())
