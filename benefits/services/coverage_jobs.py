"""Writes for agreements and benefit reports: the UI, API and demo data call these."""

from __future__ import annotations

import datetime
import logging
import os
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Job, Municipality, Organisation, User
from actors.review import ReviewWorkflow, area_coordinators
from rollout.models import StatusChange
from rollout.selectors import month_ends
from rollout.services import today as rollout_today

from .. import jobs
from ..choices import AgreementStatus, Level, ReportStatus
from ..models import (
    AGREEMENT_TERMS,
    AgreementChange,
    AgreementDocument,
    BenefitReport,
    CoverageSnapshot,
    CoverageTarget,
    IntentAgreement,
)

log = logging.getLogger(__name__)

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
    """The one check of every uploaded PDF (agreement documents, benefit-report
    attachments): at most 10 MB, a PDF by its content (not only its name) that pypdf can
    read, not encrypted, with no HTML in its first bytes (a polyglot that a browser could
    run) and nothing active: no JavaScript, launch actions or embedded files."""
    if upload is None:
        return
    if upload.size > MAX_PDF_BYTES:
        raise ValidationError(
            {
                field: _("The file is %(mb).1f MB; the limit is 10 MB.")
                % {"mb": upload.size / 1024 / 1024}
            }
        )
    upload.seek(0)
    head = upload.read(HTML_SNIFF_BYTES)
    upload.seek(0)
    if not upload.name.lower().endswith(".pdf") or not head.startswith(b"%PDF-"):
        raise ValidationError(
            {field: _("Only PDF files can be uploaded; save the document as PDF.")}
        )
    if HTML_MARKERS.search(head):
        raise ValidationError(
            {
                field: _(
                    "The file holds HTML behind its PDF header, so a browser could run it as "
                    "a web page; save the document as PDF again."
                )
            }
        )
    try:
        problems = _pdf_problems(upload)
    finally:
        upload.seek(0)
    if problems:
        raise ValidationError({field: problems})


HTML_SNIFF_BYTES = 1024  # browsers that sniff look at the first 512 bytes or so
HTML_MARKERS = re.compile(rb"<\s*(!doctype|html|head|body|script|iframe|svg|img)", re.I)


def _pdf_problems(stream) -> list[str]:
    """What makes a PDF unacceptable, as messages (none: it is fine). Every object that a
    viewer can reach from the trailer is looked at, so an action hidden in a page,
    an annotation or a form field is found as well as one in the document catalogue."""
    try:
        reader = PdfReader(stream, strict=False)
        encrypted = reader.is_encrypted
        trailer = reader.trailer
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        return [
            _("The file cannot be read as a PDF (%(e)s); save the document as PDF again.")
            % {"e": str(exc)[:200] or type(exc).__name__}
        ]
    if encrypted:
        return [_("The PDF is encrypted or password-protected; upload a copy without protection.")]
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list = [trailer]
    try:
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if (obj.idnum, obj.generation) in seen:
                    continue
                seen.add((obj.idnum, obj.generation))
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):
                found |= _active_content(obj)
                stack.extend(obj.values())
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception as exc:
        return [
            _("The file cannot be read as a PDF (%(e)s); save the document as PDF again.")
            % {"e": str(exc)[:200] or type(exc).__name__}
        ]
    messages = {
        "javascript": _(
            "The PDF contains JavaScript, which could run when it is opened; save or print it "
            "as a new PDF without scripts."
        ),
        "launch": _(
            "The PDF contains a launch action, which could start a program when it is "
            "opened; save or print it as a new PDF."
        ),
        "embedded": _(
            "The PDF contains embedded files; upload them separately, or save the document "
            "as a new PDF without attachments."
        ),
    }
    return [message for kind, message in messages.items() if kind in found]


