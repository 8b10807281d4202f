import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from actors import exports as files
from actors.models import Municipality
from actors.scoping import SYSTEM_USER
from benefits import exports, selectors, services
from benefits.choices import AgreementStatus, MeasurementKind
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.conftest import api_client_for
from tests.factories import UserFactory

from .test_api import approved_report, make_benefit

pytestmark = pytest.mark.django_db


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def agreement_header():
    return [c.header for c in exports.agreement_columns()]


def agreement(title, numbers, organisations=(), solutions=(), **fields):
    return services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=None,
        expected_version=None,
        fields={"title": title, **fields},
        municipalities=Municipality.objects.filter(number__in=numbers),
        organisations=list(organisations),
        solutions=Solution.objects.filter(code__in=solutions),
    )


@pytest.fixture
def agreements(org_bergen):
    bergen = agreement(
        "Bergen og Askøy",
        ["4601", "4627"],
        organisations=[org_bergen],
        solutions=["pll", "kjernejournal"],
        status=AgreementStatus.SIGNED,
        sent_date=datetime.date(2026, 4, 1),
        signed_date=datetime.date(2026, 5, 4),
        clause_benefits=True,
        clause_risk_sharing=True,
    )
    tromso = agreement("Tromsø", ["5501"], status=AgreementStatus.DRAFT)
    return bergen, tromso


def open_xlsx(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == files.CONTENT_TYPES["xlsx"]
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def header(sheet):
    return [c.value for c in sheet[1]]


def test_agreement_xlsx(make_user, agreements):
    bergen, tromso = agreements
    response = api_client_for(make_user("coord_nat")).get(
        reverse("intentagreement-export"), {"format": "xlsx"}
    )
    sheet = open_xlsx(response)
    today = timezone.localdate().isoformat()
    assert f'filename="intensjonsavtaler-{today}.xlsx"' in response["Content-Disposition"]

    assert header(sheet) == agreement_header() and len(header(sheet)) == 10
    assert header(sheet)[3] == "Kommuner"
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J3"
    assert sheet.column_dimensions["A"].width > 30

    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"Bergen og Askøy", "Tromsø"}
    title, status, signed, municipalities, population, orgs, solutions, *clauses = rows[
        "Bergen og Askøy"
    ]
    assert isinstance(signed.value, datetime.datetime) and signed.is_date
    assert signed.value.date() == datetime.date(2026, 5, 4)
    assert municipalities.value == "4601 Bergen; 4627 Askøy"
    askoy = Municipality.objects.get(number="4627").population
    assert population.data_type == "n" and population.value == 294_860 + askoy
    assert orgs.data_type == "n" and orgs.value == 1
    assert solutions.value == "Kjernejournal, Pasientens legemiddelliste (PLL)"
    assert [c.value for c in clauses] == ["Ja", "Nei", "Ja"]

    draft = rows["Tromsø"]
    assert draft[2].value is None and draft[4].value == 79_943 and draft[5].value == 0
    assert draft[6].value == gettext("The whole programme")


def test_contacts_export_only_their_agreements(contact, agreements):
    client = api_client_for(contact)
    sheet = open_xlsx(client.get(reverse("intentagreement-export"), {"format": "xlsx"}))
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["Bergen og Askøy"]

    text = client.get(reverse("intentagreement-export"), {"format": "csv"}).content
    assert "Tromsø" not in text.decode("utf-8-sig")
    # The functions narrow to the user's scope themselves, whatever they are given.
    direct = exports.export_agreements(contact, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(direct.content)).active
    assert sheet.max_row == 2


