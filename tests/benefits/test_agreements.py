"""Intention agreements: who may change one (only someone with every party in reach, or a
national coordinator or administrator), the uploaded PDFs that are refused, and the
versions of the signed document."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from actors.choices import Role
from actors.models import HealthTrust, Municipality
from actors.scoping import SYSTEM_USER
from benefits import services
from benefits.choices import AgreementStatus, Direction, MeasurementKind
from benefits.models import AgreementDocument, Benefit, BenefitGoal, IntentAgreement
from tests import pdfs
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date
HELSE_VEST = ["helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def vest(db):
    """The coordinator for the Helse Vest areas of the issue."""
    return UserFactory(username="koordinator-vest", role=Role.COORDINATOR, health_trusts=HELSE_VEST)


@pytest.fixture
def national(make_user):
    return make_user("coord_nat")


def agreement(*numbers, user=SYSTEM_USER, organisations=(), document=None, **fields):
    return services.agreement_save(
        user=user,
        agreement_id=None,
        expected_version=None,
        fields={
            "title": "Intensjonsavtale " + ", ".join(numbers),
            "status": AgreementStatus.SIGNED,
            "signed_date": D(2025, 3, 1),
            **fields,
        },
        municipalities=Municipality.objects.filter(number__in=numbers),
        organisations=list(organisations),
        solutions=[],
        document=document,
    )


def api_url(agreement, name="detail"):
    return reverse(f"intentagreement-{name}", args=[agreement.pk])


def page_url(agreement, name="agreement_detail"):
    return reverse(f"benefits:{name}", args=[agreement.pk])


def state(agreement) -> tuple:
    """Everything a refused change must leave as it was."""
    a = IntentAgreement.objects.get(pk=agreement.pk)
    return (
        a.version,
        a.title,
        a.status,
        a.ended_date,
        sorted(a.municipalities.values_list("number", flat=True)),
        a.changes.count(),
        a.documents.count(),
    )


def pdf(name="avtale.pdf", content=None):
    return SimpleUploadedFile(name, pdfs.clean_pdf() if content is None else content)


# --- who may change an agreement ------------------------------------------------------


def test_the_helse_vest_coordinator_cannot_drop_oslo_or_close_the_agreement(vest, national):
    """The exploit of the issue: a coordinator for Helse Vest PATCHes an agreement between
    Bergen and Oslo, removing Oslo or closing it (which changes Oslo's coverage)."""
    bergen_oslo = agreement("4601", "0301")
    before = state(bergen_oslo)
    client = api_client_for(vest)
    assert client.get(api_url(bergen_oslo)).status_code == 200  # Bergen is theirs: they see it
    attempts = [
        ("patch", {"municipalities": ["4601"]}, "json"),
        ("patch", {"status": AgreementStatus.ENDED, "ended_date": "2026-01-01"}, "json"),
        ("put", {"title": "Bare Bergen", "municipalities": ["4601"]}, "json"),
        ("patch", {"document": pdf()}, "multipart"),
        ("patch", {"document": pdf(content=pdfs.pdf_with_javascript())}, "multipart"),
    ]
    for method, body, fmt in attempts:
        response = getattr(client, method)(
            api_url(bergen_oslo), body, format=fmt, HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 403, (method, body, response.content)
        assert "Oslo" in response.json()["detail"]  # says which party is beyond reach
    assert state(bergen_oslo) == before

    dropped = api_client_for(national).patch(
        api_url(bergen_oslo), {"municipalities": ["4601"]}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert dropped.status_code == 200 and dropped.json()["municipalities"] == ["4601"]
    # With every party in their areas, the agreement is the Helse Vest coordinator's too.
    closed = client.patch(
        api_url(bergen_oslo),
        {"status": AgreementStatus.ENDED, "ended_date": "2026-01-01"},
        format="json",
        HTTP_IF_MATCH='"2"',
    )
    assert closed.status_code == 200 and closed.json()["status"] == AgreementStatus.ENDED


def test_an_organisation_outside_reach_makes_the_agreement_read_only(vest, make_user):
    oslo_office = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
        name="Oslo legesenter",
    )
    shared = agreement("4601", organisations=[oslo_office])
    refusal = services.agreement_edit_refusal(vest, shared)
    assert refusal and "Oslo legesenter" in refusal
    assert services.agreement_edit_refusal(make_user("coord_nat"), shared) is None
    assert services.agreement_edit_refusal(make_user("admin"), shared) is None
    assert services.agreement_edit_refusal(vest, agreement("4601", "4624")) is None


def _api_rows(response) -> dict[int, dict]:
    body = response.json()
    return {row["id"]: row for row in (body["results"] if isinstance(body, dict) else body)}


def test_the_api_says_whether_you_may_change_an_agreement(vest, national, make_user):
    """`edit_refusal`: null when a PATCH would be accepted, else the reason it is refused
    with, in the detail and the list alike."""
    bergen_oslo = agreement("4601", "0301")
    bergen = agreement("4601")
    client = api_client_for(vest)
    refusal = client.get(api_url(bergen_oslo)).json()["edit_refusal"]
    assert refusal == services.agreement_edit_refusal(vest, bergen_oslo) and "Oslo" in refusal
    patched = client.patch(
        api_url(bergen_oslo), {"title": "Ny"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert patched.status_code == 403 and patched.json()["detail"] == refusal
    assert client.get(api_url(bergen)).json()["edit_refusal"] is None
    listed = _api_rows(client.get(reverse("intentagreement-list")))
    assert listed[bergen_oslo.pk]["edit_refusal"] == refusal
    assert listed[bergen.pk]["edit_refusal"] is None

    for row in _api_rows(api_client_for(national).get(reverse("intentagreement-list"))).values():
        assert row["edit_refusal"] is None
    assert api_client_for(national).get(api_url(bergen_oslo)).json()["edit_refusal"] is None
    # Those who never maintain agreements are told so, as a PATCH would tell them.
    directorate = api_client_for(make_user("directorate"))
    told = directorate.get(api_url(bergen)).json()["edit_refusal"]
    assert told and told == services.agreement_edit_refusal(make_user("directorate"), bergen)


def test_the_api_list_asks_the_same_number_of_questions_for_more_agreements(vest):
    """Whether each agreement may be changed is judged from the parties the list already
    read: no query per agreement (nor per party)."""
    url = reverse("intentagreement-list")
    oslo_office = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
        name="Oslo legesenter",
    )
    agreement("4601", "0301", organisations=[oslo_office])

    def count() -> tuple[int, int]:
        client = api_client_for(vest)  # a fresh user object: its scope read again
        client.get(url)  # warm the caches that outlive a request
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), len(_api_rows(response))

    before, rows = count()
    for number in ("4601", "4624", "4626", "0301", "4621"):
        agreement(number, "4601", organisations=[oslo_office])
    after, more_rows = count()
    assert (more_rows, after) == (rows + 5, before)


def test_no_party_outside_reach_can_be_added(vest):
    bergen = agreement("4601")
    before = state(bergen)
    with pytest.raises(ValidationError) as exc:
        services.agreement_save(
            user=vest,
            agreement_id=bergen.pk,
            expected_version=1,
            fields={},
            municipalities=Municipality.objects.filter(number__in=["4601", "0301"]),
            organisations=[],
            solutions=[],
        )
    assert "Oslo" in exc.value.message_dict["municipalities"][0]
    oslo_office = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
        name="Oslo legesenter",
    )
    with pytest.raises(ValidationError) as exc:
        services.agreement_save(
            user=vest,
            agreement_id=bergen.pk,
            expected_version=1,
            fields={},
            municipalities=Municipality.objects.filter(number="4601"),
            organisations=[oslo_office],
            solutions=[],
        )
    assert "Oslo legesenter" in exc.value.message_dict["organisations"][0]
    assert state(bergen) == before
    # Nor can a new agreement name one: it would be read-only for its own author.
    with pytest.raises(ValidationError) as exc:
        agreement("4601", "0301", user=vest)
    assert "municipalities" in exc.value.message_dict
    assert IntentAgreement.objects.count() == 1

    response = api_client_for(vest).patch(
        api_url(bergen), {"municipalities": ["4601", "0301"]}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400 and response.json()["municipalities"]
    assert state(bergen) == before


def form_data(**overrides):
    return {
        "title": "Intensjonsavtale Bergen",
        "programme": "Helhetlig samhandling – steg 2",
        "status": AgreementStatus.SIGNED,
        "signed_date": "2025-03-01",
        "municipalities": [Municipality.objects.get(number="4601").pk],
        "organisations": "",
        "version": 1,
        **overrides,
    }


def test_the_pages_say_why_and_the_form_refuses(vest, national, make_user):
    bergen_oslo = agreement("4601", "0301")
    before = state(bergen_oslo)
    edit = page_url(bergen_oslo, "agreement_edit")
    client = client_for(vest)

    detail = client.get(page_url(bergen_oslo))
    assert detail.status_code == 200
    assert detail.context["can_edit"] is False and "Oslo" in detail.context["edit_refusal"]
    html = detail.content.decode()
    assert edit not in html and 'id="read-only"' in html
    assert client.get(edit).status_code == 403
    assert client.post(edit, form_data()).status_code == 403  # Oslo dropped
    closing = client.post(edit, form_data(status=AgreementStatus.ENDED, ended_date="2026-01-01"))
    assert closing.status_code == 403
    assert state(bergen_oslo) == before

    # Someone who never edits agreements is not told why they cannot.
    contact_page = client_for(make_user("contact")).get(page_url(bergen_oslo))
    assert contact_page.context["edit_refusal"] is None

    nat = client_for(national)
    detail = nat.get(page_url(bergen_oslo))
    assert detail.context["can_edit"] and detail.context["edit_refusal"] is None
    assert edit in detail.content.decode()
    assert nat.get(edit).status_code == 200
    assert nat.post(edit, form_data()).status_code == 302
    assert state(bergen_oslo)[4] == ["4601"]
    assert client_for(vest).get(edit).status_code == 200


# --- uploaded PDFs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(pdfs.html_polyglot(), "HTML", id="html-with-pdf-header"),
        pytest.param(pdfs.pdf_html_polyglot(), "HTML", id="readable-pdf-holding-html"),
        pytest.param(pdfs.pdf_with_javascript(), "JavaScript", id="javascript"),
        pytest.param(pdfs.pdf_with_launch_action(), "launch action", id="launch"),
        pytest.param(pdfs.pdf_with_embedded_file(), "embedded files", id="embedded-file"),
        pytest.param(pdfs.encrypted_pdf(), "encrypted", id="encrypted"),
        pytest.param(b"%PDF-1.7\nnot a PDF after all\n%%EOF\n", "cannot be read", id="unreadable"),
    ],
)
def test_pdfs_that_could_do_harm_are_refused_saying_why(content, says):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.validate_pdf(SimpleUploadedFile("avtale.pdf", content), "document")
    assert says in " ".join(exc.value.message_dict["document"])


