"""Every write to rollout goes through here: the UI, the API, CSV imports, bulk changes,
demo data and tasks all call the same functions, which keep the rules and the history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import HealthTrust, Organisation, User
from actors.review import ReviewWorkflow, area_coordinators
from actors.services import coverage_changed

from . import readiness
from .choices import (
    NEEDS_PREREQUISITES,
    REASON_REQUIRED,
    TRANSITIONS,
    Phase,
    PrerequisiteScope,
    Source,
    Status,
    StatusChangeKind,
    skipped_steps,
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
    return qs.first() or not_started(organisation, solution)


def not_started(organisation: Organisation, solution: Solution) -> RolloutStatus:
    """The unsaved row that stands for 'no row': not started, version 0."""
    return RolloutStatus(
        organisation=organisation,
        solution=solution,
        status=Status.NOT_STARTED,
        effective_date=datetime.date.min,
        version=0,
    )


def missing_prerequisites(
    organisation: Organisation, solution: Solution, facts: ChangeFacts | None = None
) -> list[str]:
    """Required solutions (that apply to this organisation's type) not in use here."""
    facts = facts or DatabaseFacts()
    missing = []
    for required in solution.requires.all():
        if not facts.applies(required, organisation):
            continue
        status = facts.status(organisation, required).status
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


class ChangeFacts:
    """What one status change is checked against: whether a solution applies to an
    organisation's type, the current status rows, and the history's latest entry. Read from
    the database here; an import reads them once per file (rollout.imports) and answers the
    same questions from memory, so both go through the same rules in plan_status_change."""

    def applies(self, solution: Solution, organisation: Organisation) -> bool:
        raise NotImplementedError

    def status(self, organisation: Organisation, solution: Solution) -> RolloutStatus:
        """The current row (an unsaved version-0 one when there is none)."""
        raise NotImplementedError

    def row_to_change(self, organisation: Organisation, solution: Solution) -> RolloutStatus:
        """The current row that is about to change (locked where it is read)."""
        return self.status(organisation, solution)

    def last_change(self, organisation_id: int, solution_id: int):
        """(to_status, effective_date) of the history's latest entry, or (None, None)."""
        raise NotImplementedError


class DatabaseFacts(ChangeFacts):
    def applies(self, solution, organisation):
        return solution.organisation_types.filter(pk=organisation.type_id).exists()

    def status(self, organisation, solution):
        return current_status(organisation, solution)

    def row_to_change(self, organisation, solution):
        return current_status(organisation, solution, lock=True)

    def last_change(self, organisation_id, solution_id):
        last = _last_change(organisation_id, solution_id)
        return (last.to_status, last.effective_date) if last else (None, None)


def plan_status_change(
    *,
    facts: ChangeFacts,
    scope,
    user,
    organisation: Organisation,
    solution: Solution,
    to_status: str,
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
    override_reason: str = "",
    source: str = Source.UI,
    confirm_jump: bool | None = None,
) -> tuple[RolloutStatus, list[StatusChange]]:
    """Check one change against every rule and apply it to the current row in memory.

    Returns the changed (unsaved) row and the unsaved history rows to write, in order (a
    drift correction first when one is needed). On any refusal it raises before touching
    the row. `organisation` must be the editable organisation with its type."""
    if not facts.applies(solution, organisation):
        raise ValidationError(
            _("%(solution)s does not apply to %(type)s.")
            % {"solution": solution.name, "type": organisation.type.name}
        )
    row = facts.row_to_change(organisation, solution)
    if expected_version is not None:
        check_version(row, expected_version)
    _check_transition(row, to_status, reason, effective_date)
    effective_date = effective_date or today()
    missing = (
        missing_prerequisites(organisation, solution, facts)
        if to_status in NEEDS_PREREQUISITES
        else []
    )
    override_reason = _override_to_record(to_status, missing, override_reason, scope)
    _check_jump(row.status, to_status, confirm_jump)
    changed_by = user if getattr(user, "pk", None) else None
    last_to, last_date = facts.last_change(row.organisation_id, row.solution_id)
    correction = _drift_correction(
        row=row, last_to=last_to, last_date=last_date, day=effective_date, changed_by=changed_by
    )
    before = (row.status, row.reason, row.effective_date, row.updated_by_id, row.version)
    from_status = row.status
    row.status, row.reason, row.effective_date = to_status, reason.strip(), effective_date
    row.updated_by = changed_by
    row.version += 1
    try:
        row.full_clean(exclude=["organisation", "solution", "updated_by"], validate_unique=False)
    except ValidationError:
        (row.status, row.reason, row.effective_date, row.updated_by_id, row.version) = before
        raise
    change = StatusChange(
        organisation=organisation,
        solution=solution,
        from_status=from_status,
        to_status=to_status,
        reason=row.reason,
        effective_date=effective_date,
        changed_by=changed_by,
        source=source,
        prerequisite_override=override_reason,
    )
    return row, [c for c in (correction, change) if c is not None]


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
    confirm_jump: bool | None = None,
) -> RolloutStatus:
    """Change one organisation's status for one solution and write its history row.

    `confirm_jump`: what the person answered when asked to confirm a change that skips
    steps (ikke startet → i bruk; choices.skipped_steps); the status form and the API
    ask, and False refuses such a change. None: the caller asks no one (imports, tasks).

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
        row, changes = plan_status_change(
            facts=DatabaseFacts(),
            scope=scope,
            user=user,
            organisation=organisation,
            solution=solution,
            to_status=to_status,
            reason=reason,
            effective_date=effective_date,
            expected_version=expected_version,
            override_reason=override_reason,
            source=source,
            confirm_jump=confirm_jump,
        )
        for change in changes[:-1]:
            change.save()
        row.save()
        changes[-1].save()
        coverage_changed(since=row.effective_date)
    return row


def _last_change(organisation_id: int, solution_id: int) -> StatusChange | None:
    return (
        StatusChange.objects.filter(organisation_id=organisation_id, solution_id=solution_id)
        .order_by("-effective_date", "-id")
        .only("to_status", "effective_date")
        .first()
    )


def _drift_correction(
    *, row: RolloutStatus, last_to: str | None, last_date, day: datetime.date, changed_by
) -> StatusChange | None:
    """The correction to record before a change when the current row disagrees with the
    history's last entry (None when they agree). The current row is what the user saw and
    changes from, so the history is brought to it first, on the change's own date, and the
    change then follows on from it. A change dated before the history's last entry would
    land before it in the history's order and break the chain: refused."""
    recorded = last_to or Status.NOT_STARTED
    if last_date is not None and day < last_date:
        raise ValidationError(
            {
                "effective_date": _(
                    "The history's latest change is dated %(d)s; a change cannot be dated earlier."
                )
                % {"d": last_date.strftime("%d.%m.%Y")}
            }
        )
    if recorded == row.status:
        return None
    return StatusChange(
        organisation_id=row.organisation_id,
        solution_id=row.solution_id,
        from_status=recorded,
        to_status=row.status,
        reason=_(
            "Correction before a change: the history said “%(history)s”, the current status "
            "“%(current)s” (recorded without history)."
        )
        % {"history": Status(recorded).label, "current": Status(row.status).label},
        effective_date=day,
        changed_by=changed_by,
        source=Source.SYSTEM,
        kind=StatusChangeKind.CORRECTION,
    )