def _active_content(obj) -> set[str]:
    """The kinds of active content one PDF dictionary holds (see _pdf_problems)."""
    kinds = set()
    action = obj.get("/S")
    if "/JS" in obj or "/JavaScript" in obj or action == "/JavaScript":
        kinds.add("javascript")
    if action == "/Launch" or "/Launch" in obj:
        kinds.add("launch")
    if (
        "/EmbeddedFiles" in obj
        or "/EF" in obj
        or obj.get("/Type") == "/EmbeddedFile"
        or obj.get("/Subtype") == "/FileAttachment"
    ):
        kinds.add("embedded")
    return kinds


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


def _outside_reach(user, municipalities, organisations) -> dict[str, list[str]]:
    """The named parties the user may not edit, by field ("municipalities",
    "organisations"), with their names; empty when every one is in reach."""
    outside = {}
    for field, model, parties in (
        ("municipalities", Municipality, municipalities),
        ("organisations", Organisation, organisations),
    ):
        ids = {party.pk for party in parties}
        editable = set(
            model.objects.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True)
        )
        names = sorted(party.name for party in parties if party.pk not in editable)
        if names:
            outside[field] = names
    return outside


def agreement_edit_refusal(user, agreement: IntentAgreement) -> str | None:
    """Why the user may not change this agreement, or None when they may. An agreement is
    changed only by someone who may change every party to it: a coordinator whose areas
    hold all its municipalities and organisations, a national coordinator or an
    administrator (so nobody drops, closes or rewrites an agreement for a party outside
    their reach). The service enforces it; pages and the API show it."""
    scope = scoping.scope_for(user)
    if scope.role not in AGREEMENT_EDITORS or not scope.can_edit:
        return _("Only rollout coordinators maintain intention agreements.")
    outside = _outside_reach(user, agreement.municipalities.all(), agreement.organisations.all())
    if outside:
        return _(
            "This agreement has parties outside your area of responsibility (%(p)s); only a "
            "national coordinator can change it."
        ) % {"p": ", ".join(name for names in outside.values() for name in names)}
    return None


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
    """Create or change an agreement; record who changed what. Every party, before and
    after the change, must be within the user's reach (see agreement_edit_refusal). A new
    document becomes the current version; the one it replaces is kept as an earlier one."""
    scope = scoping.scope_for(user)
    if scope.role not in AGREEMENT_EDITORS or not scope.can_edit:
        raise PermissionDenied(_("Only rollout coordinators maintain intention agreements."))
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if agreement_id is None:
            agreement, before = IntentAgreement(), None
        else:
            agreement = (
                IntentAgreement.objects.editable_by(user).select_for_update().get(pk=agreement_id)
            )
            refusal = agreement_edit_refusal(user, agreement)
            if refusal:
                raise PermissionDenied(refusal)
            check_version(agreement, expected_version)
            before = _snapshot(agreement)
        validate_pdf(document, "document")
        for name, value in fields.items():
            setattr(agreement, name, value)
        municipalities = list(municipalities)
        organisations = list(organisations)
        _check_agreement(agreement, len(municipalities) + len(organisations))
        outside = _outside_reach(user, municipalities, organisations)
        if outside:
            raise ValidationError(
                {
                    field: _(
                        "You can only name parties within your area of responsibility; "
                        "outside it: %(p)s."
                    )
                    % {"p": ", ".join(names)}
                    for field, names in outside.items()
                }
            )
        agreement.version = (agreement.version or 0) + (1 if before else 0)
        agreement.full_clean()
        agreement.save()
        agreement.municipalities.set(municipalities)
        agreement.organisations.set(organisations)
        agreement.solutions.set(list(solutions))
        if not IntentAgreement.objects.editable_by(user).filter(pk=agreement.pk).exists():
            raise ValidationError(
                {"municipalities": _("The parties must include someone in your areas.")}
            )
        after = _snapshot(agreement)
        changed = [k for k in after if before is None or before.get(k) != after[k]]
        if document is not None:
            _document_replace(agreement, document, user)
            changed.append("document")
        AgreementChange.objects.create(
            agreement=agreement,
            changed_by=user if getattr(user, "pk", None) else None,
            summary=(
                _("Created")
                if before is None
                else _("Changed: %(f)s") % {"f": ", ".join(changed) or "–"}
            ),
            details={} if before is None else _terms_delta(before, after),
        )
    return agreement