def test_agreement_csv(make_user, agreements):
    response = api_client_for(make_user("admin")).get(
        reverse("intentagreement-export"), {"format": "csv", "status": AgreementStatus.SIGNED}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith(
        f'intensjonsavtaler-{timezone.localdate().isoformat()}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    rows = read_csv(text)
    assert len(rows) == 2  # the list's filters apply: only the signed one
    assert rows[0] == agreement_header()
    row = rows[1]
    assert row[0] == "Bergen og Askøy" and row[2] == "2026-05-04"
    assert row[3] == "4601 Bergen; 4627 Askøy"  # æøå survive
    population = 294_860 + Municipality.objects.get(number="4627").population
    assert f";{population};1;" in text.splitlines()[1]  # numbers unquoted
    assert text.splitlines()[1].startswith('"Bergen og Askøy";')  # text quoted
    assert row[-3:] == ["Ja", "Nei", "Ja"]


def test_blank_filters_from_the_list_page_mean_all(make_user, agreements):
    # The agreement list links here with its filter form's values, "All" being blank.
    url = reverse("intentagreement-export") + "?format=csv&status=&county=&health_trust=&solution="
    response = api_client_for(make_user("coord_nat")).get(url)
    assert response.status_code == 200
    assert len(read_csv(response.content.decode("utf-8-sig"))) == 3
    wrong = api_client_for(make_user("coord_nat")).get(url + "&status=ukjent")
    assert wrong.status_code == 400 and "status" in wrong.json()


def test_formulas_are_written_as_text(make_user):
    agreement('=HYPERLINK("http://x")', ["4601"])
    client = api_client_for(make_user("coord_nat"))
    sheet = open_xlsx(client.get(reverse("intentagreement-export")))  # xlsx is the default
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'
    text = client.get(reverse("intentagreement-export"), {"format": "csv"}).content
    assert read_csv(text.decode("utf-8-sig"))[1][0].startswith("'=")


def test_export_refusals(make_user):
    url = reverse("intentagreement-export")
    assert api_client_for(None).get(url, {"format": "csv"}).status_code == 401
    bad = api_client_for(make_user("coord_nat")).get(url, {"format": "pdf"})
    assert bad.status_code == 400 and "format" in bad.json()
    norole = api_client_for(make_user("norole")).get(url, {"format": "csv"})
    assert norole.status_code == 200
    assert len(read_csv(norole.content.decode("utf-8-sig"))) == 1


def test_benefit_register_export(contact, org_bergen, org_tromso):
    benefit = make_benefit(["kjernejournal", "pll"])
    make_benefit(["sfm"], name="Færre feil", target_value=None, target_date=None)
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

    client = api_client_for(contact)
    response = client.get(reverse("benefit-export"), {"format": "xlsx"})
    sheet = open_xlsx(response)
    assert (
        f"gevinstregister-{timezone.localdate().isoformat()}.xlsx"
        in response["Content-Disposition"]
    )
    # The register's columns, then the figures of reports.benefit_columns (its name aside).
    assert len(header(sheet)) == 24 and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:X3"
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    row = rows[benefit.name]
    goal, name, indicator, unit, direction, solutions, owner, baseline, *rest = row
    target_value, target_date, _change_unit, _counted, mean, median, realised, *rest = rest
    reported, _municipalities, expected, coverage, *_ = rest
    assert goal.value == benefit.goal.name and unit.value == "minutter"
    assert solutions.value == "Kjernejournal, Pasientens legemiddelliste (PLL)"
    assert baseline.value == "Ja"
    assert target_value.data_type == "n" and target_value.value == 5.5
    assert isinstance(target_date.value, datetime.datetime) and target_date.is_date
    # Only the contact's scope counts: Bergen reported, Tromsø is not theirs.
    assert (reported.value, expected.value, coverage.value) == (1, 1, 100)
    assert realised.data_type == "n" and realised.value == 2.5
    assert mean.value == 2.5 and median.value == 2.5
    empty = rows["Færre feil"]  # nobody reported: no figure, not 0, and a note why
    assert empty[8].value is None and empty[9].value is None and empty[17].value == 0
    assert empty[12].value is None and empty[14].value is None and empty[18].value is None
    assert empty[23].value == selectors.BenefitSummary(None, [], 0, 0, [], []).note != ""

    national = UserFactory(username="dir", role="directorate")
    text = api_client_for(national).get(reverse("benefit-export"), {"format": "csv"}).content
    assert text.startswith(b"\xef\xbb\xbf")
    rows = read_csv(text.decode("utf-8-sig"))
    assert len(rows) == 3 and len(rows[0]) == 24
    row = next(r for r in rows if r[1] == benefit.name)
    assert row[8:10] == ["5,50", "2027-12-31"]
    assert row[12:19] == ["2,50", "2,50", "5,00", "2", "0", "2", "100,0"]  # decimal comma
    filtered = api_client_for(national).get(
        reverse("benefit-export"), {"format": "csv", "solution": "sfm"}
    )
    assert len(filtered.content.decode("utf-8-sig").splitlines()) == 2
