"""The readiness report of a municipality with many organisations in a real browser (issue
18, point 1): a kommunekontakt opens a group, answers, sees it saved in the background,
submits too early and lands on the first marked row; the coordinator's review opens with
what is not ready next to the form. axe-core finds no serious or critical violation on
either page. Screenshots land in the artifacts folder (conftest.py)."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from actors.models import Municipality, OrganisationType
from rollout import readiness, services
from rollout.choices import Answer, ReportStatus, Status
from rollout.models import ReadinessAnswer, ReadinessReport, RolloutStatus, Solution
from tests.browser.test_accessibility import axe_violations
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
LATER = timezone.localdate() + datetime.timedelta(days=120)


@pytest.fixture
def bergen(db):
    """More GP offices than fit on a page of their group, two nursing homes, and one office
    whose kjernejournal is in use (that item is answered from the status)."""
    if not Municipality.objects.exists():  # a previous transactional test flushed it
        call_command("load_reference_data", verbosity=0)
    gp = OrganisationType.objects.get(code="fastlegekontor")
    nursing = OrganisationType.objects.get(code="sykehjem")
    offices = [
        OrganisationFactory(municipality__number="4601", type=gp, name=f"Legekontor {i:02}")
        for i in range(readiness.PAGE_SIZE + 5)
    ]
    homes = [
        OrganisationFactory(municipality__number="4601", type=nursing, name=name)
        for name in ("Sandviken sykehjem", "Åsane sykehjem")
    ]
    RolloutStatus.objects.create(
        organisation=offices[0],
        solution=Solution.objects.get(code="kjernejournal"),
        status=Status.IN_USE,
        effective_date=datetime.date(2024, 1, 1),
    )
    return {"offices": offices, "homes": homes}


@pytest.fixture
def people(bergen):
    return {
        "contact": UserFactory(
            username="kommunekontakt", role="municipality_contact", municipalities=["4601"]
        ),
        "coordinator": UserFactory(
            username="koordinator", role="coordinator", health_trusts=["helse-bergen"]
        ),
    }


@pytest.fixture
def report(people):
    return services.report_create(
        user=people["contact"],
        solution=Solution.objects.get(code="kritisk-informasjon"),
        municipality=Municipality.objects.get(number="4601"),
    )


def field(report, organisation, text_start, part="answer") -> str:
    answer = ReadinessAnswer.objects.get(
        report=report, organisation=organisation, prerequisite__text__startswith=text_start
    )
    return f"[name=a{answer.pk}_{part}]"


def assert_axe_clean(page, where: str) -> None:
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in axe_violations(page)
    ]
    assert not found, f"axe on {where}:\n" + "\n".join(found)


def test_contact_answers_a_group_in_the_background_and_lands_on_the_first_gap(
    bergen, people, report, journey
):
    page = journey.page
    page.on("dialog", lambda d: journey.problems.append(f"dialog: {d.message}") or d.dismiss())
    journey.login("kommunekontakt")
    journey.goto(report.get_absolute_url())
    groups = page.locator("details.report-group")
    assert groups.count() == 3  # the area, GP offices, nursing homes
    # A report of this size opens the first group that needs answers; the others load when opened.
    assert page.locator("details.report-group[open]").count() == 1
    assert page.locator("#gruppe-sykehjem .report-table").count() == 0
    journey.shot("readiness-01-groups")

    # The item that follows from kjernejournal in use is shown with the status, not asked.
    page.locator("#gruppe-fastlegekontor > summary").click()
    office = page.locator("#gruppe-fastlegekontor")
    office.locator(".report-table").wait_for()
    first_office = bergen["offices"][0]
    assert page.locator(field(report, first_office, "Kjernejournal")).count() == 0
    assert page.locator(field(report, first_office, "EPJ")).count() == 1
    assert office.locator("td.derived").count() == 1
    # A page of the group: PAGE_SIZE offices, then the next page in place.
    assert "Legekontor 29" not in office.inner_text()
    office.get_by_role("link", name="Neste").click()
    page.locator(field(report, bergen["offices"][-1], "EPJ")).wait_for()
    journey.shot("readiness-02-office-page-2")

    # Answer the nursing homes: saved in the background, shown as saved.
    page.locator("#gruppe-sykehjem > summary").click()
    homes = page.locator("#gruppe-sykehjem")
    homes.locator(".report-table").wait_for()
    sandviken, asane = bergen["homes"]
    for home in (sandviken, asane):
        page.select_option(field(report, home, "Kjernejournal"), Answer.READY)
    page.select_option(field(report, sandviken, "EPJ"), Answer.READY)
    page.select_option(field(report, asane, "EPJ"), Answer.NOT_READY)
    page.fill(field(report, asane, "EPJ", "date"), LATER.isoformat())
    page.fill(field(report, asane, "EPJ", "comment"), "Venter på ny EPJ-versjon")
    page.locator(field(report, asane, "EPJ", "comment")).blur()
    homes.locator("[data-save-state].saved").wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#gruppe-sykehjem [data-save-state]:not(.saved)') &&"
        " document.querySelector('#gruppe-sykehjem [data-progress]').textContent"
        ".startsWith('4 ')"
    )
    journey.shot("readiness-03-nursing-homes-saved")
    saved = ReadinessAnswer.objects.get(
        report=report, organisation=asane, prerequisite__text__startswith="EPJ"
    )
    assert (saved.answer, saved.expected_date, saved.comment) == (
        Answer.NOT_READY,
        LATER,
        "Venter på ny EPJ-versjon",
    )

    # Submitting too early: the draft stays, the rows are marked, the first one focused.
    page.click("button[name=submit]")
    page.wait_for_load_state()
    page.locator("#report-problems").wait_for()
    area_row = ReadinessAnswer.objects.get(report=report, organisation=None)
    page.wait_for_function(f"document.activeElement.id === 'f{area_row.pk}a'")
    assert page.locator(f"#a{area_row.pk}.invalid").is_visible()
    assert page.locator(f"#f{area_row.pk}a").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#e{area_row.pk}").is_visible()
    listed = page.locator("#report-problems li").all_inner_texts()
    assert len(listed) == 10 and "Legekontor 00" in listed[1]  # table order, the area first
    assert ReadinessReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT
    journey.shot("readiness-04-refused-first-row")
    assert_axe_clean(page, "the contact's report with marked rows")


def test_the_coordinator_reviews_with_the_summary_beside_the_form(bergen, people, report, journey):
    contact = people["contact"]
    answers = {a.pk: {"answer": Answer.READY} for a in report.answers.all()}
    for office in bergen["offices"][:3]:
        answer = ReadinessAnswer.objects.get(
            report=report, organisation=office, prerequisite__text__startswith="EPJ"
        )
        answers[answer.pk] = {"answer": Answer.NOT_READY, "expected_date": LATER}
    saved = services.report_save_answers(
        user=contact, report_id=report.pk, expected_version=report.version, answers=answers
    )
    services.report_submit(user=contact, report_id=report.pk, expected_version=saved.version)

    page = journey.page
    journey.login("koordinator")
    journey.goto(report.get_absolute_url())
    summary = page.locator(".review-top table")
    assert "3" in summary.locator("tbody tr").first.inner_text()
    assert "EPJ-systemet støtter API" in summary.inner_text()
    # The decision is in the first screen, beside the summary, not below the table.
    decision = page.locator("input[name=decision][value=return]")
    assert decision.bounding_box()["y"] < 900
    journey.page.screenshot(path=journey.artifacts / "readiness-05-review-first-screen.png")
    assert_axe_clean(page, "the coordinator's review")
    # The summary's link opens the group with only what is not ready.
    summary.get_by_role("link").first.click()
    page.wait_for_url("**vis=ikke_klare**")
    assert page.locator("#gruppe-fastlegekontor tbody tr").count() == 3
    journey.shot("readiness-06-review-not-ready-only")
    decision.check()
    page.fill("textarea[name=comment]", "Avklar EPJ-versjonen med leverandøren.")
    page.get_by_role("button", name="Lagre behandlingen").click()
    page.wait_for_load_state()
    assert ReadinessReport.objects.get(pk=report.pk).status == ReportStatus.RETURNED