def _document_replace(agreement: IntentAgreement, upload, user) -> AgreementDocument:
    """The upload becomes the agreement's current document; the current one, if any, is
    kept as an earlier version (its file stays, listed and downloadable). Stored only once
    everything else is accepted, so a refused save leaves no file."""
    now = timezone.now()
    agreement.documents.filter(superseded_at__isnull=True).update(superseded_at=now)
    return AgreementDocument.objects.create(
        agreement=agreement,
        file=upload,
        file_name=os.path.basename(upload.name)[:200],
        size=upload.size,
        uploaded_by=user if getattr(user, "pk", None) else None,
        uploaded_at=now,
    )


def _snapshot(agreement: IntentAgreement) -> dict:
    data = {name: getattr(agreement, name) for name in AGREEMENT_FIELDS}
    if agreement.pk:
        for term in AGREEMENT_TERMS:
            data[term] = sorted(getattr(agreement, term).values_list("pk", flat=True))
    return data


def _terms_delta(before: dict, after: dict) -> dict:
    """The parties and solutions added and removed between two snapshots, by term (the
    record that lets coverage on a past day be replayed)."""
    delta = {}
    for term in AGREEMENT_TERMS:
        added = sorted(set(after[term]) - set(before[term]))
        removed = sorted(set(before[term]) - set(after[term]))
        if added or removed:
            delta[term] = {"added": added, "removed": removed}
    return delta


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


# --- coverage targets -----------------------------------------------------------------

EVERY = ("day", "week", "month")
BACKFILL_CHUNK_DAYS = 62  # days computed per pass (bounded memory, visible progress)


TARGET_FIELDS = ("name", "solution_id", "unit", "achieved_statuses", "denominator",
                 "municipality_rule", "threshold", "deadline", "per_area", "is_active")  # fmt: skip
COUNTING_FIELDS = ("solution_id", "unit", "achieved_statuses", "denominator", "municipality_rule")


def target_save(
    *, user, target: CoverageTarget, organisation_types=None, reason: str = ""
) -> CoverageTarget:
    """Create or change a target, with its reason in the change log (a threshold change as
    such, any other change as a change of target). Its snapshots follow its rules: a new
    target, or one whose counting changed, gets its history back-filled (and old snapshots
    dropped)."""
    from benefits.governance.changelog import changelog_record

    scope = scoping.scope_for(user)
    if scope.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators change coverage targets."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the target is set or changed.")})
    with transaction.atomic():
        before = CoverageTarget.objects.filter(pk=target.pk).first() if target.pk else None
        target.full_clean()
        if before is not None:
            target.version = before.version + 1
        target.save()
        old_types = set(before.organisation_types.values_list("pk", flat=True)) if before else None
        if organisation_types is not None:
            target.organisation_types.set(organisation_types)
        new_types = set(target.organisation_types.values_list("pk", flat=True))
        fields = [f for f in TARGET_FIELDS if before and getattr(before, f) != getattr(target, f)]
        if before is not None and old_types != new_types:
            fields.append("organisation_types")
        for kind, title in _target_changes(before, target, fields):
            changelog_record(user=user, kind=kind, title=title, reason=reason, subject=target.code)
        if before is None or set(fields) & {*COUNTING_FIELDS, "organisation_types"}:
            target.snapshots.all().delete()
            coverage_job_request(
                user=user, kind=Job.Kind.COVERAGE_BACKFILL, params={"targets": [target.code]}
            )
    return target


def _target_changes(before, target: CoverageTarget, fields: list[str]):
    """(change-log kind, title) for a new target or for the fields that changed."""
    from rollout.choices import ChangeKind

    if before is None:
        yield ChangeKind.TARGET, _("New target: %(t)s") % {"t": target.name}
        return
    if "threshold" in fields:
        yield (
            ChangeKind.THRESHOLD,
            _("Threshold of %(t)s: %(a)s → %(b)s")
            % {
                "t": target.name,
                "a": f"{before.threshold:.1%}",
                "b": f"{target.threshold:.1%}",
            },
        )
    rest = [f for f in fields if f != "threshold"]
    if rest:
        names = ", ".join(
            str(CoverageTarget._meta.get_field(f.removesuffix("_id")).verbose_name) for f in rest
        )
        yield ChangeKind.TARGET, _("%(t)s changed: %(f)s") % {"t": target.name, "f": names}


