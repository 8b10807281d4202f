"""Three journeys through the real UI in a real browser (Debian's chromium, headless).

A kommunekontakt fills in and submits a readiness report; a coordinator approves it and
changes statuses in bulk; a directorate user requests the national XLSX from the dashboard,
watches the job and downloads the file. Each step's screenshot lands in the artifacts folder
(see conftest.py): look at them after a change to the templates or the CSS. Data fixtures
come before `journey` in the arguments, so they are written before the browser starts.

The live server needs committed data, so these are transactional tests; flushing the
append-only history tables only works on PostgreSQL (TRUNCATE), hence the postgres mark.
"""

import datetime

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from actors.models import Municipality, OrganisationType
from actors.scoping import SYSTEM_USER
from rollout import services
from rollout.choices import Answer, ReportStatus, Status
from rollout.models import ReadinessAnswer, ReadinessReport, Solution
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SOLUTION = "kritisk-informasjon"  # three checklist items: one for the area, two per organisation
TODAY = timezone.localdate()


@pytest.fixture
def bergen_organisations(db):
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    gp = OrganisationType.objects.get(code="fastlegekontor")
    nursing = OrganisationType.objects.get(code="sykehjem")
    return [
        OrganisationFactory(municipality__number="4601", type=gp, name="Fjellsiden legesenter"),
        OrganisationFactory(municipality__number="4601", type=gp, name="Nordnes legekontor"),
        OrganisationFactory(municipality__number="4601", type=nursing, name="Sandviken sykehjem"),
    ]


@pytest.fixture
def contact(bergen_organisations):
    return UserFactory(
        username="kommunekontakt", role="municipality_contact", municipalities=["4601"]
    )


@pytest.fixture
def coordinator(bergen_organisations):
    return UserFactory(username="koordinator", role="coordinator", health_trusts=["helse-bergen"])


def answer_field(report, organisation, text_start: str, field: str = "answer") -> str:
    """The form field of one checklist row (field names carry the answer's id)."""
    answer = ReadinessAnswer.objects.get(
        report=report, organisation=organisation, prerequisite__text__startswith=text_start
    )
    return f"[name=a{answer.pk}_{field}]"


def test_contact_fills_in_and_submits_a_readiness_report(contact, bergen_organisations, journey):
    page = journey.page
    journey.login("kommunekontakt")
    page.get_by_role("link", name="Beredskap", exact=True).click()
    page.get_by_role("link", name="Ny beredskapsrapport").click()
    page.select_option("select[name=solution]", label="Kritisk informasjon")
    # The contact reports for one municipality only, so it is chosen already.
    assert page.locator("select[name=municipality] option:checked").inner_text() == "4601 Bergen"
    page.click("main form button[type=submit]")
    page.wait_for_url("**/beredskap/*/")
    report = ReadinessReport.objects.get()
    assert report.solution.code == SOLUTION and report.status == ReportStatus.DRAFT
    assert "Rapporten er opprettet" in journey.message()
    # One row for the area as a whole, two per organisation.
    assert page.locator("td.answer select").count() == 1 + 2 * len(bergen_organisations)
    journey.shot("01-contact-report-opened")

    # Submitting before everything is answered keeps the draft and lists what is missing.
    page.click("button[name=submit]")
    error = page.locator(".alert.error")
    assert "ikke sendt inn" in error.inner_text()
    assert "Sandviken sykehjem" in error.inner_text()
    journey.shot("02-contact-report-refused")

    # "Set every unanswered item to Ready", then the one exception with its date and comment.
    nursing_home = bergen_organisations[2]
    page.select_option(answer_field(report, nursing_home, "EPJ"), Answer.NOT_READY)
    page.select_option("select[data-fill-unanswered]", Answer.READY)
    assert page.locator("td.answer select").evaluate_all(
        "selects => selects.map(s => s.value)"
    ).count(Answer.READY) == 2 * len(bergen_organisations)
    expected = TODAY + datetime.timedelta(days=90)
    page.fill(answer_field(report, nursing_home, "EPJ", "date"), expected.isoformat())
    page.fill(answer_field(report, nursing_home, "EPJ", "comment"), "Venter på ny EPJ-versjon")
    journey.shot("03-contact-report-filled")

    # The answers still being saved in the background go first, then the submission.
    with page.expect_navigation():
        page.click("button[name=submit]")
    assert "sendt til behandling" in journey.message()
    assert "Innsendt" in page.locator(".page-head").inner_text()
    assert page.locator("td.answer select").count() == 0  # read-only once submitted
    assert "Venter på ny EPJ-versjon" in page.locator("#report-groups").inner_text()
    journey.shot("04-contact-report-submitted")

    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.submitted_by == contact
    exception = report.answers.get(answer=Answer.NOT_READY)
    assert exception.organisation == nursing_home and exception.expected_date == expected
    assert not report.answers.filter(answer="").exists()


@pytest.fixture
def submitted_report(contact, coordinator) -> ReadinessReport:
    # The coordinator exists first, so the submission notifies them.
    solution = Solution.objects.get(code=SOLUTION)
    report = services.report_create(
        user=contact, solution=solution, municipality=Municipality.objects.get(number="4601")
    )
    report = services.report_save_answers(
        user=contact,
        report_id=report.pk,
        expected_version=report.version,
        answers={a.pk: {"answer": Answer.READY} for a in report.answers.all()},
    )
    return services.report_submit(
        user=contact, report_id=report.pk, expected_version=report.version
    )


