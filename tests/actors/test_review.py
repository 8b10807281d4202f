"""The one review workflow (actors/review.py) for both report kinds: readiness reports
(rollout) and benefit reports (benefits). Every test runs for each kind.

Separation of duties: whoever submitted a report cannot approve or return it, through
the service, the API or the pages; someone else with a reviewer role and the report in
scope can."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from actors.choices import ReportStatus, Role
from actors.concurrency import VersionConflict
from actors.models import Notification
from actors.review import SELF_REVIEW, SelfReview
from benefits import services as benefit_services
from benefits.models import Benefit, BenefitGoal, BenefitReport
from rollout import services as rollout_services
from rollout.models import ReadinessReport, Solution
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Kind:
    name: str
    model: type
    workflow: object
    api_route: str
    html_app: str

    def create(self, user, org):
        if self.model is ReadinessReport:
            # datadeling has no checklist, so a new report can be submitted at once.
            return rollout_services.report_create(
                user=user,
                solution=Solution.objects.get(code="datadeling"),
                municipality=org.municipality,
            )
        benefit, _ = Benefit.objects.get_or_create(
            name="Tid spart",
            defaults={
                "goal": BenefitGoal.objects.first(),
                "indicator": "Minutter",
                "unit": "min",
                "direction": "lower",
                "owner": "Kommunen",
            },
        )
        return benefit_services.benefit_report_save(
            user=user,
            report_id=None,
            expected_version=None,
            fields={
                "benefit": benefit,
                "municipality": org.municipality,
                "organisation": org,
                "kind": "nullpunkt",
                "period_start": datetime.date(2025, 1, 1),
                "period_end": datetime.date(2025, 2, 1),
                "value": Decimal("12"),
                "method": "Telling",
            },
        )

    def submit(self, user, report):
        return self.workflow.submit(user=user, report_id=report.pk, expected_version=report.version)

    def review(self, user, report, approve=True, comment=""):
        return self.workflow.review(
            user=user,
            report_id=report.pk,
            expected_version=report.version,
            approve=approve,
            comment=comment,
        )


KINDS = [
    Kind(
        "readiness",
        ReadinessReport,
        rollout_services.READINESS_REVIEW,
        "readinessreport",
        "rollout",
    ),
    Kind("benefit", BenefitReport, benefit_services.BENEFIT_REVIEW, "benefitreport", "benefits"),
]


@pytest.fixture(params=KINDS, ids=lambda k: k.name)
def kind(request):
    return request.param


@pytest.fixture
def people(make_user):
    """The area's coordinator (Helse Bergen, who reports and might approve their own
    report), a national coordinator, a coordinator for another area and Bergen's contact."""
    return {
        "area": make_user("coord_area", email="bergen@example.no"),
        "national": make_user("coord_nat"),
        "elsewhere": UserFactory(
            username="coord_unn", role=Role.COORDINATOR, health_trusts=["unn"]
        ),
        "contact": make_user("contact"),
    }


@pytest.fixture
def submitted(kind, people, org_bergen):
    """A report the area's coordinator created and submitted."""
    report = kind.create(people["area"], org_bergen)
    return kind.submit(people["area"], report)


# --- the service ----------------------------------------------------------------------


@pytest.mark.parametrize("approve", [True, False])
def test_the_submitter_cannot_approve_or_return_their_report(kind, people, submitted, approve):
    assert submitted.submitted_by == people["area"]
    with pytest.raises(SelfReview) as refused:
        kind.review(people["area"], submitted, approve=approve, comment="Rett opp")
    assert str(refused.value) == str(SELF_REVIEW)
    assert isinstance(refused.value, PermissionDenied)
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED and submitted.reviewed_by is None


def test_someone_else_with_scope_reviews_and_the_reporter_is_told(kind, people, submitted):
    reviewed = kind.review(people["national"], submitted, approve=False, comment="Mangler kilde")
    assert reviewed.status == ReportStatus.RETURNED
    assert reviewed.reviewed_by == people["national"] and reviewed.reviewed_at
    assert reviewed.review_comment == "Mangler kilde"
    told = Notification.objects.filter(text__contains="Mangler kilde")
    assert told.filter(user=people["area"], link=reviewed.get_absolute_url()).exists()
    assert not told.filter(user=people["national"]).exists()  # not the one who acted