def test_a_clean_pdf_is_accepted():
    upload = SimpleUploadedFile("avtale.pdf", pdfs.clean_pdf())
    services.validate_pdf(upload, "document")
    assert upload.read() == pdfs.clean_pdf()  # left at the start for storing


def test_a_polyglot_upload_is_refused_through_the_api(vest, media_root):
    response = api_client_for(vest).post(
        reverse("intentagreement-list"),
        {
            "title": "Avtale",
            "municipalities": ["4601"],
            "document": pdf(content=pdfs.html_polyglot()),
        },
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["document"]
    assert not IntentAgreement.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_benefit_report_attachments_get_the_same_check(contact, org_bergen):
    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"),
        name="Spart tid",
        indicator="Minutter",
        unit="minutter",
        direction=Direction.LOWER,
        owner="Kommunen",
        target_value=Decimal("5"),
    )
    with pytest.raises(ValidationError) as exc:
        services.benefit_report_save(
            user=contact,
            report_id=None,
            expected_version=None,
            fields={
                "benefit": benefit,
                "municipality": org_bergen.municipality,
                "organisation": org_bergen,
                "kind": MeasurementKind.BASELINE,
                "period_start": D(2024, 1, 1),
                "period_end": D(2024, 2, 1),
                "value": Decimal("10"),
                "method": "Telling",
            },
            attachment=SimpleUploadedFile("måling.pdf", pdfs.pdf_with_javascript()),
        )
    assert "attachment" in exc.value.message_dict


