"""Writes for agreements and benefit reports: the UI, API and demo data call these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Municipality, Organisation

from .choices import AgreementStatus, ReportStatus
from .models import AgreementChange, BenefitReport, IntentAgreement

MAX_PDF_BYTES = 10 * 1024 * 1024
AGREEMENT_FIELDS = (
    "title",
    "programme",
    "status",
    "sent_date",
    "signed_date",
    "ended_date",
    "clause_benefits",
    "clause_financing",
    "clause_risk_sharing",
    "contact_person",
    "contact_email",
    "notes",
)
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
AGREEMENT_EDITORS = {Role.COORDINATOR, Role.ADMIN}
BENEFIT_REVIEWERS = {Role.COORDINATOR, Role.ADMIN, Role.DIRECTORATE}


def validate_pdf(upload, field: str) -> None:
    """A PDF (by its content, not only its name) of at most 10 MB."""
    if upload is None:
        return
    if upload.size > MAX_PDF_BYTES:
        raise ValidationError(
            {
                field: _("The file is %(mb).1f MB; the limit is 10 MB.")
                % {"mb": upload.size / 1024 / 1024}
            }
        )
    head = upload.read(5)
    upload.seek(0)
    if not upload.name.lower().endswith(".pdf") or head != b"%PDF-":
        raise ValidationError(
            {field: _("Only PDF files can be uploaded; save the document as PDF.")}
        )


def _check_agreement(agreement: IntentAgreement, parties: int) -> None:
    errors = {}
    if parties == 0:
        errors["municipalities"] = _("Name at least one municipality or organisation as a party.")
    needed = {
        AgreementStatus.SENT: "sent_date",
        AgreementStatus.SIGNED: "signed_date",
        AgreementStatus.ENDED: "ended_date",
    }.get(agreement.status)
    if needed and not getattr(agreement, needed):
        errors[needed] = _("Give the date the agreement was %(s)s.") % {
            "s": agreement.get_status_display().lower()
        }
    if (
        agreement.signed_date
        and agreement.sent_date
        and agreement.signed_date < agreement.sent_date
    ):
        errors["signed_date"] = _("An agreement cannot be signed before it was sent.")
    if errors:
        raise ValidationError(errors)


def agreement_save(
    *,
    user,
    agreement_id: int | None,
    expected_version: int | None,
    fields: dict,
    municipalities,
    organisations,
    solutions,
    document=None,
) -> IntentAgreement:
    """Create or change an agreement; record who changed what."""
    scope = scoping.scope_for(user)
    if scope.role not in AGREEMENT_EDITORS or not scope.can_edit:
        raise PermissionDenied(_("Only rollout coordinators maintain intention agreements."))
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    validate_pdf(document, "document")
    with transaction.atomic():
        if agreement_id is None:
            agreement, before = IntentAgreement(), None
        else:
            agreement = (
                IntentAgreement.objects.editable_by(user).select_for_update().get(pk=agreement_id)
            )
            check_version(agreement, expected_version)
            before = _snapshot(agreement)
        for name, value in fields.items():
            setattr(agreement, name, value)
        municipalities = list(municipalities)
        organisations = list(organisations)
        _check_agreement(agreement, len(municipalities) + len(organisations))
        agreement.version = (agreement.version or 0) + (1 if before else 0)
        agreement.full_clean(exclude=["document"])
        agreement.save()
        agreement.municipalities.set(municipalities)
        agreement.organisations.set(organisations)
        agreement.solutions.set(list(solutions))
        if not IntentAgreement.objects.editable_by(user).filter(pk=agreement.pk).exists():
            raise ValidationError(
                {"municipalities": _("The parties must include someone in your areas.")}
            )
        if document is not None:
            # Stored only once everything else is accepted: a refused save leaves no file.
            agreement.document = document
            agreement.save(update_fields=["document"])
        after = _snapshot(agreement)
        changed = [k for k in after if before is None or before.get(k) != after[k]]
        if document is not None:
            changed.append("document")
        AgreementChange.objects.create(
            agreement=agreement,
            changed_by=user if getattr(user, "pk", None) else None,
            summary=(
                _("Created")
                if before is None
                else _("Changed: %(f)s") % {"f": ", ".join(changed) or "–"}
            ),
        )
    return agreement


def _snapshot(agreement: IntentAgreement) -> dict:
    data = {name: getattr(agreement, name) for name in AGREEMENT_FIELDS}
    if agreement.pk:
        data["municipalities"] = sorted(agreement.municipalities.values_list("pk", flat=True))
        data["organisations"] = sorted(agreement.organisations.values_list("pk", flat=True))
        data["solutions"] = sorted(agreement.solutions.values_list("pk", flat=True))
    return data


# --- benefit reports ------------------------------------------------------------------


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


def benefit_report_submit(*, user, report_id: int, expected_version: int | None) -> BenefitReport:
    with transaction.atomic():
        report = BenefitReport.objects.editable_by(user).select_for_update().get(pk=report_id)
        check_version(report, expected_version)
        if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            raise ValidationError(_("Only a draft or returned report can be submitted."))
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = timezone.now()
        report.version += 1
        report.save()
    return report


def benefit_report_review(
    *, user, report_id: int, expected_version: int | None, approve: bool, comment: str = ""
) -> BenefitReport:
    """The directorate or the area's coordinator approves or returns a submitted report."""
    from actors.services import notify

    scope = scoping.scope_for(user)
    if scope.role not in BENEFIT_REVIEWERS:
        raise PermissionDenied(_("Only the directorate or a coordinator reviews benefit reports."))
    with transaction.atomic():
        report = BenefitReport.objects.visible_to(user).select_for_update().get(pk=report_id)
        check_version(report, expected_version)
        if report.status != ReportStatus.SUBMITTED:
            raise ValidationError(_("Only a submitted report can be reviewed."))
        if not approve and not comment.strip():
            raise ValidationError({"comment": _("Say what must be corrected.")})
        report.status = ReportStatus.APPROVED if approve else ReportStatus.RETURNED
        report.reviewed_at = timezone.now()
        report.reviewed_by = user if getattr(user, "pk", None) else None
        report.review_comment = comment.strip()
        report.version += 1
        report.save()
        if report.created_by_id:
            verdict = _("approved") if approve else _("returned")
            notify(
                users=[report.created_by],
                text=_("Your %(k)s for “%(b)s” was %(v)s.")
                % {"k": report.get_kind_display().lower(), "b": report.benefit.name, "v": verdict}
                + (f" {comment.strip()}" if comment.strip() else ""),
                link=report.get_absolute_url(),
            )
    return report