def snapshots_store(target: CoverageTarget, values_by_day: dict) -> int:
    """Replace the target's snapshots for these days (re-running a day never duplicates).

    A year of daily snapshots is about a million rows, so they are written with the
    database's bulk path (COPY on PostgreSQL, executemany elsewhere), not one model object
    per row; the delete and the insert share one transaction."""
    now = timezone.now()
    rows = [
        (target.pk, day, level, scope_id, num, den, now)
        for day, values in values_by_day.items()
        for (level, scope_id), (num, den) in values.items()
    ]
    table = CoverageSnapshot._meta.db_table
    columns = "target_id, day, level, scope_id, numerator, denominator, computed_at"
    with transaction.atomic():
        CoverageSnapshot.objects.filter(target=target, day__in=list(values_by_day)).delete()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 7)
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    return len(rows)


def backfill_days(start: datetime.date, end: datetime.date, every: str) -> list[datetime.date]:
    """The days to compute between start and end (both included): every day, every Sunday,
    or every month end; `end` is always one of them."""
    if start > end:
        return []
    if every == "month":
        return month_ends(start, end)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    if every == "week":
        days = [d for d in days if d.weekday() == 6 or d == end]
    return days


def backfill_day_count(start: datetime.date, end: datetime.date, every: str) -> int:
    """len(backfill_days(start, end, every)), counted without listing the days."""
    if start > end:
        return 0
    if every == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    if every == "week":
        sunday = start + datetime.timedelta(days=(6 - start.weekday()) % 7)
        sundays = (end - sunday).days // 7 + 1 if sunday <= end else 0
        return sundays + (end.weekday() != 6)
    return (end - start).days + 1


def _backfill_too_long(start: datetime.date, end: datetime.date, every: str) -> str | None:
    """Why a back-fill computes too many snapshot days for one job (None: it does not)."""
    count, limit = backfill_day_count(start, end, every), settings.COVERAGE_BACKFILL_MAX_DAYS
    if count <= limit:
        return None
    return _(
        "From %(start)s to %(end)s that is %(n)s snapshot days; one back-fill computes at most "
        "%(limit)s (the setting COVERAGE_BACKFILL_MAX_DAYS). Choose a later start, or a "
        "snapshot every week or month."
    ) % {"start": start.isoformat(), "end": end.isoformat(), "n": count, "limit": limit}


def _backfill_check(start, end: datetime.date, every: str, first) -> None:
    """A back-fill's limits, for every path that asks for one (API, pages, target
    changes): from the first day of status history (`first`) at the earliest, to today at
    the latest, and at most COVERAGE_BACKFILL_MAX_DAYS snapshot days."""
    if end > rollout_today():
        raise ValidationError({"end": _("The end cannot be in the future.")})
    if start is not None:
        if first is None:
            raise ValidationError(
                {"start": _("There is no status history yet to back-fill; leave the start out.")}
            )
        if start < first:
            raise ValidationError(
                {
                    "start": _(
                        "The status history begins on %(first)s; start on that day or later."
                    )
                    % {"first": first.isoformat()}
                }
            )
        if start > end:
            raise ValidationError({"start": _("The start must be on or before the end.")})
    too_long = _backfill_too_long(start or first or end, end, every)
    if too_long:
        raise ValidationError({"start": too_long})


def _job_targets(params: dict):
    targets = CoverageTarget.objects.filter(is_active=True)
    if params.get("targets"):
        targets = targets.filter(code__in=params["targets"])
    return list(targets.select_related("solution").prefetch_related("organisation_types"))


def _param_date(params: dict, key: str, default):
    """A date parameter given as a date or as YYYY-MM-DD; `default` when left out."""
    value = params.get(key) or default
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({key: _("Give dates as YYYY-MM-DD.")}) from exc
    return value


