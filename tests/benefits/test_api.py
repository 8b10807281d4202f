import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from actors.models import Notification
from actors.scoping import SYSTEM_USER
from benefits import services
from benefits.choices import AgreementStatus, Direction, MeasurementKind, ReportStatus
from benefits.models import AgreementChange, Benefit, BenefitGoal, BenefitReport, IntentAgreement
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.conftest import api_client_for
from tests.factories import UserFactory
from tests.pdfs import clean_pdf

pytestmark = pytest.mark.django_db

PDF = clean_pdf()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_agreement(numbers=("4601",), *, status=AgreementStatus.SIGNED, signed="2026-05-04", **kw):
    """Setup through the service, as the system (no API, no scope limits)."""
    from actors.models import Municipality

    fields = {"title": kw.pop("title", "Avtale " + ", ".join(numbers)), "status": status}
    if status in (AgreementStatus.SIGNED, AgreementStatus.ENDED):
        fields["signed_date"] = datetime.date.fromisoformat(signed)
    if status == AgreementStatus.ENDED:
        fields["ended_date"] = datetime.date.fromisoformat(signed)
    fields.update(kw)
    return services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=None,
        expected_version=None,
        fields=fields,
        municipalities=Municipality.objects.filter(number__in=numbers),
        organisations=[],
        solutions=[],
    )


def make_benefit(codes=("kjernejournal",), **kw):
    """The register starts empty: test setup writes it with the ORM."""
    values = {
        "goal": BenefitGoal.objects.get(code="frigjort-tid"),
        "name": "Spart tid til innhenting av opplysninger",
        "indicator": "Minutter per konsultasjon",
        "unit": "minutter",
        "direction": Direction.LOWER,
        "owner": "Kommunen",
        "target_value": Decimal("5.50"),
        "target_date": datetime.date(2027, 12, 31),
        **kw,
    }
    benefit = Benefit.objects.create(**values)
    benefit.solutions.set(Solution.objects.filter(code__in=codes))
    return benefit


def agreement_url(agreement, name="detail"):
    return reverse(f"intentagreement-{name}", args=[agreement.pk])


def report_url(report_id, name="detail"):
    return reverse(f"benefitreport-{name}", args=[report_id])


# --- agreements: create and roles -----------------------------------------------------


def test_coordinator_creates_agreement_with_json(coordinator, org_bergen):
    client = api_client_for(coordinator)
    body = {
        "title": "Intensjonsavtale Bergen",
        "status": AgreementStatus.SIGNED,
        "signed_date": "2026-05-04",
        "municipalities": ["4601"],
        "organisations": [org_bergen.orgnr],
        "solutions": ["pll", "kjernejournal"],
        "clause_benefits": True,
        "contact_email": "avtale@bergen.kommune.no",
    }
    created = client.post(reverse("intentagreement-list"), body, format="json")
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"1"'
    data = created.json()
    assert data["municipalities"] == ["4601"] and data["organisations"] == [org_bergen.orgnr]
    assert sorted(data["solutions"]) == ["kjernejournal", "pll"]
    assert data["status"] == AgreementStatus.SIGNED and data["signed_date"] == "2026-05-04"
    assert data["clause_benefits"] and not data["clause_financing"]
    assert data["has_document"] is False and data["document_url"] is None
    assert {"kind": "municipality", "number": "4601", "name": "Bergen"} in data["parties"]
    agreement = IntentAgreement.objects.get(pk=data["id"])
    assert agreement.programme == "Helhetlig samhandling – steg 2"
    assert AgreementChange.objects.filter(agreement=agreement, changed_by=coordinator).exists()

    # The service's rules answer 400 keyed by the API's field names.
    no_party = client.post(reverse("intentagreement-list"), {"title": "Uten part"}, format="json")
    assert no_party.status_code == 400 and "municipalities" in no_party.json()
    no_date = client.post(
        reverse("intentagreement-list"),
        {"title": "Signert", "status": AgreementStatus.SIGNED, "municipalities": ["4601"]},
        format="json",
    )
    assert no_date.status_code == 400 and "signed_date" in no_date.json()
    # A party the coordinator cannot see is unknown to them.
    outside = client.post(
        reverse("intentagreement-list"),
        {"title": "Tromsø", "municipalities": ["5501"]},
        format="json",
    )
    assert outside.status_code == 400 and "municipalities" in outside.json()
    assert IntentAgreement.objects.count() == 1