def jump(from_status: str, to_status: str) -> dict | None:
    """A change forward that skips steps, described for a message (from, to, skipped), or
    None for a single step, a step back or a change off the road."""
    skipped = skipped_steps(from_status, to_status)
    if not skipped:
        return None
    return {
        "from": Status(from_status).label,
        "to": Status(to_status).label,
        "skipped": ", ".join(str(Status(s).label) for s in skipped),
    }


def _check_jump(from_status: str, to_status: str, confirm_jump: bool | None) -> None:
    """Refuse a change that skips steps unless the person confirmed it (None: not asked)."""
    skips = jump(from_status, to_status)
    if not skips or confirm_jump is not False:
        return
    raise ValidationError(
        {
            "confirm_jump": _(
                "“%(from)s” → “%(to)s” skips %(skipped)s. Confirm that the status really "
                "went straight to “%(to)s”, and give the date it did."
            )
            % skips
        }
    )


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
    allowed_only: bool = False,
):
    """Change many organisations in one step (rollout/bulk.py): every change is checked by
    the rules of status_change and writes its own history row. If any is refused, none is
    kept, unless `allowed_only`: then the allowed ones are. `dry_run` only checks. Returns
    the plan: `changed`, `unchanged`, `errors` ([(organisation, message)]), `ok`."""
    from .bulk import bulk_change

    return bulk_change(
        user=user,
        organisation_ids=organisation_ids,
        solution=solution,
        to_status=to_status,
        reason=reason,
        effective_date=effective_date,
        override_reason=override_reason,
        source=source,
        apply=not dry_run,
        allowed_only=allowed_only,
    )


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
        readiness.sync_derived(report)
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
    report. Saving a draft never refuses incomplete answers. Items that follow from a
    status the application knows are answered from it (rollout/readiness.py): what is
    sent for them is left aside, and they are asked again when the status changes back."""
    with transaction.atomic():
        report = _editable_report(user, report_id, expected_version)
        if not report.is_editable:
            raise ValidationError(
                _("The report is %(s)s and can no longer be changed.")
                % {"s": report.get_status_display().lower()}
            )
        readiness.sync_derived(report)
        rows = {a.pk: a for a in report.answers.filter(pk__in=[int(k) for k in answers])}
        changed = []
        for answer_id, values in answers.items():
            row = rows.get(int(answer_id))
            if row is None:
                raise ValidationError(_("An answer does not belong to this report."))
            if row.from_status:  # answered from the organisation's status
                continue
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


# What must be filled in before a report can be submitted, in table order, with the
# items that follow from a status answered from it.
report_problems = readiness.report_problems


class ReadinessReview(ReviewWorkflow):
    """Readiness reports: coordinators (and administrators) for the area review them; a
    report with unanswered items cannot be submitted; the area's coordinators are told
    when one waits, the municipality's contacts of the outcome."""

    model = ReadinessReport
    reviewer_roles = frozenset(OVERRIDE_ROLES)
    not_a_reviewer = gettext_lazy("Only rollout coordinators review readiness reports.")

    def problems(self, report):
        return report_problems(report)

    def submit(self, *, user, report_id: int, expected_version: int | None):
        """Submit (ReviewWorkflow.submit) and keep the answers that followed from the
        statuses at that moment: a submitted report no longer follows them."""
        with transaction.atomic():
            report = super().submit(
                user=user, report_id=report_id, expected_version=expected_version
            )
            readiness.sync_derived(report)
        return report

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
        last_entries: dict[tuple[int, int], tuple[str, datetime.date]] = {}
        for i in range(0, len(org_ids), chunk):
            ids = org_ids[i : i + chunk]
            editable = scope.filter_editable(Organisation.objects.filter(pk__in=ids))
            organisations.update(
                (o.pk, o) for o in editable.select_for_update().only("pk", "name", "type_id")
            )
            for row in RolloutStatus.objects.select_for_update().filter(organisation_id__in=ids):
                rows[(row.organisation_id, row.solution_id)] = row
            last_entries.update(last_history_entries(ids))
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
        checked: set[tuple[int, int]] = set()
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
                pair = (organisation.pk, solution.pk)
                if pair not in checked:  # the first change of a pair in the batch
                    last_to, last_date = last_entries.get(pair, (None, None))
                    correction = _drift_correction(
                        row=row,
                        last_to=last_to,
                        last_date=last_date,
                        day=effective_date,
                        changed_by=changed_by,
                    )
                    checked.add(pair)
                    if correction is not None:
                        history.append(correction)
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