def test_coordinator_approves_the_report_and_changes_statuses_in_bulk(
    submitted_report, coordinator, bergen_organisations, journey
):
    page = journey.page
    report = submitted_report
    journey.login("koordinator")
    # The submission told the area's coordinator; the start page links to the report.
    page.get_by_role("link", name="Beredskapsrapport for Kritisk info fra Bergen").click()
    page.wait_for_url(f"**/beredskap/{report.pk}/")
    journey.shot("05-coordinator-report-to-review")

    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", "Ser bra ut.")
    page.get_by_role("button", name="Lagre behandlingen").click()
    page.wait_for_load_state()
    assert "kommunen er varslet" in journey.message()
    assert "Godkjent" in page.locator(".page-head").inner_text()
    assert page.locator("input[name=decision]").count() == 0
    journey.shot("06-coordinator-report-approved")
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED and report.reviewed_by == coordinator

    # Rollout → the solution → its organisations, filtered to Bergen.
    page.get_by_role("link", name="Innføring", exact=True).click()
    page.locator("table.matrix").get_by_role("link", name="Kritisk info").click()
    page.get_by_role("link", name="Virksomheter og statuser").click()
    page.select_option("form.filters select[name=municipality]", "4601")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**municipality=4601**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == len(bergen_organisations)
    journey.shot("07-coordinator-status-list")

    # All three to "technically ready" (no prerequisites needed for that).
    page.check("input[data-select-all=organisations]")
    assert page.locator("input[name=organisations]:checked").count() == 3
    page.select_option("select[name=to_status]", Status.TECHNICALLY_READY)
    page.fill("input[name=reason]", "Beredskapsrapporten er godkjent")
    page.get_by_role("button", name="Endre status").click()
    page.wait_for_load_state()
    assert "3 virksomheter er endret til «Teknisk klar»" in journey.message()
    assert rows.filter(has_text="Teknisk klar").count() == 3
    journey.shot("08-coordinator-bulk-technically-ready")

    # Two GP offices to "in use": kjernejournal is not in use there, so refused…
    for name in ("Fjellsiden legesenter", "Nordnes legekontor"):
        page.get_by_label(name, exact=True).check()
    page.select_option("select[name=to_status]", Status.IN_USE)
    page.get_by_role("button", name="Endre status").click()
    page.wait_for_load_state()
    refused = page.locator(".alert.error")
    assert "ble avvist, så ingenting ble lagret" in refused.inner_text()
    assert "Kjernejournal" in refused.inner_text()
    assert page.locator("input[name=organisations]:checked").count() == 2  # kept ticked
    journey.shot("09-coordinator-bulk-refused")

    # …until the coordinator overrides with a reason.
    page.fill("input[name=override_reason]", "Kjernejournal tas i bruk samme uke")
    page.get_by_role("button", name="Endre status").click()
    page.wait_for_load_state()
    assert "2 virksomheter er endret til «I bruk»" in journey.message()
    assert rows.filter(has_text="I bruk").count() == 2
    assert rows.filter(has_text="Sandviken sykehjem").filter(has_text="Teknisk klar").count()
    journey.shot("10-coordinator-bulk-in-use")
    solution = Solution.objects.get(code=SOLUTION)
    statuses = {o.name: services.current_status(o, solution) for o in bergen_organisations}
    assert statuses["Nordnes legekontor"].status == Status.IN_USE
    assert statuses["Sandviken sykehjem"].status == Status.TECHNICALLY_READY


@pytest.fixture
def directorate(bergen_organisations):
    # Something to report on: two of the offices have e-multidose in use.
    multidose = Solution.objects.get(code="e-multidose")
    services.status_history_load(
        user=SYSTEM_USER,
        changes=[
            services.HistoryEntry(o.pk, multidose.pk, Status.IN_USE, datetime.date(2025, 3, 1))
            for o in bergen_organisations[:2]
        ],
    )
    return UserFactory(username="direktorat", role="directorate")


def test_directorate_downloads_the_national_xlsx(directorate, journey):
    page = journey.page
    journey.login("direktorat")
    page.wait_for_url("**/avtaler-og-gevinster/resultatmal/")
    journey.shot("11-directorate-dashboard")

    page.get_by_role("link", name="Statusrapport").first.click()
    page.wait_for_url("**/avtaler-og-gevinster/rapporter/**")
    assert page.locator("form#report-export input[name=kind]").input_value() == "national"
    journey.shot("12-directorate-report-preview")

    page.click("form#report-export button[name=format][value=xlsx]")
    page.wait_for_url("**job=**")
    job = page.locator("div.job")
    job.wait_for()
    assert job.locator("progress").count() == 1
    journey.shot("13-directorate-report-job")
    download_link = page.locator("a.job-download")
    download_link.wait_for(timeout=60_000)  # htmx polls the fragment until the job is done
    journey.shot("14-directorate-report-ready")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = journey.artifacts / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert any(title.startswith("Resultatm") for title in workbook.sheetnames), workbook.sheetnames
    journey.assert_clean()
