"""The benefits HTML pages: agreements (with their PDF), coverage, the benefit register and
benefit reports. Assertions use context data and status codes, not wording (the UI is
translated afterwards)."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actors.choices import Role
from actors.models import Municipality
from actors.scoping import SYSTEM_USER
from benefits import selectors, services
from benefits.choices import AgreementStatus, Direction, MeasurementKind, ReportStatus
from benefits.models import AgreementChange, Benefit, BenefitGoal, BenefitReport, IntentAgreement
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.pdfs import clean_pdf

pytestmark = pytest.mark.django_db

PDF = clean_pdf()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def municipality(number):
    return Municipality.objects.get(number=number)


def pdf(name="avtale.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def make_agreement(numbers=("4601",), *, organisations=(), document=None, **fields):
    values = {
        "title": "Intensjonsavtale " + ", ".join(numbers),
        "status": AgreementStatus.SIGNED,
        "signed_date": datetime.date(2020, 6, 1),
        **fields,
    }
    return services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=None,
        expected_version=None,
        fields=values,
        municipalities=Municipality.objects.filter(number__in=numbers),
        organisations=list(organisations),
        solutions=[],
        document=document,
    )


@pytest.fixture
def benefit():
    b = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"),
        name="Mindre tid til legemiddelavstemming",
        indicator="Minutter per innleggelse",
        unit="minutter",
        direction=Direction.LOWER,
        owner="Kommunen",
        target_value=Decimal("5"),  # a level of the indicator
    )
    b.solutions.set([Solution.objects.get(code="kjernejournal")])
    return b


def contact_tromso():
    return UserFactory(
        username="contact_tromso", role=Role.MUNICIPALITY_CONTACT, municipalities=["5501"]
    )


def agreement_form(**overrides):
    data = {
        "title": "Intensjonsavtale Bergen kommune",
        "programme": "Helhetlig samhandling – steg 2",
        "status": AgreementStatus.SIGNED,
        "signed_date": "2020-06-15",
        "clause_benefits": "on",
        "clause_financing": "on",
        "municipalities": [municipality("4601").pk],
        "organisations": "",
        "solutions": [Solution.objects.get(code="pll").pk],
        "contact_person": "Kari Nordmann",
    }
    data.update(overrides)
    return data


# --- agreements -----------------------------------------------------------------------


def test_coordinator_creates_an_agreement_with_its_signed_pdf(coordinator, media_root):
    response = client_for(coordinator).post(
        reverse("benefits:agreement_create"), {**agreement_form(), "document": pdf()}
    )
    assert response.status_code == 302
    agreement = IntentAgreement.objects.get()
    assert response.url == agreement.get_absolute_url()
    assert list(agreement.municipalities.values_list("number", flat=True)) == ["4601"]
    assert list(agreement.solutions.values_list("code", flat=True)) == ["pll"]
    assert agreement.clause_benefits and agreement.clause_financing
    assert not agreement.clause_risk_sharing
    assert agreement.signed_date == datetime.date(2020, 6, 15)
    assert [p.read_bytes() for p in stored_files(media_root)] == [PDF]
    change = AgreementChange.objects.get(agreement=agreement)
    assert change.changed_by == coordinator

    page = client_for(coordinator).get(agreement.get_absolute_url())
    assert page.status_code == 200
    assert page.context["can_edit"] is True
    assert [m.number for m in page.context["municipalities"]] == ["4601"]
    assert list(page.context["changes"]) == [(change, [])]


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(
            lambda: pdf(
                "avtale.docx",
                b"PK\x03\x04word/document.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            id="docx",
        ),
        pytest.param(lambda: pdf("avtale.pdf", b"PK\x03\x04not a pdf at all"), id="fake-pdf"),
        pytest.param(
            lambda: pdf("stor.pdf", PDF + b"0" * (11 * 1024 * 1024)), id="eleven-megabytes"
        ),
    ],
)
def test_a_file_that_is_not_a_small_pdf_is_refused_and_nothing_is_saved(
    coordinator, media_root, upload
):
    response = client_for(coordinator).post(
        reverse("benefits:agreement_create"), {**agreement_form(), "document": upload()}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["document"]
    assert form.errors["document"][0]
    assert response.context["file_lost"] is True
    # What was typed is still in the form.
    assert form["title"].value() == "Intensjonsavtale Bergen kommune"
    assert form["contact_person"].value() == "Kari Nordmann"
    assert [str(v) for v in form["municipalities"].value()] == [str(municipality("4601").pk)]
    assert not IntentAgreement.objects.exists()
    assert not AgreementChange.objects.exists()
    assert stored_files(media_root) == []


def test_agreement_form_keeps_typed_values_and_names_unknown_organisations(
    coordinator, org_bergen, org_tromso
):
    typed = agreement_form(
        organisations=f"{org_bergen.orgnr}, {org_tromso.orgnr}; 123",
        status=AgreementStatus.SIGNED,
        signed_date="",
    )
    response = client_for(coordinator).post(reverse("benefits:agreement_create"), typed)
    assert response.status_code == 200
    form = response.context["form"]
    assert "organisations" in form.errors
    assert form["organisations"].value() == typed["organisations"]
    assert form["title"].value() == typed["title"]
    assert not IntentAgreement.objects.exists()

    # Only Tromsø's organisation is out of the Helse Bergen coordinator's reach.
    typed["organisations"] = f"{org_bergen.orgnr},{org_tromso.orgnr}"
    response = client_for(coordinator).post(reverse("benefits:agreement_create"), typed)
    assert org_tromso.orgnr in " ".join(response.context["form"].errors["organisations"])
    assert org_bergen.orgnr not in " ".join(response.context["form"].errors["organisations"])

    # The service's rule (signed needs a date) lands on its field, the input stays.
    typed["organisations"] = org_bergen.orgnr
    response = client_for(coordinator).post(reverse("benefits:agreement_create"), typed)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["signed_date"]
    assert response.context["form"]["organisations"].value() == org_bergen.orgnr
    assert not IntentAgreement.objects.exists()

    typed["signed_date"] = "2020-06-15"
    assert client_for(coordinator).post(reverse("benefits:agreement_create"), typed).status_code
    assert list(IntentAgreement.objects.get().organisations.all()) == [org_bergen]


def test_document_download_is_scoped(contact, media_root):
    agreement = make_agreement(("4601",), document=pdf())
    url = reverse("benefits:agreement_document", args=[agreement.pk])
    response = client_for(contact).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF
    assert client_for(contact_tromso()).get(url).status_code == 404
    assert client_for(contact_tromso()).get(agreement.get_absolute_url()).status_code == 404
    without = make_agreement(("4601",), title="Uten dokument")
    no_document = reverse("benefits:agreement_document", args=[without.pk])
    assert client_for(contact).get(no_document).status_code == 404


def test_agreement_list_filters_and_scope(contact, directorate):
    bergen = make_agreement(("4601",))
    tromso = make_agreement(("5501",), status=AgreementStatus.SENT, signed_date=None,
                            sent_date=datetime.date(2020, 5, 1))  # fmt: skip
    url = reverse("benefits:agreement_list")
    assert [a.pk for a in client_for(contact).get(url).context["page"]] == [bergen.pk]
    everyone = client_for(directorate)
    assert {a.pk for a in everyone.get(url).context["page"]} == {bergen.pk, tromso.pk}
    assert [a.pk for a in everyone.get(url, {"county": "55"}).context["page"]] == [tromso.pk]
    assert [a.pk for a in everyone.get(url, {"health_trust": "helse-bergen"}).context["page"]] == [
        bergen.pk
    ]
    assert [a.pk for a in everyone.get(url, {"status": "sendt"}).context["page"]] == [tromso.pk]
    page = everyone.get(url, {"solution": "pll"}).context["page"]
    assert {a.pk for a in page} == {bergen.pk, tromso.pk}  # whole-programme agreements count
    assert everyone.get(url).context["can_create"] is False


def test_agreement_list_query_count_does_not_grow_with_rows(
    directorate, django_assert_max_num_queries
):
    for number in ("4601", "5501", "0301", "1103", "4621", "4624", "4626"):
        make_agreement((number, "4601"))
    client = client_for(directorate)
    # 14: with the current documents' prefetch and the session saved on every request.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("benefits:agreement_list"))
    assert len(response.context["page"]) == 7


def test_agreement_edit_conflict_keeps_input(coordinator):
    agreement = make_agreement(("4601",))
    url = reverse("benefits:agreement_edit", args=[agreement.pk])
    first = agreement_form(title="Min tittel", version=agreement.version)
    services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=agreement.pk,
        expected_version=agreement.version,
        fields={"contact_person": "Noen andre"},
        municipalities=agreement.municipalities.all(),
        organisations=[],
        solutions=[],
    )
    response = client_for(coordinator).post(url, first)
    assert response.status_code == 200
    assert response.context["form"]["title"].value() == "Min tittel"
    labels = [row["label"] for row in response.context["conflict"]]
    assert response.context["form"].fields["contact_person"].label in labels
    assert IntentAgreement.objects.get().title != "Min tittel"
    second = {**first, "version": response.context["form"].data["version"]}
    assert client_for(coordinator).post(url, second).status_code == 302
    assert IntentAgreement.objects.get().title == "Min tittel"


@pytest.mark.parametrize(
    ("kind", "status"),
    # Without a role every page sends one to /ingen-tilgang/ (302).
    [("norole", 302), ("contact", 403), ("directorate", 403), ("coord_area", 200)],
)
def test_who_may_open_the_agreement_form(make_user, kind, status):
    response = client_for(make_user(kind)).get(reverse("benefits:agreement_create"))
    assert response.status_code == status


def test_agreement_edit_statuses(make_user):
    inside, outside = make_agreement(("4601",)), make_agreement(("5501",))
    expected = {
        "norole": (302, 302),  # to /ingen-tilgang/
        "contact": (403, 404),
        "coord_area": (200, 404),
        "coord_nat": (200, 200),
        "directorate": (404, 404),
        "admin": (200, 200),
    }
    for kind, (in_status, out_status) in expected.items():
        client = client_for(make_user(kind))
        assert client.get(reverse("benefits:agreement_edit", args=[inside.pk])).status_code == (
            in_status
        ), kind
        assert client.get(reverse("benefits:agreement_edit", args=[outside.pk])).status_code == (
            out_status
        ), kind


# --- coverage -------------------------------------------------------------------------


def test_coverage_page_shows_the_selectors_figures(directorate, contact, make_user):
    make_agreement(("4601", "0301"))
    make_agreement(("5501",), status=AgreementStatus.DRAFT, signed_date=None)
    expected = selectors.agreement_coverage()
    response = client_for(directorate).get(reverse("benefits:agreement_coverage"))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["nation"] == expected.nation
    assert ctx["nation"].covered_population == sum(
        m.population for m in Municipality.objects.filter(number__in=["4601", "0301"])
    )
    assert {r.key: r for r in ctx["counties"]} == {r.key: r for r in expected.by_county}
    assert {r.key: r for r in ctx["areas"]} == {r.key: r for r in expected.by_area}
    gaps = [r.gap for r in ctx["counties"]]
    assert gaps == sorted(gaps, reverse=True)
    assert ctx["coverage"].above_threshold is expected.above_threshold
    chart = ctx["county_chart"]
    assert len(chart["labels"]) == len(expected.by_county)
    covered, missing, beyond, rest = (d["data"] for d in chart["datasets"])
    for c, m, b, r in zip(covered, missing, beyond, rest, strict=True):
        assert round(c + m, 1) == 50  # the threshold is where blue and orange end
        assert round(c + m + b + r, 1) == 100
    assert "0301" not in {m.key for m in ctx["gaps"]}

    before = client_for(directorate).get(
        reverse("benefits:agreement_coverage"), {"on": "2019-12-31"}
    )
    assert before.context["nation"].covered_population == 0

    # National figures for every role, as in the API; the contact's own rows are marked.
    limited = client_for(contact).get(reverse("benefits:agreement_coverage")).context
    assert limited["nation"] == expected.nation
    assert len(limited["counties"]) == len(expected.by_county)
    assert limited["mine"] == {"46", "helse-bergen"}
    assert limited["linkable"] == {"helse-bergen"}
    assert {m.key for m in limited["gaps"]} <= {"4601"}
    no_role = client_for(make_user("norole"))
    assert no_role.get(reverse("benefits:agreement_coverage"))["Location"] == "/ingen-tilgang/"


# --- benefit reports ------------------------------------------------------------------


def report_form(benefit, org, **overrides):
    data = {
        "benefit": benefit.pk,
        "kind": MeasurementKind.BASELINE,
        "municipality": org.municipality_id,
        "organisation": org.pk,
        "period_start": "2021-01-04",
        "period_end": "2021-01-29",
        "value": "12,5",
        "method": "Tidsregistrering i fire uker",
        "evidence": "",
    }
    data.update(overrides)
    return data


def submit(client, report):
    report.refresh_from_db()
    response = client.post(
        reverse("benefits:report_submit", args=[report.pk]), {"version": report.version}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_contact_reports_baseline_and_follow_up_and_the_directorate_approves(
    contact, directorate, org_bergen, benefit, media_root
):
    client = client_for(contact)
    url = reverse("benefits:report_create")
    form = client.get(url, {"benefit": benefit.pk}).context["form"]
    assert form["benefit"].value() == benefit.pk
    assert form["municipality"].value() == org_bergen.municipality_id  # the only one

    response = client.post(url, {**report_form(benefit, org_bergen), "attachment": pdf()})
    assert response.status_code == 302
    baseline = BenefitReport.objects.get()
    assert response.url == baseline.get_absolute_url()
    assert baseline.status == ReportStatus.DRAFT
    assert baseline.value == Decimal("12.5")
    assert baseline.created_by == contact
    assert client.get(response.url).context["editable"] is True
    attachment = client.get(reverse("benefits:report_attachment", args=[baseline.pk]))
    assert b"".join(attachment.streaming_content) == PDF
    submit(client, baseline)

    response = client.post(
        url,
        report_form(
            benefit,
            org_bergen,
            kind=MeasurementKind.FOLLOW_UP,
            period_start="2022-03-01",
            period_end="2022-03-31",
            value="8",
        ),
    )
    follow_up = BenefitReport.objects.get(kind=MeasurementKind.FOLLOW_UP)
    page = client.get(response.url).context
    assert page["baseline"] == baseline
    assert page["change"] == Decimal("-4.5")
    assert page["improved"] is True
    submit(client, follow_up)
    assert client.get(response.url).context["editable"] is False

    reviewer = client_for(directorate)
    overview = reviewer.get(reverse("benefits:overview")).context
    assert {r.pk for r in overview["waiting"]} == {baseline.pk, follow_up.pk}
    for report in (baseline, follow_up):
        assert reviewer.get(report.get_absolute_url()).context["can_review"] is True
        response = reviewer.post(
            reverse("benefits:report_review", args=[report.pk]),
            {"decision": "approve", "version": report.version},
        )
        assert response.status_code == 302
        report.refresh_from_db()
        assert report.status == ReportStatus.APPROVED
        assert report.reviewed_by == directorate

    register = reviewer.get(reverse("benefits:benefit_register")).context
    shown = [b for goal in register["goals"] for b in goal.benefits.all() if b.pk == benefit.pk]
    assert shown[0].summary.total_improvement == Decimal("4.5")
    detail = reviewer.get(benefit.get_absolute_url()).context
    assert [row["improvement"] for row in detail["realisations"]] == [Decimal("4.5")]
    assert detail["chart"]["values"] == [4.5]
    levels = detail["levels"]
    assert (levels["baseline"], levels["latest"]) == (Decimal("12.5"), Decimal("8"))
    assert levels["progress"] == pytest.approx(0.6)  # 4.5 of the 7.5 minutes to the target
    assert client.get(reverse("benefits:overview")).context["cards"][0][
        "summary"
    ].total_improvement == Decimal("4.5")


def test_report_form_keeps_what_was_typed_on_errors(contact, org_bergen, benefit):
    client = client_for(contact)
    url = reverse("benefits:report_create")
    typed = report_form(benefit, org_bergen, period_end="2020-12-01", value="12,5")
    response = client.post(url, typed)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["period_end"]  # the service's rule, on its field
    assert form["method"].value() == typed["method"]
    assert form["value"].value() == "12,5"
    assert not BenefitReport.objects.exists()

    response = client.post(url, {**typed, "period_end": "2021-01-29", "value": "mye"})
    assert list(response.context["form"].errors) == ["value"]
    assert response.context["form"]["method"].value() == typed["method"]

    response = client.post(url, {**typed, "period_end": "2021-01-29", "attachment": pdf("a.docx")})
    assert list(response.context["form"].errors) == ["attachment"]
    assert not BenefitReport.objects.exists()


def test_report_for_an_organisation_outside_the_municipality_is_refused(
    contact, org_bergen, org_tromso, benefit
):
    client = client_for(contact)
    response = client.post(
        reverse("benefits:report_create"),
        report_form(benefit, org_bergen, organisation=org_tromso.pk),
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    options = client.get(
        reverse("benefits:report_organisation_options"),
        {"municipality": org_bergen.municipality_id},
    )
    assert options.status_code == 200
    assert org_bergen.name in options.content.decode()
    assert org_tromso.name not in options.content.decode()


def test_late_baseline_is_accepted_with_a_warning(contact, coordinator, org_bergen, benefit):
    rollout_services.status_change(
        user=coordinator,
        organisation=org_bergen,
        solution=Solution.objects.get(code="kjernejournal"),
        to_status=Status.IN_USE,
        effective_date=datetime.date(2021, 1, 15),
    )
    client = client_for(contact)
    response = client.post(reverse("benefits:report_create"), report_form(benefit, org_bergen))
    assert response.status_code == 302
    page = client.get(response.url).context
    assert page["warning"]
    assert page["report"].status == ReportStatus.DRAFT
    overview = client_for(coordinator).get(reverse("benefits:overview")).context
    (group,) = overview["missing_groups"]
    assert (group["benefit"], group["count"]) == (benefit, 1)
    assert [row["organisation"] for row in group["rows"]] == [org_bergen]


def test_returning_needs_a_comment_and_keeps_the_form(contact, directorate, org_bergen, benefit):
    client_for(contact).post(reverse("benefits:report_create"), report_form(benefit, org_bergen))
    report = BenefitReport.objects.get()
    submit(client_for(contact), report)
    url = reverse("benefits:report_review", args=[report.pk])
    response = client_for(directorate).post(url, {"decision": "return", "version": report.version})
    assert response.status_code == 200
    assert list(response.context["review_form"].errors) == ["comment"]
    assert response.context["review_form"]["decision"].value() == "return"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    response = client_for(directorate).post(
        url, {"decision": "return", "comment": "Oppgi utvalg", "version": report.version}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    # The reporter corrects the returned report through the same form and submits again.
    edit = reverse("benefits:report_edit", args=[report.pk])
    form = client_for(contact).get(edit).context["form"]
    assert form["method"].value() == report.method
    response = client_for(contact).post(
        edit, report_form(benefit, org_bergen, evidence="Utvalg: 12", version=report.version)
    )
    assert response.status_code == 302
    submit(client_for(contact), report)
    assert client_for(contact).get(edit).status_code == 302  # submitted: no longer editable


@pytest.mark.parametrize(
    ("kind", "create", "review", "submit_status"),
    [
        ("norole", 302, 302, 302),  # every page: to /ingen-tilgang/
        ("contact", 200, 403, 302),
        ("coord_area", 200, 302, 302),
        ("directorate", 403, 302, 404),
    ],
)
def test_report_permissions(
    make_user, contact, org_bergen, benefit, kind, create, review, submit_status
):
    client_for(contact).post(reverse("benefits:report_create"), report_form(benefit, org_bergen))
    report = BenefitReport.objects.get()
    user = make_user(kind)
    client = client_for(user)
    assert client.get(reverse("benefits:report_create")).status_code == create
    assert (
        client.post(
            reverse("benefits:report_submit", args=[report.pk]), {"version": report.version}
        ).status_code
        == submit_status
    )
    report.refresh_from_db()
    if report.status == ReportStatus.DRAFT:
        submit(client_for(contact), report)
    assert (
        client.post(
            reverse("benefits:report_review", args=[report.pk]),
            {"decision": "approve", "version": report.version},
        ).status_code
        == review
    )
    assert client_for(contact_tromso()).get(report.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "route", ["benefit_register", "overview", "agreement_list", "agreement_coverage"]
)
def test_pages_render_for_every_role_with_a_scope(users, benefit, route):
    make_agreement(("4601",))
    for kind in ("contact", "coord_area", "coord_nat", "directorate", "admin"):
        assert client_for(users[kind]).get(reverse(f"benefits:{route}")).status_code == 200
    assert client_for(users["contact"]).get(benefit.get_absolute_url()).status_code == 200