def last_history_entries(organisation_ids) -> dict[tuple[int, int], tuple[str, datetime.date]]:
    """{(organisation id, solution id): (last to_status, its date)} for these organisations,
    in one query (the history's order: effective date, then id)."""
    latest = StatusChange.objects.filter(
        organisation_id=OuterRef("organisation_id"),
        solution_id=OuterRef("solution_id"),
    ).order_by("-effective_date", "-id")
    rows = (
        StatusChange.objects.filter(organisation_id__in=list(organisation_ids))
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .values_list("organisation_id", "solution_id", "to_status", "effective_date")
    )
    return {(o, s): (to, day) for o, s, to, day in rows}


# --- repairing drift (rollout/integrity.py finds it) ----------------------------------


@dataclass
class RepairResult:
    written: int = 0
    pairs: int = 0
    # (organisation id, solution id, why it was left alone)
    left: list[tuple[int, int, str]] = field(default_factory=list)


def history_corrections(
    changes: list[StatusChange], current: str, day: datetime.date
) -> tuple[list[tuple[str, str, datetime.date]], str | None]:
    """What one pair's history needs so that its chain holds and ends at the current
    status: [(from, to, date)], and why a break cannot be mended (None when it can).

    - A break in the middle (a change starts from another status than the one before it
      left): the missing change is recorded the day before the change that starts from
      it, which is the latest it can have happened; that keeps the history's order (the
      previous change is dated that day or earlier). When both changes share a day there
      is no such place: the break is left for a person to judge.
    - The end: the current status is what users see and have acted on, so the history is
      brought to it (never the other way), dated `day` (today).
    """
    corrections: list[tuple[str, str, datetime.date]] = []
    problem = None
    previous_to, previous_date = Status.NOT_STARTED, None
    for change in changes:
        if change.from_status != previous_to:
            date = change.effective_date - datetime.timedelta(days=1)
            if previous_date is not None and date < previous_date:
                problem = _(
                    "The change dated %(d)s starts from “%(found)s” although the change "
                    "before it, the same day, left “%(left)s”: no day between them to "
                    "record the missing change on."
                ) % {
                    "d": change.effective_date.strftime("%d.%m.%Y"),
                    "found": Status(change.from_status).label,
                    "left": Status(previous_to).label,
                }
            else:
                corrections.append((previous_to, change.from_status, date))
        previous_to, previous_date = change.to_status, change.effective_date
    if previous_to != current:
        corrections.append((previous_to, current, max(day, previous_date or day)))
    return corrections, problem