# --- versions of the signed document --------------------------------------------------


def test_a_replaced_document_is_kept_listed_and_downloadable(vest, make_user, media_root):
    first, second = pdfs.clean_pdf("Første utgave"), pdfs.clean_pdf("Signert utgave")
    signed = agreement("4601", user=vest, document=pdf("avtale-utkast.pdf", first))
    replaced = api_client_for(vest).patch(
        api_url(signed),
        {"document": pdf("avtale-signert.pdf", second)},
        format="multipart",
        HTTP_IF_MATCH='"1"',
    )
    assert replaced.status_code == 200, replaced.content
    data = replaced.json()
    assert data["has_document"] and data["document_url"].endswith(api_url(signed, "document"))
    versions = data["documents"]
    assert [(v["file_name"], v["size"], v["is_current"]) for v in versions] == [
        ("avtale-signert.pdf", len(second), True),
        ("avtale-utkast.pdf", len(first), False),
    ]
    assert versions[0]["superseded_at"] is None and versions[1]["superseded_at"]
    assert [v["uploaded_by"] for v in versions] == [vest.username, vest.username]
    assert versions[1]["uploaded_at"] <= versions[1]["superseded_at"]

    # Everyone who can see the agreement downloads either version.
    contact = make_user("contact")
    api = api_client_for(contact)
    assert b"".join(api.get(api_url(signed, "document")).streaming_content) == second
    for version, content in zip(versions, (second, first), strict=True):
        response = api.get(version["url"])
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == content
    earlier = AgreementDocument.objects.get(agreement=signed, superseded_at__isnull=False)
    html_url = reverse("benefits:agreement_document_version", args=[signed.pk, earlier.pk])
    page = client_for(contact).get(page_url(signed))
    assert [d.file_name for d in page.context["documents"]] == [
        "avtale-signert.pdf",
        "avtale-utkast.pdf",
    ]
    assert html_url in page.content.decode()
    download = client_for(contact).get(html_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == first
    current = client_for(contact).get(page_url(signed, "agreement_document"))
    assert b"".join(current.streaming_content) == second

    # Outside the agreement's reach, or through another agreement: the same 404.
    tromso = UserFactory(
        username="kontakt-tromso", role=Role.MUNICIPALITY_CONTACT, municipalities=["5501"]
    )
    assert api_client_for(tromso).get(versions[1]["url"]).status_code == 404
    assert client_for(tromso).get(html_url).status_code == 404
    other = agreement("4601", document=pdf("annen.pdf"))
    foreign = other.documents.get()
    wrong = reverse("intentagreement-document-version", args=[signed.pk, foreign.pk])
    assert api.get(wrong).status_code == 404
    wrong_page = reverse("benefits:agreement_document_version", args=[signed.pk, foreign.pk])
    assert client_for(contact).get(wrong_page).status_code == 404

    # Both files stay on disk, each referenced by its version.
    for version in signed.documents.all():
        assert version.file.storage.exists(version.file.name)
    assert signed.documents.count() == 2
