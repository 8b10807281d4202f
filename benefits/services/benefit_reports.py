"""Writes for benefit reports: saving a draft, and the review workflow (submit, approve or
return)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Municipality, Organisation, User
from actors.review import ReviewWorkflow, area_coordinators

from ..choices import ReportStatus
from ..models import BenefitReport
from .uploads import validate_pdf

REPORT_FIELDS = (
    "benefit",
    "municipality",
    "organisation",
    "kind",
    "period_start",
    "period_end",
    "value",
    "method",
    "evidence",
)
BENEFIT_REVIEWERS = {Role.COORDINATOR, Role.ADMIN, Role.DIRECTORATE}


def benefit_report_save(
    *, user, report_id: int | None, expected_version: int | None, fields: dict, attachment=None
) -> BenefitReport:
    """A draft (or returned) measurement by a municipality or one of its organisations."""
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot report benefits."))
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    validate_pdf(attachment, "attachment")
    with transaction.atomic():
        if report_id is None:
            report = BenefitReport(created_by=user if getattr(user, "pk", None) else None)
        else:
            report = BenefitReport.objects.editable_by(user).select_for_update().get(pk=report_id)
            check_version(report, expected_version)
            if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
                raise ValidationError(_("A submitted or approved report cannot be changed."))
            report.version += 1
        for name, value in fields.items():
            setattr(report, name, value)
        organisation = report.organisation
        if organisation is not None:
            report.municipality = organisation.municipality
        errors = {}
        if report.period_start and report.period_end and report.period_end < report.period_start:
            errors["period_end"] = _("The period ends before it starts.")
        if (
            report.municipality_id
            and not Municipality.objects.editable_by(user)
            .filter(pk=report.municipality_id)
            .exists()
        ):
            errors["municipality"] = _("You can only report for your own municipalities.")
        if (
            organisation is not None
            and not Organisation.objects.editable_by(user).filter(pk=organisation.pk).exists()
        ):
            errors["organisation"] = _("You can only report for organisations in your scope.")
        if errors:
            raise ValidationError(errors)
        if attachment is not None:
            report.attachment = attachment
        report.full_clean(exclude=["attachment", "created_by"])
        report.save()
    return report


class BenefitReview(ReviewWorkflow):
    """Benefit reports: the directorate or a coordinator for the area (and
    administrators) review them; the directorate and the area's coordinators are told
    when one waits, the reporter of the outcome."""

    model = BenefitReport
    reviewer_roles = frozenset(BENEFIT_REVIEWERS)
    not_a_reviewer = gettext_lazy("Only the directorate or a coordinator reviews benefit reports.")

    def reviewers(self, report):
        directorate = User.objects.filter(role=Role.DIRECTORATE, is_active=True)
        return [*directorate, *area_coordinators(report.municipality)]

    def submitted_text(self, report):
        return _("%(k)s for “%(b)s” from %(r)s is waiting for review.") % {
            "k": report.get_kind_display(),
            "b": report.benefit.name,
            "r": report.reporter_name,
        }

    def reviewed_text(self, report, verdict):
        return _("Your %(k)s for “%(b)s” was %(v)s.") % {
            "k": report.get_kind_display().lower(),
            "b": report.benefit.name,
            "v": verdict,
        }


BENEFIT_REVIEW = BenefitReview()
# Send a report for review; approve it or return it with a comment (actors/review.py).
benefit_report_submit = BENEFIT_REVIEW.submit
benefit_report_review = BENEFIT_REVIEW.review