def status_history_repair(*, user, pairs, reason: str) -> RepairResult:
    """Bring the history of these (organisation id, solution id) pairs back in line with
    the current statuses, by adding corrections; nothing is rewritten or removed.

    Each correction is a history row with source "system", kind "korreksjon", the reason
    given, the user and its date (see `history_corrections`); the current rows are not
    touched. Afterwards the coverage figures are recomputed from the earliest correction's
    date, by the path every status change takes. Administrators only; the pairs are locked
    as status_change locks them, and re-read under the lock, so a repair never acts on a
    stale finding.
    """
    from actors.choices import Role

    scope = scoping.scope_for(user)
    if scope.role != Role.ADMIN or not scope.can_edit:
        raise PermissionDenied(_("Only administrators can repair the history."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the history is corrected.")})
    pairs = sorted({(int(o), int(s)) for o, s in pairs})
    result = RepairResult()
    if not pairs:
        return result
    changed_by = user if getattr(user, "pk", None) else None
    day = today()
    chunk = 500
    with transaction.atomic():
        org_ids = sorted({o for o, _s in pairs})
        wanted = set(pairs)
        current: dict[tuple[int, int], str] = {}
        chains: dict[tuple[int, int], list[StatusChange]] = {p: [] for p in pairs}
        for i in range(0, len(org_ids), chunk):
            ids = org_ids[i : i + chunk]
            # The same lock order as status_change: the organisations, then their rows.
            list(Organisation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            for o, s, status in (
                RolloutStatus.objects.select_for_update()
                .filter(organisation_id__in=ids)
                .values_list("organisation_id", "solution_id", "status")
            ):
                current[(o, s)] = status
            for change in (
                StatusChange.objects.filter(organisation_id__in=ids)
                .only("organisation_id", "solution_id", "from_status", "to_status",
                      "effective_date")
                .order_by("organisation_id", "solution_id", "effective_date", "id")
            ):  # fmt: skip
                key = (change.organisation_id, change.solution_id)
                if key in wanted:
                    chains[key].append(change)
        rows = []
        for pair in pairs:
            corrections, problem = history_corrections(
                chains[pair], current.get(pair, Status.NOT_STARTED), day
            )
            if problem:
                result.left.append((*pair, problem))
            if corrections:
                result.pairs += 1
            rows += [
                StatusChange(
                    organisation_id=pair[0],
                    solution_id=pair[1],
                    from_status=from_status,
                    to_status=to_status,
                    reason=reason,
                    effective_date=date,
                    changed_by=changed_by,
                    source=Source.SYSTEM,
                    kind=StatusChangeKind.CORRECTION,
                )
                for from_status, to_status, date in corrections
            ]
        StatusChange.objects.bulk_create(rows, batch_size=chunk)
        result.written = len(rows)
        if rows:
            coverage_changed(since=min(r.effective_date for r in rows))
    return result