def _job_params(kind: str, params: dict) -> dict:
    """Check a job's parameters before it is queued; errors say what to fix."""
    clean: dict = {}
    codes = params.get("targets") or []
    if codes:
        known = set(CoverageTarget.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = sorted(set(codes) - known)
        if unknown:
            raise ValidationError(
                {"targets": _("Unknown target: %(c)s.") % {"c": ", ".join(unknown)}}
            )
        clean["targets"] = sorted(set(codes))
    if kind == Job.Kind.COVERAGE_BACKFILL:
        every = params.get("every") or "month"
        if every not in EVERY:
            raise ValidationError({"every": _("Choose day, week or month.")})
        start = _param_date(params, "start", None)
        end = _param_date(params, "end", rollout_today())
        _backfill_check(start, end, every, first_history_day(*_job_targets(clean)))
        clean.update(every=every, start=start.isoformat() if start else None, end=end.isoformat())
    elif kind == Job.Kind.COVERAGE_RECOMPUTE:
        day = _param_date(params, "day", rollout_today())
        if day > rollout_today():
            raise ValidationError({"day": _("The day cannot be in the future.")})
        clean["day"] = day.isoformat()
        since = _param_date(params, "since", None)
        if since is not None:
            clean["since"] = min(since, day).isoformat()
    if params.get("trigger"):
        clean["trigger"] = params["trigger"]
    return clean


def coverage_job_request(*, user, kind: str, params: dict | None = None, countdown: int = 0) -> Job:
    """Queue a recomputation or back-fill (coordinators, the directorate, administrators;
    the system). The task is sent when the transaction commits."""
    if user is not scoping.SYSTEM_USER and not scoping.can_recompute_targets(user):
        raise PermissionDenied(_("Your role cannot start a recomputation."))
    if kind not in (Job.Kind.COVERAGE_RECOMPUTE, Job.Kind.COVERAGE_BACKFILL):
        raise ValidationError(_("Unknown job kind."))
    job = Job.objects.create(
        kind=kind,
        params=_job_params(kind, params or {}),
        created_by=user if getattr(user, "pk", None) else None,
    )
    return jobs.enqueue(job, countdown)


class _AfterChange:
    """Marks the transaction that has already written its recomputation request (the job
    row commits with the changes, so no request is lost; see benefits.jobs)."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self) -> None:
        pass


def coverage_recompute_soon(since: datetime.date | None = None) -> None:
    """After statuses or organisations change: recompute today's snapshots (and any stored
    day from `since` on, for back-dated changes) a little later. The request is written in
    the same transaction as the change; however many changes a transaction makes, it
    writes one."""
    since = since or rollout_today()
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _AfterChange) and _widen(callback.job, since):
            return
    job = coverage_queue_after_change(since)
    transaction.on_commit(_AfterChange(job), robust=True)


def recompute_after_change(sender=None, since: datetime.date | None = None, **kwargs) -> None:
    """Receiver of actors.signals.coverage_inputs_changed."""
    coverage_recompute_soon(since)


def _widen(job: Job, since: datetime.date) -> bool:
    """Let a still queued recomputation also cover days from `since` on."""
    earliest = min(job.params.get("since") or job.params["day"], since.isoformat())
    params = {**job.params, "since": earliest}
    # Only while it is still queued: once a worker has it, the change needs a new job.
    if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(params=params):
        job.params = params
        return True
    return False


# A queued recomputation older than this is presumed lost; later changes queue a new one.
STALE_QUEUED = datetime.timedelta(minutes=15)


def coverage_queue_after_change(since: datetime.date) -> Job:
    """Debounced: while a recomputation for today started by changes is still queued,
    later changes ride on it (widening its `since`), so a bulk change of a thousand
    statuses, or many in a row, makes one job. Returns the job that will do it."""
    today = rollout_today()
    waiting = Job.objects.filter(
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        state=Job.State.QUEUED,
        params__trigger="change",
        params__day=today.isoformat(),
        created_at__gte=timezone.now() - STALE_QUEUED,
    ).order_by("-id")
    for job in waiting:
        if _widen(job, since):
            return job
    return coverage_job_request(
        user=scoping.SYSTEM_USER,
        kind=Job.Kind.COVERAGE_RECOMPUTE,
        params={"trigger": "change", "since": since},
        countdown=settings.COVERAGE_RECOMPUTE_DELAY,
    )


def _recompute_days(job: Job, target: CoverageTarget) -> list[datetime.date]:
    """The job's day, and for changes dated in the past every stored day since then."""
    day = datetime.date.fromisoformat(job.params["day"])
    days = {day}
    if job.params.get("since"):
        since = datetime.date.fromisoformat(job.params["since"])
        days |= set(
            CoverageSnapshot.objects.filter(target=target, level=Level.NATION, day__gte=since)
            .values_list("day", flat=True)
            .distinct()
        )
    return sorted(d for d in days if d <= day)