def test_a_reviewer_without_the_report_in_scope_finds_nothing(kind, people, submitted):
    with pytest.raises(kind.model.DoesNotExist):
        kind.review(people["elsewhere"], submitted)


def test_roles_that_do_not_review_are_refused(kind, people, submitted):
    with pytest.raises(PermissionDenied) as refused:
        kind.review(people["contact"], submitted)
    assert not isinstance(refused.value, SelfReview)


def test_the_creator_may_review_what_someone_else_submitted(kind, people, org_bergen):
    """The rule concerns the submission: two people have then looked at the report."""
    report = kind.create(people["area"], org_bergen)
    report = kind.submit(people["contact"], report)
    assert report.created_by == people["area"] and report.submitted_by == people["contact"]
    assert kind.review(people["area"], report).status == ReportStatus.APPROVED


def test_the_rule_follows_the_latest_submission(kind, people, submitted):
    returned = kind.review(people["national"], submitted, approve=False, comment="Mer data")
    again = kind.submit(people["national"], returned)
    assert again.submitted_by == people["national"]
    with pytest.raises(SelfReview):
        kind.review(people["national"], again)
    assert kind.review(people["area"], again).status == ReportStatus.APPROVED


def test_state_and_version_rules(kind, people, org_bergen):
    NOT_SUBMITTABLE = _("Only a draft or returned report can be submitted.")
    NOT_REVIEWABLE = _("Only a submitted report can be reviewed.")
    report = kind.create(people["contact"], org_bergen)
    with pytest.raises(ValidationError, match=NOT_REVIEWABLE):
        kind.review(people["area"], report)
    with pytest.raises(VersionConflict):
        kind.workflow.submit(
            user=people["contact"], report_id=report.pk, expected_version=report.version + 1
        )
    submitted = kind.submit(people["contact"], report)
    assert submitted.version == report.version + 1 and submitted.submitted_at
    with pytest.raises(ValidationError, match=NOT_SUBMITTABLE):
        kind.submit(people["contact"], submitted)
    with pytest.raises(VersionConflict):
        kind.review(people["area"], report)  # the version read before the submission
    with pytest.raises(ValidationError) as no_comment:
        kind.review(people["area"], submitted, approve=False)
    assert "comment" in no_comment.value.message_dict
    approved = kind.review(people["area"], submitted)
    assert approved.version == submitted.version + 1
    with pytest.raises(ValidationError, match=NOT_REVIEWABLE):
        kind.review(people["national"], approved)
    with pytest.raises(ValidationError, match=NOT_SUBMITTABLE):
        kind.submit(people["contact"], approved)


def test_submitting_tells_the_reviewers_but_not_the_submitter(
    kind, people, org_bergen, directorate
):
    report = kind.submit(people["area"], kind.create(people["area"], org_bergen))
    told = set(
        Notification.objects.filter(link=report.get_absolute_url()).values_list(
            "user__username", flat=True
        )
    )
    expected = {"coord_nat"} | ({"directorate"} if kind.name == "benefit" else set())
    assert told == expected  # not the submitter, not the coordinator for another area


# --- the API --------------------------------------------------------------------------


def review_url(kind, report):
    return reverse(f"{kind.api_route}-review", args=[report.pk])


def test_api_refuses_self_review_with_a_reason(kind, people, submitted):
    response = api_client_for(people["area"]).post(
        review_url(kind, submitted),
        {"approve": True},
        format="json",
        HTTP_IF_MATCH=f'"{submitted.version}"',
    )
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == str(SELF_REVIEW)
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED


def test_api_review_by_another_reviewer_and_out_of_scope(kind, people, submitted):
    etag = f'"{submitted.version}"'
    outside = api_client_for(people["elsewhere"]).post(
        review_url(kind, submitted), {"approve": True}, format="json", HTTP_IF_MATCH=etag
    )
    assert outside.status_code == 404
    approved = api_client_for(people["national"]).post(
        review_url(kind, submitted), {"approve": True}, format="json", HTTP_IF_MATCH=etag
    )
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == ReportStatus.APPROVED
    assert (body["submitted_by"], body["reviewed_by"]) == ("coord_area", "coord_nat")
    assert approved["ETag"] == f'"{submitted.version + 1}"'


