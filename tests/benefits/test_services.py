import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from actors.models import HealthTrust, Municipality
from benefits import selectors, services
from benefits.choices import AgreementStatus, ReportStatus
from benefits.models import AgreementChange, Benefit, BenefitGoal, IntentAgreement
from rollout import selectors as rollout_selectors
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.factories import OrganisationFactory
from tests.pdfs import clean_pdf

pytestmark = pytest.mark.django_db
D = datetime.date
PDF = clean_pdf()


def munis(*numbers):
    return list(Municipality.objects.filter(number__in=numbers))


SIGNED = D(2020, 5, 1)


def sign(user, *numbers, solutions=(), organisations=(), signed=SIGNED, **extra):
    return services.agreement_save(
        user=user,
        agreement_id=None,
        expected_version=None,
        fields={
            "title": "Intensjonsavtale",
            "status": AgreementStatus.SIGNED,
            "sent_date": D(2020, 3, 1),
            "signed_date": signed,
            **extra,
        },
        municipalities=munis(*numbers),
        organisations=organisations,
        solutions=solutions,
    )


@pytest.fixture
def nat(make_user):
    return make_user("coord_nat")


def test_no_agreements_no_coverage():
    c = selectors.agreement_coverage()
    assert (c.nation.population, c.nation.municipalities) == (4_865_065, 292)
    assert c.nation.covered_population == 0 and not c.above_threshold
    assert c.nation.gap == 2_432_533  # half of 4 865 065, rounded up to whole residents


def test_oslo_counts_in_both_of_its_areas(nat):
    sign(nat, "0301")
    c = selectors.agreement_coverage()
    assert c.nation.covered_population == 728_714
    areas = {r.key: r for r in c.by_area}
    assert areas["akershus-universitetssykehus"].covered_population == 114_375
    assert areas["oslo-universitetssykehus"].covered_population == 614_339
    assert areas["oslo-universitetssykehus"].share == 1.0
    assert {r.key: r for r in c.by_county}["03"].covered_municipalities == 1


def test_midt_norge_does_not_count_and_drafts_do_not_count(nat):
    sign(nat, "5001")  # Trondheim, inside Helse Midt-Norge
    services.agreement_save(
        user=nat,
        agreement_id=None,
        expected_version=None,
        fields={"title": "Utkast", "status": AgreementStatus.DRAFT},
        municipalities=munis("4601"),
        organisations=[],
        solutions=[],
    )
    assert selectors.agreement_coverage().nation.covered_population == 0


def test_crossing_the_threshold(nat):
    outside = selectors.outside_region_municipalities().order_by("-population")
    chosen, total = [], 0
    for m in outside:
        chosen.append(m.number)
        total += m.population
        if total * 2 >= 4_865_065:
            break
    sign(nat, *chosen[:-1])
    assert not selectors.agreement_coverage().above_threshold
    sign(nat, chosen[-1])
    c = selectors.agreement_coverage()
    assert c.above_threshold and c.nation.covered_population == total and c.nation.gap == 0


def test_coverage_as_of_a_date(nat):
    sign(nat, "4601", signed=D(2020, 6, 30))
    sign(nat, "1103", signed=D(2020, 9, 1))
    assert selectors.agreement_coverage(on=D(2020, 7, 1)).nation.covered_municipalities == 1
    assert selectors.agreement_coverage().nation.covered_municipalities == 2


def test_agreement_rules_and_history(nat):
    with pytest.raises(ValidationError) as exc:
        services.agreement_save(
            user=nat,
            agreement_id=None,
            expected_version=None,
            fields={"title": "Uten parter", "status": AgreementStatus.SIGNED},
            municipalities=[],
            organisations=[],
            solutions=[],
        )
    assert {"municipalities", "signed_date"} <= set(exc.value.message_dict)
    agreement = sign(nat, "4601")
    agreement = services.agreement_save(
        user=nat,
        agreement_id=agreement.pk,
        expected_version=agreement.version,
        fields={"notes": "Oppdatert"},
        municipalities=munis("4601", "4602"),
        organisations=[],
        solutions=[],
    )
    summaries = list(agreement.changes.order_by("id").values_list("summary", flat=True))
    assert len(summaries) == 2 and "municipalities" in summaries[1] and "notes" in summaries[1]
    with pytest.raises(DatabaseError), transaction.atomic():
        AgreementChange.objects.filter(agreement=agreement).delete()


def test_only_coordinators_maintain_agreements(contact, directorate):
    for user in (contact, directorate):
        with pytest.raises(PermissionDenied):
            sign(user, "4601")


def test_area_coordinator_needs_a_party_in_their_area(coordinator):
    with pytest.raises(ValidationError) as exc:
        sign(coordinator, "5501")
    assert "municipalities" in exc.value.message_dict
    assert not IntentAgreement.objects.exists()
    assert sign(coordinator, "4601").pk