def _job_days(job: Job, target: CoverageTarget) -> list[datetime.date]:
    if job.kind == Job.Kind.COVERAGE_RECOMPUTE:
        return _recompute_days(job, target)
    end = datetime.date.fromisoformat(job.params["end"])
    start = job.params.get("start")
    start = datetime.date.fromisoformat(start) if start else first_history_day(target)
    start = start or end
    # Checked when asked for; checked again here, as the history may have grown backwards
    # since (or the job was made without asking).
    too_long = _backfill_too_long(start, end, job.params["every"])
    if too_long:
        raise ValueError(too_long)
    return backfill_days(start, end, job.params["every"])


def coverage_job_run(job: Job) -> Job:
    """Do a queued coverage job, recording progress on the Job row as it goes. Each target
    is computed on its own: one that fails does not stop the others, and the job ends
    failed, naming the targets that failed and why. A temporary database error stops the
    job (the task puts it back in the queue to retry)."""
    from ..coverage import Structure, compute

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), finished_at=None, done=0, message=""
    )
    job.refresh_from_db()
    failed: dict[str, str] = {}

    def on_its_own(target: CoverageTarget, work):
        try:
            with transaction.atomic():
                return work()
        except jobs.TRANSIENT:
            raise
        except Exception as exc:
            log.exception("coverage job %s: target %s failed", job.pk, target.code)
            failed.setdefault(target.code, str(exc)[:300] or exc.__class__.__name__)
            return None

    try:
        targets = _job_targets(job.params)
        structure = Structure.load()
        work = []
        for target in targets:
            days = on_its_own(target, lambda target=target: _job_days(job, target)) or []
            work += [
                (target, days[i : i + BACKFILL_CHUNK_DAYS])
                for i in range(0, len(days), BACKFILL_CHUNK_DAYS)
            ]
        _job_progress(job, total=len(work))
        rows = 0
        for target, days in work:
            if target.code not in failed:
                rows += (
                    on_its_own(
                        target,
                        lambda target=target, days=days: snapshots_store(
                            target, compute(target, days, structure)
                        ),
                    )
                    or 0
                )
            _job_progress(job, done=job.done + 1)
        done = [t.code for t in targets if t.code not in failed]
        job.result = {"targets": done, "snapshots": rows, "failed": failed}
        job.finished_at = timezone.now()
        job.message = _("%(n)s snapshots for %(t)s targets.") % {"n": rows, "t": len(done)}
        job.state = Job.State.DONE
        if failed:
            job.state = Job.State.FAILED
            job.message += " " + _("Failed: %(list)s") % {
                "list": "; ".join(f"{code}: {why}" for code, why in failed.items())
            }
            job.message = job.message[:500]
        job.save(update_fields=["result", "state", "finished_at", "message"])
    except Exception as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=str(exc)[:500]
        )
        raise
    return job


def coverage_job_retrying(job_id: int, exc: Exception, countdown: float) -> None:
    """A transient error: the job goes back to the queue, saying why and when it retries."""
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        state=Job.State.QUEUED,
        finished_at=None,
        sent_at=now,
        run_after=now + datetime.timedelta(seconds=countdown),
        message=_("Retrying in %(s)s s after a temporary error: %(e)s")
        % {"s": round(countdown), "e": str(exc)[:300]},
    )