def test_api_submit_records_the_submitter(kind, people, org_bergen):
    report = kind.create(people["contact"], org_bergen)
    response = api_client_for(people["contact"]).post(
        reverse(f"{kind.api_route}-submit", args=[report.pk]),
        HTTP_IF_MATCH=f'"{report.version}"',
    )
    assert response.status_code == 200, response.content
    assert response.json()["submitted_by"] == "contact"
    assert response.json()["reviewed_by"] is None


# --- the pages ------------------------------------------------------------------------


def test_pages_do_not_offer_the_submitter_a_review(kind, people, submitted):
    client = client_for(people["area"])
    detail = reverse(f"{kind.html_app}:report_detail", args=[submitted.pk])
    page = client.get(detail)
    assert page.context["can_review"] is False
    assert page.context["review_refused"] == str(SELF_REVIEW)
    content = page.content.decode()
    assert 'name="decision"' not in content
    assert reverse(f"{kind.html_app}:report_review", args=[submitted.pk]) not in content

    # A crafted POST is refused with the same reason, and nothing changes.
    response = client.post(
        reverse(f"{kind.html_app}:report_review", args=[submitted.pk]),
        {"decision": "approve", "version": submitted.version},
        follow=True,
    )
    assert response.status_code == 200
    assert str(SELF_REVIEW) in [str(m) for m in response.context["messages"]]
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED


def test_pages_offer_another_reviewer_the_review(kind, people, submitted):
    client = client_for(people["national"])
    detail = reverse(f"{kind.html_app}:report_detail", args=[submitted.pk])
    page = client.get(detail)
    assert page.context["can_review"] is True and not page.context["review_refused"]
    assert 'name="decision"' in page.content.decode()
    response = client.post(
        reverse(f"{kind.html_app}:report_review", args=[submitted.pk]),
        {"decision": "approve", "version": submitted.version},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.APPROVED and submitted.reviewed_by == people["national"]


def test_pages_say_nothing_to_those_who_never_review(kind, people, org_bergen):
    report = kind.submit(people["contact"], kind.create(people["contact"], org_bergen))
    page = client_for(people["contact"]).get(
        reverse(f"{kind.html_app}:report_detail", args=[report.pk])
    )
    assert page.context["can_review"] is False and page.context["review_refused"] == ""


def test_the_reporter_of_a_readiness_report_is_told_who_reviews_it(people, org_bergen):
    readiness = next(k for k in KINDS if k.html_app == "rollout")
    report = readiness.submit(people["contact"], readiness.create(people["contact"], org_bergen))
    page = client_for(people["contact"]).get(reverse("rollout:report_detail", args=[report.pk]))
    with translation.override("nb"):
        note = _(
            "A rollout coordinator for the area, who did not submit it, approves the "
            "report or returns it for correction; you are notified either way."
        )
    assert note in page.content.decode()
    readiness.review(people["area"], report, approve=True)
    page = client_for(people["contact"]).get(reverse("rollout:report_detail", args=[report.pk]))
    assert note not in page.content.decode()


# --- the migration that records submitters of waiting benefit reports ------------------


def test_migration_takes_the_creator_as_submitter_of_waiting_reports(people, org_bergen):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("benefits.migrations.0005_benefitreport_submitted_by")
    kind = KINDS[1]
    waiting = kind.submit(people["contact"], kind.create(people["contact"], org_bergen))
    approved = kind.review(
        people["area"], kind.submit(people["contact"], kind.create(people["contact"], org_bergen))
    )
    BenefitReport.objects.update(submitted_by=None)  # as before the column existed
    migration.submitter_from_creator(apps, None)
    waiting.refresh_from_db()
    approved.refresh_from_db()
    assert waiting.submitted_by == people["contact"]
    assert approved.submitted_by is None  # history is not guessed


def test_review_reminders_leave_out_own_submissions(kind, people, submitted):
    from benefits.governance.dependencies import reminders_due

    def links(user):
        return [item["link"] for item in reminders_due(user).get("review", [])]

    assert submitted.get_absolute_url() not in links(people["area"])
    assert submitted.get_absolute_url() in links(people["national"])
