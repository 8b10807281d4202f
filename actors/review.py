"""One review workflow for reports: draft → submitted → approved or returned.

Readiness reports (rollout) and benefit reports (benefits) both use it. A report model
inherits `ReviewedReport` (the status, who submitted and reviewed it and when, the
reviewer's comment and the version); each report kind declares a `ReviewWorkflow`
subclass saying only what differs: who may review, what blocks a submission, and whom to
tell what. The rules themselves live here, once:

- only a draft or returned report can be submitted, only a submitted one reviewed, each
  against the version the caller last read (`actors.concurrency.check_version`);
- a returned report needs a comment saying what must be corrected;
- **separation of duties**: whoever submitted the report cannot approve or return it;
  someone else with a reviewer role and the report in their scope must. The rule is about
  the submission under review: the person who created the report may review it when
  someone else submitted it (two people have then looked at it), and a report that is
  returned and submitted again by another person may be reviewed by the first submitter.
  The system actor (demo data, tasks) is no person and is never refused;
- submitting tells the reviewers, reviewing tells the reporters (`actors.services.notify`),
  never the person who acted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import scoping
from .choices import ReportStatus, Role
from .concurrency import check_version
from .services import notify


class ReviewedReport(models.Model):
    """The fields of the review workflow (their columns keep the names they always had)."""

    status = models.CharField(
        gettext_lazy("status"), max_length=20, choices=ReportStatus, default=ReportStatus.DRAFT
    )
    submitted_at = models.DateTimeField(gettext_lazy("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("submitted by"),
    )
    reviewed_at = models.DateTimeField(gettext_lazy("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("reviewed by"),
    )
    review_comment = models.TextField(gettext_lazy("review comment"), blank=True)
    version = models.PositiveIntegerField(gettext_lazy("version"), default=1, editable=False)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        """A draft or a returned report can be changed and submitted."""
        return self.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)

    @property
    def is_waiting_for_review(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


SELF_REVIEW = gettext_lazy(
    "You submitted this report; someone else with the right scope must review it."
)


class SelfReview(PermissionDenied):
    """The reviewer submitted the report (separation of duties)."""

    def __init__(self):
        super().__init__(str(SELF_REVIEW))


def _person(user):
    """The user to record, or None for the system actor (it has no user row)."""
    return user if getattr(user, "pk", None) else None


def area_coordinators(municipality):
    """Active coordinators whose scope covers the municipality (national or its areas)."""
    from .models import User

    return (
        User.objects.filter(role=Role.COORDINATOR, is_active=True)
        .filter(Q(national_scope=True) | Q(health_trusts__catchments__municipality=municipality))
        .distinct()
    )


class ReviewWorkflow:
    """Submit and review for one report kind. Subclasses set `model` and `reviewer_roles`
    and say what differs; `submit` and `review` are the services the UI, API and demo
    data call."""

    model: type[ReviewedReport]
    reviewer_roles: frozenset[str] = frozenset()
    not_a_reviewer = gettext_lazy("Your role cannot review these reports.")

    # --- what a report kind declares --------------------------------------------------

    def problems(self, report) -> list[str]:
        """What must be filled in before the report can be submitted."""
        return []

    def reviewers(self, report) -> Iterable:
        """Who is told that a submitted report waits for them."""
        return []

    def submitted_text(self, report) -> str:
        raise NotImplementedError

    def reporters(self, report) -> Iterable:
        """Who is told the outcome of a review."""
        return [u for u in (report.created_by, report.submitted_by) if u is not None]

    def reviewed_text(self, report, verdict: str) -> str:
        raise NotImplementedError

    # --- who may review ---------------------------------------------------------------

    def is_reviewer(self, user) -> bool:
        return scoping.scope_for(user).role in self.reviewer_roles

    def reviewable_by(self, user):
        """The reports a user may review: those in their scope, if their role reviews."""
        if not self.is_reviewer(user):
            return self.model.objects.none()
        return self.model.objects.visible_to(user)

    @staticmethod
    def submitted_it(user, report) -> bool:
        return report.submitted_by_id is not None and report.submitted_by_id == getattr(
            user, "pk", None
        )

    def waiting_for(self, user):
        """Submitted reports that `user` may review now: not those they submitted."""
        waiting = self.reviewable_by(user).filter(status=ReportStatus.SUBMITTED)
        if getattr(user, "pk", None) is None:
            return waiting
        return waiting.exclude(submitted_by_id=user.pk)

    def review_state(self, user, report) -> tuple[bool, str]:
        """For the pages: whether `user` may review `report` now, and, when a reviewer
        may not because they submitted it, the reason to show instead of the form."""
        if report.status != ReportStatus.SUBMITTED:
            return False, ""
        if not self.reviewable_by(user).filter(pk=report.pk).exists():
            return False, ""
        if self.submitted_it(user, report):
            return False, str(SELF_REVIEW)
        return True, ""

    # --- the services -----------------------------------------------------------------

    def submit(self, *, user, report_id: int, expected_version: int | None):
        """Send a draft or returned report (in the user's editable scope) for review."""
        with transaction.atomic():
            report = self.model.objects.editable_by(user).select_for_update().get(pk=report_id)
            check_version(report, expected_version)
            if not report.is_editable:
                raise ValidationError(_("Only a draft or returned report can be submitted."))
            problems = self.problems(report)
            if problems:
                raise ValidationError(problems)
            report.status = ReportStatus.SUBMITTED
            report.submitted_at, report.submitted_by = timezone.now(), _person(user)
            report.version += 1
            report.save()
            notify(
                users=[u for u in self.reviewers(report) if u.pk != getattr(user, "pk", None)],
                text=self.submitted_text(report),
                link=report.get_absolute_url(),
            )
        return report

    def review(
        self, *, user, report_id: int, expected_version: int | None, approve: bool, comment=""
    ):
        """Approve a submitted report, or return it with a comment saying what to correct.
        Refused for roles that do not review (PermissionDenied), for reports outside the
        user's scope (DoesNotExist) and for the person who submitted it (SelfReview)."""
        if not self.is_reviewer(user):
            raise PermissionDenied(str(self.not_a_reviewer))
        comment = (comment or "").strip()
        with transaction.atomic():
            report = self.reviewable_by(user).select_for_update().get(pk=report_id)
            check_version(report, expected_version)
            if report.status != ReportStatus.SUBMITTED:
                raise ValidationError(_("Only a submitted report can be reviewed."))
            if self.submitted_it(user, report):
                raise SelfReview()
            if not approve and not comment:
                raise ValidationError({"comment": _("Say what must be corrected.")})
            report.status = ReportStatus.APPROVED if approve else ReportStatus.RETURNED
            report.reviewed_at, report.reviewed_by = timezone.now(), _person(user)
            report.review_comment = comment
            report.version += 1
            report.save()
            verdict = _("approved") if approve else _("returned")
            notify(
                users={u for u in self.reporters(report) if u.pk != getattr(user, "pk", None)},
                text=self.reviewed_text(report, verdict) + (f" {comment}" if comment else ""),
                link=report.get_absolute_url(),
            )
        return report