def _job_progress(job: Job, **values) -> None:
    values["heartbeat_at"] = timezone.now()  # a sign of life, also when run in-process
    for key, value in values.items():
        setattr(job, key, value)
    job.save(update_fields=list(values))


def first_history_day(*targets: CoverageTarget) -> datetime.date | None:
    """The earliest day of status history for the targets' solutions (None: no history)."""
    solutions = {target.solution_id for target in targets}
    return StatusChange.objects.filter(solution_id__in=solutions).aggregate(
        first=Min("effective_date")
    )["first"]


# --- status reports -------------------------------------------------------------------


def report_export_request(*, user, kind: str, key: str | None, since, fmt: str) -> Job:
    """Queue a status report file for the user (large reports; small ones are streamed
    directly by the views). The file is the user's alone and kept for a limited time."""
    from .. import report_files, reports

    place = reports.report_place(user, kind, key)
    if place is None:
        raise PermissionDenied(_("That report is not within your reach."))
    if fmt not in report_files.FORMATS:
        raise ValidationError({"format": _("Choose xlsx, csv or pdf.")})
    since = _param_date({"since": since}, "since", reports.default_since())
    if since > rollout_today():
        raise ValidationError({"since": _("The date cannot be in the future.")})
    job = Job.objects.create(
        kind=Job.Kind.REPORT_EXPORT,
        params={"kind": kind, "scope": place.key, "since": since.isoformat(), "format": fmt},
        created_by=user,
    )
    return jobs.enqueue(job)


def report_path(job: Job, filename: str) -> str:
    return f"reports/{job.pk}/{filename}"


def report_job_run(job: Job) -> Job:
    """Build and render a queued report as its owner sees it, and store the file."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from .. import report_files, reports

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now(), finished_at=None, done=0, message=""
    )
    job.refresh_from_db()
    try:
        user, params = job.created_by, job.params
        place = reports.report_place(user, params["kind"], params["scope"])
        if place is None:  # the user's reach changed since it was asked for
            raise PermissionDenied(_("That report is no longer within your reach."))

        def progress(done: int, total: int) -> None:
            _job_progress(job, done=done, total=total + 1)  # + rendering the file

        report = reports.build(
            user, params["kind"], place, datetime.date.fromisoformat(params["since"]), progress
        )
        fmt = params["format"]
        filename = report.filename(report_files.EXTENSIONS[fmt])
        path = default_storage.save(
            report_path(job, filename), ContentFile(report_files.render(report, fmt))
        )
        expires = timezone.now() + datetime.timedelta(hours=settings.REPORT_FILE_HOURS)
        job.result = {
            "file": path,
            "filename": filename,
            "content_type": report_files.CONTENT_TYPES[fmt],
            "expires": expires.isoformat(),
        }
        job.done, job.state, job.finished_at = job.total, Job.State.DONE, timezone.now()
        job.message = _("%(f)s is ready until %(t)s.") % {
            "f": filename,
            "t": timezone.localtime(expires).strftime("%d.%m.%Y %H:%M"),
        }
        job.save(update_fields=["result", "done", "state", "finished_at", "message"])
    except Exception as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=str(exc)[:500]
        )
        raise
    return job


def report_files_purge(now=None) -> int:
    """Delete report files past their time; the job rows stay, saying the file is gone."""
    from django.core.files.storage import default_storage

    now = now or timezone.now()
    purged = 0
    for job in Job.objects.filter(kind=Job.Kind.REPORT_EXPORT, state=Job.State.DONE):
        path, expires = job.result.get("file"), job.result.get("expires")
        if not path or not expires or datetime.datetime.fromisoformat(expires) > now:
            continue
        default_storage.delete(path)
        job.result = {**job.result, "file": None}
        job.message = _("The file was deleted after %(h)s hours.") % {
            "h": settings.REPORT_FILE_HOURS
        }
        job.save(update_fields=["result", "message"])
        purged += 1
    return purged
