"""Every write to rollout goes through here: the UI, the API, CSV imports, bulk changes,
demo data and tasks all call the same functions, which keep the rules and the history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import HealthTrust, Organisation, User
from actors.review import ReviewWorkflow, area_coordinators
from actors.services import coverage_changed

from .choices import (
    NEEDS_PREREQUISITES,
    REASON_REQUIRED,
    TRANSITIONS,
    Answer,
    Phase,
    PrerequisiteScope,
    Source,
    Status,
)
from .models import (
    AreaRollout,
    PhaseChange,
    ReadinessAnswer,
    ReadinessReport,
    RolloutStatus,
    Solution,
    StatusChange,
)

OVERRIDE_ROLES = {Role.COORDINATOR, Role.ADMIN}


def today() -> datetime.date:
    return timezone.localdate()


# --- rollout status -------------------------------------------------------------------


def current_status(organisation: Organisation, solution: Solution, *, lock=False) -> RolloutStatus:
    """The stored status row, or an unsaved 'not started' one (version 0)."""
    qs = RolloutStatus.objects.filter(organisation=organisation, solution=solution)
    if lock:
        qs = qs.select_for_update()
    row = qs.first()
    if row is None:
        row = RolloutStatus(
            organisation=organisation,
            solution=solution,
            status=Status.NOT_STARTED,
            effective_date=datetime.date.min,
            version=0,
        )
    return row


def missing_prerequisites(organisation: Organisation, solution: Solution) -> list[str]:
    """Required solutions (that apply to this organisation's type) not in use here."""
    missing = []
    for required in solution.requires.all():
        if not required.organisation_types.filter(pk=organisation.type_id).exists():
            continue
        status = current_status(organisation, required).status
        if status != Status.IN_USE:
            missing.append(_missing_message(required, organisation, status))
    return missing


def _missing_message(required: Solution, organisation: Organisation, status: str) -> str:
    return _("%(solution)s is not in use at %(org)s (status: %(status)s).") % {
        "solution": required.name,
        "org": organisation.name,
        "status": Status(status).label,
    }


def _override_to_record(to_status: str, missing: list[str], override_reason: str, scope) -> str:
    """Refuse a change whose prerequisites are unmet unless a coordinator overrides it with
    a reason; return the override reason to keep in the history ('' when none was needed)."""
    override_reason = override_reason.strip()
    if to_status not in NEEDS_PREREQUISITES or not missing:
        return ""
    if not override_reason:
        raise ValidationError(
            {
                "to_status": [
                    *missing,
                    _(
                        "A rollout coordinator can let the change through with a written "
                        "reason for the override."
                    ),
                ]
            }
        )
    if scope.role not in OVERRIDE_ROLES:
        raise ValidationError(
            {"override_reason": _("Only a rollout coordinator can override prerequisites.")}
        )
    return override_reason


def status_change(
    *,
    user,
    organisation: Organisation,
    solution: Solution,
    to_status: str,
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
    override_reason: str = "",
    source: str = Source.UI,
) -> RolloutStatus:
    """Change one organisation's status for one solution and write its history row.

    Raises ValidationError (with the rule that failed), VersionConflict (someone changed it
    since `expected_version`) or Organisation.DoesNotExist (outside the user's scope).
    """
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot change rollout statuses."))
    with transaction.atomic():
        organisation = (
            scope.filter_editable(Organisation.objects.select_related("type"))
            .select_for_update()
            .get(pk=organisation.pk)
        )
        if not solution.organisation_types.filter(pk=organisation.type_id).exists():
            raise ValidationError(
                _("%(solution)s does not apply to %(type)s.")
                % {"solution": solution.name, "type": organisation.type.name}
            )
        row = current_status(organisation, solution, lock=True)
        if expected_version is not None:
            check_version(row, expected_version)
        _check_transition(row, to_status, reason, effective_date)
        effective_date = effective_date or today()
        missing = (
            missing_prerequisites(organisation, solution)
            if to_status in NEEDS_PREREQUISITES
            else []
        )
        override_reason = _override_to_record(to_status, missing, override_reason, scope)
        from_status = row.status
        row.status, row.reason, row.effective_date = to_status, reason.strip(), effective_date
        row.updated_by = user if getattr(user, "pk", None) else None
        row.version += 1
        row.full_clean(exclude=["organisation", "solution", "updated_by"], validate_unique=False)
        row.save()
        StatusChange.objects.create(
            organisation=organisation,
            solution=solution,
            from_status=from_status,
            to_status=to_status,
            reason=row.reason,
            effective_date=effective_date,
            changed_by=row.updated_by,
            source=source,
            prerequisite_override=override_reason,
        )
        coverage_changed(since=effective_date)
    return row


def _check_transition(row: RolloutStatus, to_status, reason, effective_date) -> None:
    errors: dict[str, list[str]] = {}
    if to_status not in Status.values:
        errors["to_status"] = [_("Unknown status “%(s)s”.") % {"s": to_status}]
    elif to_status == row.status:
        errors["to_status"] = [_("The status is already “%(s)s”.") % {"s": Status(to_status).label}]
    elif to_status not in TRANSITIONS[row.status]:
        allowed = ", ".join(str(Status(s).label) for s in Status if s in TRANSITIONS[row.status])
        errors["to_status"] = [
            _("“%(from)s” cannot change to “%(to)s”. Possible: %(allowed)s.")
            % {"from": Status(row.status).label, "to": Status(to_status).label, "allowed": allowed}
        ]
    if to_status in REASON_REQUIRED and not reason.strip():
        errors["reason"] = [_("Say why the status is “%(s)s”.") % {"s": Status(to_status).label}]
    if effective_date is not None:
        if effective_date > today():
            errors["effective_date"] = [_("The date cannot be in the future.")]
        elif row.version and effective_date < row.effective_date:
            errors["effective_date"] = [
                _("The current status is dated %(d)s; a change cannot be dated earlier.")
                % {"d": row.effective_date.strftime("%d.%m.%Y")}
            ]
    if errors:
        raise ValidationError(errors)


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[Organisation, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def statuses_bulk_change(
    *,
    user,
    organisation_ids: list[int],
    solution: Solution,
    to_status: str,
    reason: str = "",
    effective_date: datetime.date | None = None,
    override_reason: str = "",
    source: str = Source.UI,
    dry_run: bool = False,
) -> BulkResult:
    """Change many organisations in one step: every change goes through status_change and
    writes its own history row; if any is refused, none is kept."""
    result = BulkResult()
    organisations = list(
        Organisation.objects.editable_by(user).filter(pk__in=organisation_ids).order_by("name")
    )
    if len(organisations) != len(set(organisation_ids)):
        raise Organisation.DoesNotExist(_("Some organisations are outside your scope."))
    with transaction.atomic():
        for organisation in organisations:
            if current_status(organisation, solution).status == to_status:
                result.unchanged += 1
                continue
            try:
                with transaction.atomic():
                    status_change(
                        user=user,
                        organisation=organisation,
                        solution=solution,
                        to_status=to_status,
                        reason=reason,
                        effective_date=effective_date,
                        override_reason=override_reason,
                        source=source,
                    )
                result.changed += 1
            except ValidationError as exc:
                result.errors.append((organisation, " ".join(exc.messages)))
        if result.errors or dry_run:
            transaction.set_rollback(True)
    return result


# --- phases and areas -----------------------------------------------------------------


def _require_coordinator(user, trust: HealthTrust | None = None) -> None:
    scope = scoping.scope_for(user)
    if scope.role not in OVERRIDE_ROLES or not scope.can_edit:
        raise PermissionDenied(_("Only rollout coordinators can change phases and areas."))
    if trust is not None and not scope.filter_editable(HealthTrust.objects.filter(pk=trust.pk)):
        raise PermissionDenied(_("This area is not one of yours."))
    if trust is None and not scope.edits_all:
        raise PermissionDenied(_("Only national coordinators can change a national phase."))


def solution_phase_change(
    *, user, solution: Solution, to_phase: str, note: str = "", expected_version: int | None
) -> Solution:
    _require_coordinator(user)
    with transaction.atomic():
        solution = Solution.objects.select_for_update().get(pk=solution.pk)
        check_version(solution, expected_version)
        if to_phase not in Phase.values:
            raise ValidationError({"national_phase": _("Unknown phase.")})
        if to_phase != solution.national_phase:
            PhaseChange.objects.create(
                solution=solution,
                from_phase=solution.national_phase,
                to_phase=to_phase,
                note=note,
                changed_by=user if getattr(user, "pk", None) else None,
            )
            solution.national_phase = to_phase
            solution.version += 1
            solution.save(update_fields=["national_phase", "version"])
    return solution


def area_rollout_for(solution: Solution, trust: HealthTrust) -> AreaRollout:
    """The stored area rollout, or an unsaved one in planning (version 0)."""
    return AreaRollout.objects.filter(solution=solution, health_trust=trust).first() or AreaRollout(
        solution=solution, health_trust=trust, version=0
    )


AREA_FIELDS = (
    "phase",
    "planned_start",
    "actual_start",
    "decision_date",
    "decision_reference",
    "decision_note",
)


def area_rollout_update(
    *, user, solution: Solution, health_trust: HealthTrust, expected_version: int | None, **fields
) -> AreaRollout:
    """Record an area's phase, plan and the programme board's start decision."""
    unknown = set(fields) - set(AREA_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    if not solution.area_wise:
        raise ValidationError(_("%(s)s is not rolled out area by area.") % {"s": solution.name})
    _require_coordinator(user, health_trust)
    with transaction.atomic():
        area = (
            AreaRollout.objects.select_for_update()
            .filter(solution=solution, health_trust=health_trust)
            .first()
        ) or AreaRollout(solution=solution, health_trust=health_trust, version=0)
        check_version(area, expected_version)
        before = area.phase if area.pk else Phase.PLANNING
        for name, value in fields.items():
            setattr(area, name, value)
        if area.phase in (Phase.LIMITED_ROLLOUT, Phase.NATIONAL_ROLLOUT) and not area.decision_date:
            raise ValidationError(
                {
                    "decision_date": _(
                        "An area starts on the programme board's decision: give its date."
                    )
                }
            )
        area.version += 1
        area.full_clean(exclude=["solution", "health_trust"], validate_unique=False)
        area.save()
        if area.phase != before or area.version == 1:
            PhaseChange.objects.create(
                solution=solution,
                health_trust=health_trust,
                from_phase=before,
                to_phase=area.phase,
                note=area.decision_note,
                changed_by=user if getattr(user, "pk", None) else None,
            )
    return area


# --- readiness reports ----------------------------------------------------------------


def can_write_reports(user) -> bool:
    scope = scoping.scope_for(user)
    return scope.can_edit and scope.role in (Role.MUNICIPALITY_CONTACT, *OVERRIDE_ROLES)


def report_create(*, user, solution: Solution, municipality) -> ReadinessReport:
    """Open a readiness report for a municipality, with a blank answer for every item
    and every organisation it applies to."""
    if not can_write_reports(user):
        raise PermissionDenied(_("Your role cannot write readiness reports."))
    from actors.models import Municipality

    with transaction.atomic():
        municipality = Municipality.objects.editable_by(user).filter(pk=municipality.pk).first()
        if municipality is None:
            raise ValidationError(
                {
                    "municipality": _(
                        "You can only report for the municipalities you are responsible for."
                    )
                }
            )
        report = ReadinessReport.objects.create(
            solution=solution, municipality=municipality, created_by=user
        )
        organisations = list(
            Organisation.objects.filter(
                municipality=municipality,
                is_active=True,
                type__in=solution.organisation_types.all(),
            )
        )
        answers = []
        for prerequisite in solution.prerequisites.all():
            if prerequisite.scope == PrerequisiteScope.AREA:
                answers.append(ReadinessAnswer(report=report, prerequisite=prerequisite))
            else:
                answers.extend(
                    ReadinessAnswer(report=report, prerequisite=prerequisite, organisation=o)
                    for o in organisations
                )
        ReadinessAnswer.objects.bulk_create(answers)
    return report


def _editable_report(user, report_id: int, expected_version) -> ReadinessReport:
    report = (
        ReadinessReport.objects.editable_by(user)
        .select_for_update()
        .select_related("solution", "municipality")
        .get(pk=report_id)
    )
    check_version(report, expected_version)
    return report


def report_save_answers(
    *, user, report_id: int, expected_version: int | None, answers: dict[int, dict]
) -> ReadinessReport:
    """Save answers {answer id: {answer, comment, expected_date}} of a draft or returned
    report. Saving a draft never refuses incomplete answers."""
    with transaction.atomic():
        report = _editable_report(user, report_id, expected_version)
        if not report.is_editable:
            raise ValidationError(
                _("The report is %(s)s and can no longer be changed.")
                % {"s": report.get_status_display().lower()}
            )
        rows = {a.pk: a for a in report.answers.all()}
        changed = []
        for answer_id, values in answers.items():
            row = rows.get(int(answer_id))
            if row is None:
                raise ValidationError(_("An answer does not belong to this report."))
            # Only what is sent changes; the rest keeps its saved value.
            if "answer" in values:
                row.answer = values["answer"] or ""
            if "comment" in values:
                row.comment = (values["comment"] or "").strip()
            if "expected_date" in values:
                row.expected_date = values["expected_date"] or None
            changed.append(row)
        ReadinessAnswer.objects.bulk_update(changed, ["answer", "comment", "expected_date"])
        report.version += 1
        report.save(update_fields=["version", "updated_at"])
    return report


def report_problems(report: ReadinessReport) -> list[str]:
    """What must be filled in before the report can be submitted."""
    problems = []
    for a in report.answers.select_related("prerequisite", "organisation"):
        where = a.organisation.name if a.organisation else _("the area")
        if not a.answer:
            problems.append(
                _("%(where)s: “%(item)s” is not answered.")
                % {"where": where, "item": a.prerequisite.text}
            )
        elif a.answer == Answer.NOT_READY and not a.expected_date:
            problems.append(
                _("%(where)s: “%(item)s” is not ready – give the date you expect it to be.")
                % {"where": where, "item": a.prerequisite.text}
            )
    return problems


class ReadinessReview(ReviewWorkflow):
    """Readiness reports: coordinators (and administrators) for the area review them; a
    report with unanswered items cannot be submitted; the area's coordinators are told
    when one waits, the municipality's contacts of the outcome."""

    model = ReadinessReport
    reviewer_roles = frozenset(OVERRIDE_ROLES)
    not_a_reviewer = gettext_lazy("Only rollout coordinators review readiness reports.")

    def problems(self, report):
        return report_problems(report)

    def reviewers(self, report):
        return area_coordinators(report.municipality)

    def submitted_text(self, report):
        return _("Readiness report for %(s)s from %(m)s is waiting for review.") % {
            "s": report.solution.short_name,
            "m": report.municipality.name,
        }

    def reporters(self, report):
        contacts = User.objects.filter(
            role=Role.MUNICIPALITY_CONTACT, municipalities=report.municipality
        )
        return [*super().reporters(report), *contacts]

    def reviewed_text(self, report, verdict):
        return _("Your readiness report for %(s)s (%(m)s) was %(v)s.") % {
            "s": report.solution.short_name,
            "m": report.municipality.name,
            "v": verdict,
        }


READINESS_REVIEW = ReadinessReview()
# Send a report for review; approve it or return it with a comment (actors/review.py).
report_submit = READINESS_REVIEW.submit
report_review = READINESS_REVIEW.review


# --- bulk history (demo data, history imports) ----------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One change for status_history_load (the arguments of status_change, by id)."""

    organisation_id: int
    solution_id: int
    to_status: str
    effective_date: datetime.date | None = None
    reason: str = ""
    override_reason: str = ""


def status_history_load(*, user, changes, source: str = Source.SYSTEM) -> int:
    """Apply many status changes, in the order given, under the rules of status_change:
    the user's scope, the solution applies to the type, TRANSITIONS, reasons, no future
    date, never earlier than the current status date, and the prerequisites as they stand
    at that point of the batch (overrides only by coordinators). Writes one StatusChange
    per change.

    For thousands of changes (a history, demo data): validated in memory and written with
    bulk inserts in one transaction. If any change is refused, nothing is written and one
    ValidationError lists the refusals. Give a history in chronological order. Returns the
    number of changes written.
    """
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot change rollout statuses."))
    changes = list(changes)
    if not changes:
        return 0
    from actors.models import OrganisationType

    solutions = {
        s.pk: s
        for s in Solution.objects.prefetch_related(
            "organisation_types", "requires__organisation_types"
        )
    }
    applies = {pk: {t.pk for t in s.organisation_types.all()} for pk, s in solutions.items()}
    requires = {
        pk: [(r, {t.pk for t in r.organisation_types.all()}) for r in s.requires.all()]
        for pk, s in solutions.items()
    }
    type_names = dict(OrganisationType.objects.values_list("pk", "name"))
    changed_by = user if getattr(user, "pk", None) else None
    chunk = 500
    with transaction.atomic():
        org_ids = sorted({c.organisation_id for c in changes})
        organisations: dict[int, Organisation] = {}
        rows: dict[tuple[int, int], RolloutStatus] = {}
        for i in range(0, len(org_ids), chunk):
            ids = org_ids[i : i + chunk]
            editable = scope.filter_editable(Organisation.objects.filter(pk__in=ids))
            organisations.update(
                (o.pk, o) for o in editable.select_for_update().only("pk", "name", "type_id")
            )
            for row in RolloutStatus.objects.select_for_update().filter(organisation_id__in=ids):
                rows[(row.organisation_id, row.solution_id)] = row
        if len(organisations) != len(org_ids):
            raise Organisation.DoesNotExist(_("Some organisations are outside your scope."))

        def state(org_id: int, solution_id: int) -> RolloutStatus:
            row = rows.get((org_id, solution_id))
            if row is None:  # as current_status: an unsaved 'not started' row
                row = rows[(org_id, solution_id)] = RolloutStatus(
                    organisation_id=org_id,
                    solution_id=solution_id,
                    status=Status.NOT_STARTED,
                    effective_date=datetime.date.min,
                    version=0,
                )
            return row

        errors: list[str] = []
        touched: dict[tuple[int, int], RolloutStatus] = {}
        history: list[StatusChange] = []
        for number, change in enumerate(changes, start=1):
            organisation = organisations[change.organisation_id]
            solution = solutions.get(change.solution_id)
            try:
                if solution is None:
                    raise ValidationError(_("Unknown solution."))
                if organisation.type_id not in applies[solution.pk]:
                    raise ValidationError(
                        _("%(solution)s does not apply to %(type)s.")
                        % {"solution": solution.name, "type": type_names[organisation.type_id]}
                    )
                row = state(organisation.pk, solution.pk)
                _check_transition(row, change.to_status, change.reason, change.effective_date)
                effective_date = change.effective_date or today()
                missing = [
                    _missing_message(
                        required, organisation, state(organisation.pk, required.pk).status
                    )
                    for required, types in requires[solution.pk]
                    if change.to_status in NEEDS_PREREQUISITES
                    and organisation.type_id in types
                    and state(organisation.pk, required.pk).status != Status.IN_USE
                ]
                override_reason = _override_to_record(
                    change.to_status, missing, change.override_reason, scope
                )
            except ValidationError as exc:
                label = solution.short_name if solution else change.solution_id
                errors.append(f"#{number} {organisation.name} / {label}: {' '.join(exc.messages)}")
                continue
            from_status = row.status
            row.status, row.reason = change.to_status, change.reason.strip()
            row.effective_date, row.updated_by = effective_date, changed_by
            row.version += 1
            touched[(organisation.pk, solution.pk)] = row
            history.append(
                StatusChange(
                    organisation_id=organisation.pk,
                    solution_id=solution.pk,
                    from_status=from_status,
                    to_status=change.to_status,
                    reason=row.reason,
                    effective_date=effective_date,
                    changed_by=changed_by,
                    source=source,
                    prerequisite_override=override_reason,
                )
            )
        if errors:
            shown = errors[:50]
            if len(errors) > len(shown):
                shown.append(_("… and %(n)s more.") % {"n": len(errors) - len(shown)})
            raise ValidationError(shown)
        now = timezone.now()
        new, stored = [], []
        for row in touched.values():
            row.full_clean(
                exclude=["organisation", "solution", "updated_by"],
                validate_unique=False,
                validate_constraints=False,
            )
            row.updated_at = now
            (stored if row.pk else new).append(row)
        RolloutStatus.objects.bulk_create(new, batch_size=chunk)
        RolloutStatus.objects.bulk_update(
            stored,
            ["status", "reason", "effective_date", "version", "updated_by", "updated_at"],
            batch_size=chunk,
        )
        StatusChange.objects.bulk_create(history, batch_size=chunk)
        coverage_changed(since=min(h.effective_date for h in history))
    return len(history)
