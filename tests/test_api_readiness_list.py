"""The readiness report list is light (issue 17): each report with its answers counted and
a link to the report, whose detail (and every answer to a change) keeps all the answers.
The status history's `solution` filter reads the solution's id first, so the history's
(solution, changed_at, id) index bounds every page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actors.models import Municipality
from actors.scoping import SYSTEM_USER
from rollout import services
from rollout.choices import Answer, Status
from rollout.models import ReadinessAnswer, ReadinessReport, Solution, StatusChange
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

REPORTS = reverse("readinessreport-list")


def make_report(user, code: str, number: str, answered: dict[str, int]) -> ReadinessReport:
    """A report whose first answers are given as `answered` says ({answer: how many})."""
    report = services.report_create(
        user=user,
        solution=Solution.objects.get(code=code),
        municipality=Municipality.objects.get(number=number),
    )
    answers = list(report.answers.order_by("pk"))
    given = [value for value, n in answered.items() for _ in range(n)]
    assert len(answers) >= len(given)
    services.report_save_answers(
        user=user,
        report_id=report.pk,
        expected_version=report.version,
        answers={a.pk: {"answer": value} for a, value in zip(answers, given, strict=False)},
    )
    return report


@pytest.fixture
def reports(make_user):
    coordinator = make_user("coord_nat")
    for number in ("4601", "5501"):
        for i in range(3):
            OrganisationFactory(name=f"Legekontor {number} {i}", municipality__number=number)
    return coordinator, [
        make_report(coordinator, "pll", "4601", {Answer.READY: 2, Answer.NOT_READY: 1}),
        make_report(coordinator, "dokumentdeling", "4601", {Answer.NOT_RELEVANT: 1}),
        make_report(coordinator, "pll", "5501", {}),
    ]


def counted(report: ReadinessReport) -> dict[str, int]:
    """The answer counts, counted one answer at a time."""
    answers = list(ReadinessAnswer.objects.filter(report=report).values_list("answer", flat=True))
    return {
        "total": len(answers),
        "ready": answers.count(Answer.READY),
        "not_ready": answers.count(Answer.NOT_READY),
        "not_relevant": answers.count(Answer.NOT_RELEVANT),
        "unanswered": answers.count(""),
    }


def test_the_list_counts_answers_and_links_to_the_full_report(reports):
    user, made = reports
    client = api_client_for(user)
    page = client.get(REPORTS).json()
    assert page["count"] == 3
    by_id = {row["id"]: row for row in page["results"]}
    for report in made:
        row = by_id[report.pk]
        assert "answers" not in row
        assert row["answer_counts"] == counted(report)
        assert row["answer_counts"]["total"] > 0
        detail = client.get(row["url"]).json()
        assert len(detail["answers"]) == row["answer_counts"]["total"]
        assert {k: v for k, v in detail.items() if k != "answers"} == {
            k: v for k, v in row.items() if k not in ("url", "answer_counts")
        }
    assert by_id[made[0].pk]["answer_counts"]["ready"] == 2
    assert by_id[made[0].pk]["answer_counts"]["not_ready"] == 1
    assert by_id[made[2].pk]["answer_counts"]["unanswered"] == counted(made[2])["total"]
    pll = client.get(REPORTS, {"solution": "pll"}).json()["results"]
    assert {row["id"] for row in pll} == {made[0].pk, made[2].pk}


def test_the_list_counts_a_page_in_one_query(reports, make_user):
    user, _made = reports
    client = api_client_for(user)
    client.get(REPORTS)
    with CaptureQueriesContext(connection) as few:
        client.get(REPORTS, {"page_size": 1})
    with CaptureQueriesContext(connection) as many:
        client.get(REPORTS, {"page_size": 3})
    assert len(many) == len(few)
    answer_queries = [q for q in many.captured_queries if "rollout_readinessanswer" in q["sql"]]
    assert len(answer_queries) == 1


def test_the_schema_documents_the_light_list(make_user):
    client = api_client_for(make_user("coord_nat"))
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    listed = schema["components"]["schemas"]["ReadinessReportList"]["properties"]
    assert "answers" not in listed and {"url", "answer_counts"} <= set(listed)
    full = schema["components"]["schemas"]["ReadinessReport"]["properties"]
    assert "answers" in full


def test_status_history_by_solution_code(make_user, org_bergen):
    for code in ("pll", "sfm"):
        services.status_change(
            user=SYSTEM_USER,
            organisation=org_bergen,
            solution=Solution.objects.get(code=code),
            to_status=Status.PLANNING,
        )
    client = api_client_for(make_user("coord_nat"))
    history = reverse("statuschange-list")
    pll = client.get(history, {"solution": "pll"}).json()["results"]
    assert [row["solution"] for row in pll] == ["pll"]
    assert pll[0]["id"] == StatusChange.objects.get(solution__code="pll").pk
    unknown = client.get(history, {"solution": "finnes-ikke"})
    assert unknown.status_code == 200 and unknown.json()["results"] == []