@pytest.mark.parametrize(
    ("name", "content", "size_note"),
    [
        ("avtale.docx", b"PK\x03\x04", ""),
        ("avtale.pdf", b"not a pdf", ""),
        ("stor.pdf", PDF + b"0" * (10 * 1024 * 1024), "MB"),
    ],
)
def test_only_small_pdfs_are_accepted_and_nothing_is_saved(
    nat, settings, tmp_path, name, content, size_note
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(ValidationError) as exc:
        services.agreement_save(
            user=nat,
            agreement_id=None,
            expected_version=None,
            fields={"title": "Med vedlegg", "status": AgreementStatus.DRAFT},
            municipalities=munis("4601"),
            organisations=[],
            solutions=[],
            document=upload,
        )
    assert "document" in exc.value.message_dict
    assert size_note in " ".join(exc.value.message_dict["document"])
    assert not IntentAgreement.objects.exists() and not any(tmp_path.rglob("*"))


def test_pdf_is_stored(nat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agreement = services.agreement_save(
        user=nat,
        agreement_id=None,
        expected_version=None,
        fields={"title": "Med vedlegg", "status": AgreementStatus.DRAFT},
        municipalities=munis("4601"),
        organisations=[],
        solutions=[],
        document=SimpleUploadedFile("avtale.pdf", PDF),
    )
    assert agreement.current_document.file.read() == PDF


def test_pll_agreements_feed_the_area_verdict(nat, org_bergen):
    pll = Solution.objects.get(code="pll")
    trust = HealthTrust.objects.get(code="helse-bergen")
    before = rollout_selectors.area_readiness(pll, trust, nat)
    assert before.agreement_covered == 0
    sign(nat, "4601", solutions=[Solution.objects.get(code="kjernejournal")])  # other scope
    assert rollout_selectors.area_readiness(pll, trust, nat).agreement_covered == 0
    sign(nat, "4601", solutions=[pll])
    after = rollout_selectors.area_readiness(pll, trust, nat)
    assert after.agreement_covered == after.total == 1
    assert next(c for c in after.conditions if c.name == "agreements").passed


@pytest.fixture
def benefit():
    b = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"),
        name="Tid til legemiddelavstemming",
        indicator="Minutter per innleggelse",
        unit="min",
        direction="lower",
        owner="Kommunen",
        target_value=Decimal("10"),
    )
    b.solutions.set([Solution.objects.get(code="kjernejournal")])
    return b


def report(user, benefit, org, kind, end, value):
    r = services.benefit_report_save(
        user=user,
        report_id=None,
        expected_version=None,
        fields={
            "benefit": benefit,
            "municipality": org.municipality,
            "organisation": org,
            "kind": kind,
            "period_start": end - datetime.timedelta(days=30),
            "period_end": end,
            "value": Decimal(value),
            "method": "Tidsregistrering",
        },
    )
    return services.benefit_report_submit(user=user, report_id=r.pk, expected_version=r.version)


def test_late_baseline_warning(contact, benefit, org_bergen):
    rollout_services.status_change(
        user=contact,
        organisation=org_bergen,
        solution=Solution.objects.get(code="kjernejournal"),
        to_status=Status.IN_USE,
        effective_date=D(2022, 3, 1),
    )
    early = report(contact, benefit, org_bergen, "nullpunkt", D(2022, 2, 1), "30")
    late = report(contact, benefit, org_bergen, "nullpunkt", D(2022, 6, 1), "30")
    assert selectors.late_baseline_warning(early) == ""
    assert "01.03.2022" in selectors.late_baseline_warning(late)


def test_review_and_realisation_with_coverage(contact, directorate, benefit, org_bergen):
    other = OrganisationFactory(municipality__number="4601")
    kj = Solution.objects.get(code="kjernejournal")
    for org in (org_bergen, other):
        rollout_services.status_change(
            user=contact,
            organisation=org,
            solution=kj,
            to_status=Status.IN_USE,
            effective_date=D(2022, 3, 1),
        )
    base = report(contact, benefit, org_bergen, "nullpunkt", D(2022, 2, 1), "30")
    follow = report(contact, benefit, org_bergen, "oppfolging", D(2023, 2, 1), "18")
    with pytest.raises(ValidationError):
        services.benefit_report_review(
            user=directorate, report_id=base.pk, expected_version=base.version, approve=False
        )
    for r in (base, follow):
        services.benefit_report_review(
            user=directorate, report_id=r.pk, expected_version=r.version, approve=True
        )
    summary = selectors.benefit_summary(benefit, directorate)
    assert summary.total_improvement == Decimal("12")  # lower is better: 30 → 18
    assert (summary.reported, summary.expected) == (1, 2)
    assert summary.by_area == [{"area": "Helse Bergen HF", "expected": 2, "reported": 1}]
    assert summary.by_county == [{"county": "Vestland", "expected": 2, "reported": 1}]
    missing = selectors.missing_baselines(directorate)
    assert [row["organisation"] for row in missing] == [other]


def test_contact_cannot_report_for_another_municipality(contact, benefit, org_tromso):
    with pytest.raises(ValidationError) as exc:
        report(contact, benefit, org_tromso, "nullpunkt", D(2022, 2, 1), "30")
    assert "organisation" in exc.value.message_dict


def test_contacts_cannot_review(contact, benefit, org_bergen):
    r = report(contact, benefit, org_bergen, "nullpunkt", D(2022, 2, 1), "30")
    with pytest.raises(PermissionDenied):
        services.benefit_report_review(
            user=contact, report_id=r.pk, expected_version=r.version, approve=True
        )
    r.refresh_from_db()
    assert r.status == ReportStatus.SUBMITTED