def test_only_coordinators_and_admins_write_agreements(users):
    body = {"title": "Avtale", "municipalities": ["4601"]}
    url = reverse("intentagreement-list")
    assert api_client_for(None).post(url, body, format="json").status_code == 401
    for kind in ("norole", "contact", "directorate"):
        response = api_client_for(users[kind]).post(url, body, format="json")
        assert response.status_code == 403, kind
    for kind in ("coord_area", "coord_nat", "admin"):
        response = api_client_for(users[kind]).post(url, body, format="json")
        assert response.status_code == 201, (kind, response.content)

    agreement = make_agreement()
    for kind in ("contact", "directorate"):
        patch = api_client_for(users[kind]).patch(
            agreement_url(agreement), {"title": "Endret"}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert patch.status_code == 403, kind
    assert IntentAgreement.objects.get(pk=agreement.pk).title == agreement.title


# --- agreements: scope, filters, concurrency ------------------------------------------


def test_agreements_are_scoped(make_user, contact, coordinator):
    bergen = make_agreement(["4601", "5501"], title="Bergen og Tromsø")
    tromso = make_agreement(["5501"], title="Bare Tromsø")
    for user in (contact, coordinator):
        client = api_client_for(user)
        listed = client.get(reverse("intentagreement-list")).json()
        assert [a["id"] for a in listed["results"]] == [bergen.pk]
        assert client.get(agreement_url(bergen)).status_code == 200
        assert client.get(agreement_url(tromso)).status_code == 404

    patch = api_client_for(coordinator).patch(
        agreement_url(tromso), {"title": "Endret"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert patch.status_code == 404
    assert IntentAgreement.objects.get(pk=tromso.pk).title == "Bare Tromsø"

    assert (
        api_client_for(make_user("norole")).get(reverse("intentagreement-list")).json()["count"]
        == 0
    )
    everyone = api_client_for(make_user("directorate")).get(reverse("intentagreement-list"))
    assert everyone.json()["count"] == 2


def test_agreement_filters(make_user, org_tromso):
    make_agreement(["4601"], signed="2026-02-01", title="Bergen")
    make_agreement(["0301"], signed="2026-06-01", title="Oslo")
    make_agreement(["5501"], status=AgreementStatus.DRAFT, title="Tromsø")
    pll = services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=None,
        expected_version=None,
        fields={"title": "Legesenter i Tromsø", "status": AgreementStatus.SENT,
                "sent_date": datetime.date(2026, 3, 1)},
        municipalities=[],
        organisations=[org_tromso],
        solutions=[Solution.objects.get(code="pll")],
    )  # fmt: skip
    client = api_client_for(make_user("coord_nat"))
    url = reverse("intentagreement-list")

    def titles(**params):
        return sorted(a["title"] for a in client.get(url, params).json()["results"])

    assert titles(status=AgreementStatus.SIGNED) == ["Bergen", "Oslo"]
    assert titles(municipality="5501") == ["Legesenter i Tromsø", "Tromsø"]
    assert titles(county="46") == ["Bergen"]
    assert titles(health_trust="oslo-universitetssykehus") == ["Oslo"]
    assert titles(health_trust="akershus-universitetssykehus") == ["Oslo"]
    assert titles(health_trust="unn") == ["Legesenter i Tromsø", "Tromsø"]
    # Agreements naming no solution are for the whole programme.
    assert titles(solution="pll") == ["Bergen", "Legesenter i Tromsø", "Oslo", "Tromsø"]
    assert titles(solution="sfm") == ["Bergen", "Oslo", "Tromsø"]
    assert titles(signed_from="2026-03-01") == ["Oslo"]
    assert titles(signed_to="2026-03-01") == ["Bergen"]
    assert pll.version == 1


def test_agreement_etag_if_match_flow(coordinator):
    agreement = make_agreement(["4601"], title="Bergen")
    client = api_client_for(coordinator)
    url = agreement_url(agreement)
    assert client.get(url)["ETag"] == '"1"'

    missing = client.patch(url, {"title": "Uten If-Match"}, format="json")
    assert missing.status_code == 428
    garbage = client.patch(url, {"title": "Rot"}, format="json", HTTP_IF_MATCH="abc")
    assert garbage.status_code == 412

    ok = client.patch(
        url, {"title": "Bergen kommune", "clause_risk_sharing": True}, format="json",
        HTTP_IF_MATCH='"1"',
    )  # fmt: skip
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == '"2"' and ok.json()["version"] == 2
    # Fields and parties left out of a PATCH keep their values.
    assert ok.json()["municipalities"] == ["4601"]
    assert ok.json()["signed_date"] == "2026-05-04"

    stale = client.patch(url, {"title": "For sent"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert IntentAgreement.objects.get(pk=agreement.pk).title == "Bergen kommune"

    # PUT replaces: what is left out goes back to its default (and is checked again).
    put = client.put(url, {"title": "Ny"}, format="json", HTTP_IF_MATCH='"2"')
    assert put.status_code == 400 and "municipalities" in put.json()
    put = client.put(
        url, {"title": "Ny", "municipalities": ["4601"]}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert put.status_code == 200, put.content
    assert put.json()["status"] == AgreementStatus.DRAFT and put.json()["signed_date"] is None
    assert put["ETag"] == '"3"'


# --- agreements: the signed PDF -------------------------------------------------------


def test_multipart_create_with_pdf_and_scoped_download(coordinator, contact, _media_root):
    client = api_client_for(coordinator)
    created = client.post(
        reverse("intentagreement-list"),
        {
            "title": "Signert avtale",
            "status": AgreementStatus.SIGNED,
            "signed_date": "2026-05-04",
            "municipalities": ["4601", "4624"],
            "clause_financing": "true",
            "document": SimpleUploadedFile("avtale.pdf", PDF, content_type="application/pdf"),
        },
        format="multipart",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert sorted(data["municipalities"]) == ["4601", "4624"] and data["clause_financing"]
    assert data["has_document"] and data["document_url"].endswith(
        reverse("intentagreement-document", args=[data["id"]])
    )

    agreement = IntentAgreement.objects.get(pk=data["id"])
    download = api_client_for(contact).get(agreement_url(agreement, "document"))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF
    # An Accept header asking for the PDF is fine too.
    assert (
        api_client_for(contact)
        .get(agreement_url(agreement, "document"), HTTP_ACCEPT="application/pdf")
        .status_code
        == 200
    )

    tromso_contact = UserFactory(
        username="contact_tromso", role="municipality_contact", municipalities=["5501"]
    )
    assert (
        api_client_for(tromso_contact).get(agreement_url(agreement, "document")).status_code == 404
    )
    assert api_client_for(None).get(agreement_url(agreement, "document")).status_code == 401

    without = make_agreement(["4601"])
    missing = api_client_for(contact).get(agreement_url(without, "document"))
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


def test_pdf_upload_refused_for_wrong_type_or_size(coordinator, _media_root):
    client = api_client_for(coordinator)
    base = {"title": "Avtale", "municipalities": ["4601"]}
    uploads = [
        SimpleUploadedFile("avtale.pdf", b"Not a PDF at all", content_type="application/pdf"),
        SimpleUploadedFile("avtale.docx", PDF, content_type="application/pdf"),
        SimpleUploadedFile(
            "stor.pdf", PDF + b"0" * services.MAX_PDF_BYTES, content_type="application/pdf"
        ),
    ]
    for upload in uploads:
        response = client.post(
            reverse("intentagreement-list"), {**base, "document": upload}, format="multipart"
        )
        assert response.status_code == 400, upload.name
        assert "document" in response.json()
    assert IntentAgreement.objects.count() == 0
    assert not _media_root.exists() or not any(p.is_file() for p in _media_root.rglob("*"))

    agreement = make_agreement(["4601"])
    changed = client.patch(
        agreement_url(agreement),
        {"title": "Med feil fil", "document": SimpleUploadedFile("a.pdf", b"GIF89a")},
        format="multipart",
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 400 and "document" in changed.json()
    agreement.refresh_from_db()
    assert agreement.version == 1 and agreement.title != "Med feil fil"
    assert not agreement.documents.exists()


# --- coverage -------------------------------------------------------------------------


def row(rows, name):
    return next(r for r in rows if r["name"] == name)


def test_coverage_counts_signed_agreements_by_population(make_user):
    client = api_client_for(make_user("coord_nat"))
    created = client.post(
        reverse("intentagreement-list"),
        {"title": "Oslo", "status": AgreementStatus.SIGNED, "signed_date": "2026-05-04",
         "municipalities": ["0301"]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    make_agreement(["4601"], status=AgreementStatus.DRAFT)  # not signed: does not count
    make_agreement(["5001"])  # Trondheim lies in Helse Midt-Norge: left out

    response = client.get(reverse("intentagreement-coverage"))
    assert response.status_code == 200
    data = response.json()
    nation = data["nation"]
    assert nation["covered_population"] == 728_714
    assert nation["covered_municipalities"] == 1
    assert nation["share"] == pytest.approx(728_714 / nation["population"])
    assert nation["gap"] == max(0, -(-nation["population"] // 2) - 728_714)
    assert data["threshold"] == 0.5
    assert data["above_threshold"] is (nation["share"] >= 0.5)
    assert data["municipality_share"] == pytest.approx(1 / nation["municipalities"])

    ahus = row(data["by_area"], "Akershus universitetssykehus HF")
    ous = row(data["by_area"], "Oslo universitetssykehus HF")
    assert ahus["covered_population"] == 114_375 and ahus["key"] == "akershus-universitetssykehus"
    assert ous["covered_population"] == 614_339
    assert ahus["covered_municipalities"] == ous["covered_municipalities"] == 1
    assert ous["share"] == pytest.approx(614_339 / ous["population"])
    assert not any(a["key"] == "st-olavs-hospital" for a in data["by_area"])
    assert sum(a["covered_population"] for a in data["by_area"]) == 728_714
    oslo = next(c for c in data["by_county"] if c["key"] == "03")
    assert oslo["covered_population"] == oslo["population"] == 728_714 and oslo["gap"] == 0
    assert not any(c["key"] == "50" for c in data["by_county"])

    before = client.get(reverse("intentagreement-coverage"), {"on": "2026-05-03"}).json()
    assert before["nation"]["covered_population"] == 0
    bad = client.get(reverse("intentagreement-coverage"), {"on": "i går"})
    assert bad.status_code == 400 and "on" in bad.json()


def test_coverage_needs_a_role(make_user, contact):
    url = reverse("intentagreement-coverage")
    assert api_client_for(None).get(url).status_code == 401
    assert api_client_for(make_user("norole")).get(url).status_code == 403
    assert api_client_for(contact).get(url).status_code == 200


# --- benefit register -----------------------------------------------------------------


def test_goals_and_benefit_register(contact, make_user):
    benefit = make_benefit(["kjernejournal", "pll"])
    client = api_client_for(contact)
    goals = client.get(reverse("benefitgoal-list")).json()
    assert goals["count"] == 5 and goals["results"][0]["code"] == "frigjort-tid"

    listed = client.get(reverse("benefit-list")).json()
    assert listed["count"] == 1
    item = listed["results"][0]
    assert item["goal"] == "frigjort-tid" and item["indicator"] == "Minutter per konsultasjon"
    assert item["unit"] == "minutter" and item["direction"] == Direction.LOWER
    assert sorted(item["solutions"]) == ["kjernejournal", "pll"]
    assert item["owner"] == "Kommunen" and item["baseline_required"] is True
    assert item["target"] == {"value": "5.50", "date": "2027-12-31"}
    assert client.get(reverse("benefit-list"), {"solution": "sfm"}).json()["count"] == 0
    assert client.get(reverse("benefit-list"), {"goal": "frigjort-tid"}).json()["count"] == 1

    norole = api_client_for(make_user("norole"))
    assert norole.get(reverse("benefit-list")).json()["count"] == 0
    assert norole.get(reverse("benefit-detail", args=[benefit.pk])).status_code == 404
    assert api_client_for(None).get(reverse("benefit-list")).status_code == 401
    # The register is read-only in the API.
    post = client.post(reverse("benefit-list"), {"name": "Ny"}, format="json")
    assert post.status_code == 405


def approved_report(benefit, organisation, kind, value, period_end):
    report = services.benefit_report_save(
        user=SYSTEM_USER,
        report_id=None,
        expected_version=None,
        fields={
            "benefit": benefit,
            "organisation": organisation,
            "municipality": organisation.municipality,
            "kind": kind,
            "period_start": period_end - datetime.timedelta(days=30),
            "period_end": period_end,
            "value": Decimal(value),
            "method": "Tidsstudie",
        },
    )
    report = services.benefit_report_submit(
        user=SYSTEM_USER, report_id=report.pk, expected_version=1
    )
    # A person reviews (the service records who: SYSTEM_USER has no user row).
    reviewer = UserFactory(username="reviewer", role="admin")
    return services.benefit_report_review(
        user=reviewer, report_id=report.pk, expected_version=2, approve=True
    )


def test_benefit_summary(contact, org_bergen, org_tromso):
    benefit = make_benefit()
    for organisation in (org_bergen, org_tromso):
        rollout_services.status_change(
            user=SYSTEM_USER,
            organisation=organisation,
            solution=Solution.objects.get(code="kjernejournal"),
            to_status=Status.IN_USE,
            effective_date=datetime.date(2026, 3, 1),
        )
        approved_report(
            benefit, organisation, MeasurementKind.BASELINE, "12", datetime.date(2026, 2, 1)
        )
        approved_report(
            benefit, organisation, MeasurementKind.FOLLOW_UP, "9.5", datetime.date(2026, 9, 1)
        )

    summary = api_client_for(contact).get(reverse("benefit-summary", args=[benefit.pk]))
    assert summary.status_code == 200
    data = summary.json()
    # Lower is better: 12 → 9.5 is an improvement of 2.5, only Bergen's counts for a contact.
    assert Decimal(data["total_improvement"]) == Decimal("2.5")
    assert data["expected"] == 1 and data["reported"] == 1 and data["coverage"] == 1.0
    assert data["by_area"] == [{"area": "Helse Bergen HF", "expected": 1, "reported": 1}]
    (realisation,) = data["realisations"]
    assert realisation["organisation"] == org_bergen.orgnr
    assert realisation["municipality"] == "4601"
    assert Decimal(realisation["baseline"]) == 12 and Decimal(realisation["improvement"]) == 2.5

    national = api_client_for(UserFactory(username="dir", role="directorate")).get(
        reverse("benefit-summary", args=[benefit.pk])
    )
    assert national.json()["expected"] == 2 and Decimal(national.json()["total_improvement"]) == 5


# --- benefit reports ------------------------------------------------------------------


def test_benefit_report_flow(contact, directorate, org_bergen):
    benefit = make_benefit()
    client = api_client_for(contact)
    body = {
        "benefit": benefit.pk,
        "organisation": org_bergen.orgnr,
        "kind": MeasurementKind.BASELINE,
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "value": "12.00",
        "method": "Tidsstudie",
    }
    created = client.post(reverse("benefitreport-list"), body, format="json")
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"1"'
    report = created.json()
    assert report["municipality"] == "4601" and report["organisation"] == org_bergen.orgnr
    assert report["status"] == ReportStatus.DRAFT and report["created_by"] == "contact"
    assert report["late_baseline_warning"] == ""
    url = report_url(report["id"])

    assert client.patch(url, {"value": "11"}, format="json").status_code == 428
    saved = client.patch(url, {"value": "11.25"}, format="json", HTTP_IF_MATCH='"1"')
    assert saved.status_code == 200, saved.content
    assert saved["ETag"] == '"2"' and saved.json()["value"] == "11.25"
    assert saved.json()["method"] == "Tidsstudie"  # left out: kept
    stale = client.patch(url, {"value": "10"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    backwards = client.patch(url, {"period_end": "2025-12-01"}, format="json", HTTP_IF_MATCH='"2"')
    assert backwards.status_code == 400 and "period_end" in backwards.json()

    assert client.post(report_url(report["id"], "submit")).status_code == 428
    submitted = client.post(report_url(report["id"], "submit"), HTTP_IF_MATCH='"2"')
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == ReportStatus.SUBMITTED and submitted["ETag"] == '"3"'
    assert submitted.json()["submitted_at"]

    by_contact = client.post(
        report_url(report["id"], "review"), {"approve": True}, format="json", HTTP_IF_MATCH='"3"'
    )
    assert by_contact.status_code == 403
    reviewer = api_client_for(directorate)
    no_comment = reviewer.post(
        report_url(report["id"], "review"), {"approve": False}, format="json", HTTP_IF_MATCH='"3"'
    )
    assert no_comment.status_code == 400 and "comment" in no_comment.json()
    approved = reviewer.post(
        report_url(report["id"], "review"),
        {"approve": True, "comment": "Godt dokumentert"},
        format="json",
        HTTP_IF_MATCH='"3"',
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == ReportStatus.APPROVED
    assert approved.json()["reviewed_by"] == "directorate"
    assert approved.json()["review_comment"] == "Godt dokumentert"
    link = reverse("benefits:report_detail", args=[report["id"]])
    assert Notification.objects.filter(
        user=contact, text__contains=benefit.name, link=link
    ).exists()

    closed = client.patch(url, {"value": "1"}, format="json", HTTP_IF_MATCH='"4"')
    assert closed.status_code == 400
    assert BenefitReport.objects.get(pk=report["id"]).value == Decimal("11.25")


def test_benefit_report_roles(users, org_bergen):
    benefit = make_benefit()
    body = {
        "benefit": benefit.pk,
        "municipality": "4601",
        "kind": MeasurementKind.FOLLOW_UP,
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "value": "3",
        "method": "Telling",
    }
    url = reverse("benefitreport-list")
    assert api_client_for(None).post(url, body, format="json").status_code == 401
    for kind in ("norole", "directorate"):
        assert api_client_for(users[kind]).post(url, body, format="json").status_code == 403
    for kind in ("contact", "coord_area", "coord_nat", "admin"):
        response = api_client_for(users[kind]).post(url, body, format="json")
        assert response.status_code == 201, (kind, response.content)
        assert response.json()["organisation"] is None
    missing = api_client_for(users["contact"]).post(
        url, {**body, "municipality": None}, format="json"
    )
    assert missing.status_code == 400
    attachment = api_client_for(users["contact"]).post(
        url,
        {**body, "attachment": SimpleUploadedFile("notat.txt", b"hello")},
        format="multipart",
    )
    assert attachment.status_code == 400 and "attachment" in attachment.json()
    assert BenefitReport.objects.count() == 4


def test_benefit_reports_are_scoped(contact, coordinator, make_user):
    benefit = make_benefit()
    national = api_client_for(make_user("coord_nat"))
    created = national.post(
        reverse("benefitreport-list"),
        {"benefit": benefit.pk, "municipality": "5501", "kind": MeasurementKind.BASELINE,
         "period_start": "2026-01-01", "period_end": "2026-01-31", "value": "1",
         "method": "Telling"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    assert national.post(report_url(report_id, "submit"), HTTP_IF_MATCH='"1"').status_code == 200

    client = api_client_for(contact)
    assert client.get(reverse("benefitreport-list")).json()["count"] == 0
    assert client.get(report_url(report_id)).status_code == 404
    assert client.post(report_url(report_id, "submit"), HTTP_IF_MATCH='"2"').status_code == 404
    outside = client.post(
        reverse("benefitreport-list"),
        {"benefit": benefit.pk, "municipality": "5501", "kind": MeasurementKind.BASELINE,
         "period_start": "2026-01-01", "period_end": "2026-01-31", "value": "1",
         "method": "Telling"},
        format="json",
    )  # fmt: skip
    assert outside.status_code == 400 and "municipality" in outside.json()

    review = api_client_for(coordinator).post(
        report_url(report_id, "review"), {"approve": True}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert review.status_code == 404  # Helse Bergen's coordinator does not see Tromsø
    listed = national.get(reverse("benefitreport-list"), {"health_trust": "unn"}).json()
    assert [r["id"] for r in listed["results"]] == [report_id]
    assert national.get(reverse("benefitreport-list"), {"status": "utkast"}).json()["count"] == 0


def test_late_baseline_warning(contact, org_bergen):
    benefit = make_benefit()
    rollout_services.status_change(
        user=SYSTEM_USER,
        organisation=org_bergen,
        solution=Solution.objects.get(code="kjernejournal"),
        to_status=Status.TRIAL,
        effective_date=datetime.date(2026, 3, 1),
    )
    client = api_client_for(contact)

    def create(kind, period_end):
        body = {
            "benefit": benefit.pk,
            "organisation": org_bergen.orgnr,
            "kind": kind,
            "period_start": "2026-01-01",
            "period_end": period_end,
            "value": "10",
            "method": "Tidsstudie",
        }
        response = client.post(reverse("benefitreport-list"), body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    late = create(MeasurementKind.BASELINE, "2026-04-30")
    assert "01.03.2026" in late["late_baseline_warning"]
    assert org_bergen.name in late["late_baseline_warning"]
    detail = client.get(report_url(late["id"])).json()
    assert detail["late_baseline_warning"] == late["late_baseline_warning"]

    assert create(MeasurementKind.BASELINE, "2026-02-28")["late_baseline_warning"] == ""
    assert create(MeasurementKind.FOLLOW_UP, "2026-04-30")["late_baseline_warning"] == ""
    listed = client.get(reverse("benefitreport-list"), {"kind": MeasurementKind.BASELINE}).json()
    assert [bool(r["late_baseline_warning"]) for r in listed["results"]] == [True, False]


# --- schema ---------------------------------------------------------------------------


def test_openapi_schema_is_valid_without_warnings(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = path.read_text()
    for route in [
        "agreements/{id}/document/",
        "agreements/coverage/",
        "agreements/export/",
        "benefit-goals/",
        "benefits/{id}/summary/",
        "benefits/export/",
        "benefit-reports/{id}/submit/",
        "benefit-reports/{id}/review/",
    ]:
        assert f"/api/v1/{route}" in schema
    # Readiness and benefit reports share one review workflow, so one status enum.
    assert "ReportStatusChoice:" in schema and "BenefitReportStatusChoice" not in schema
