"""CSV import of rollout statuses: orgnr, solution, status, date, reason, and a
coordinator's written reason for overriding a missing prerequisite (`overstyring`). Every
row is checked by the same rules as a single change (services.plan_status_change), against
facts read once per file, and the accepted rows are written together; one failing row keeps
the whole file out."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.identifiers import parse_orgnr
from actors.imports import PROGRESS_EVERY, ImportReport, RowError, RowNotice
from actors.models import Organisation
from actors.services import coverage_changed, insert_rows

from . import services
from .choices import Source, Status
from .models import RolloutStatus, Solution, StatusChange

REQUIRED = ("organisasjonsnummer", "losning", "status")
OPTIONAL = ("dato", "begrunnelse", "overstyring")


def _status_lookup() -> dict[str, str]:
    names = {}
    for status in Status:
        names[status.value] = status.value
        names[str(status.label).casefold()] = status.value
        names[status.value.replace("_", " ")] = status.value
    return names


def _parse_date(value: str) -> datetime.date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


class BatchFacts(services.ChangeFacts):
    """The facts every change of a batch (the rows of one file, a bulk change) is checked
    against, read once with the touched rows locked (`lock=False`: read only, for a
    preview); each accepted change is kept here, so later ones see it (file order)."""

    def __init__(self, organisation_ids: set[int], solutions: list[Solution], lock=True):
        self.types = {s.pk: {t.pk for t in s.organisation_types.all()} for s in solutions}
        rows = RolloutStatus.objects.filter(organisation_id__in=organisation_ids)
        self.rows = {
            (r.organisation_id, r.solution_id): r
            for r in (rows.select_for_update() if lock else rows)
        }
        self.last = {}
        history = (
            StatusChange.objects.filter(organisation_id__in=organisation_ids)
            .order_by("effective_date", "id")
            .values_list("organisation_id", "solution_id", "to_status", "effective_date")
        )
        for organisation_id, solution_id, to_status, day in history.iterator(chunk_size=5000):
            self.last[organisation_id, solution_id] = (to_status, day)
        self.changed: dict[tuple[int, int], RolloutStatus] = {}
        self.history: list[StatusChange] = []

    def applies(self, solution, organisation):
        return organisation.type_id in self.types[solution.pk]

    def status(self, organisation, solution):
        key = (organisation.pk, solution.pk)
        if key not in self.rows:
            self.rows[key] = services.not_started(organisation, solution)
        return self.rows[key]

    def last_change(self, organisation_id, solution_id):
        return self.last.get((organisation_id, solution_id), (None, None))

    def keep(self, row: RolloutStatus, changes: list[StatusChange]) -> None:
        self.changed[row.organisation_id, row.solution_id] = row
        self.history.extend(changes)
        self.last[row.organisation_id, row.solution_id] = (row.status, row.effective_date)

    def write(self) -> None:
        """Write the changed rows and the history in a few statements; signal once."""
        if not self.history:
            return
        new = [r for r in self.changed.values() if r.pk is None]
        old = [r for r in self.changed.values() if r.pk is not None]
        insert_rows(RolloutStatus, new)  # COPY on PostgreSQL
        if old:
            fields = ["status", "reason", "effective_date", "version"]
            RolloutStatus.objects.bulk_update(old, fields, batch_size=1000)
            # One user changed them all, at one time: one statement, not a CASE per row.
            RolloutStatus.objects.filter(pk__in=[r.pk for r in old]).update(
                updated_by_id=old[0].updated_by_id, updated_at=timezone.now()
            )
        insert_rows(StatusChange, self.history)
        coverage_changed(since=min(c.effective_date for c in self.history))


def run_job(job):
    """A status import queued by the import page (actors.import_jobs)."""
    from actors import import_jobs

    def importer(raw, user, params, progress):
        return import_statuses(
            raw=raw, user=user, dry_run=params.get("dry_run", False), progress=progress
        )

    return import_jobs.run(job, importer)


def import_statuses(*, raw: bytes, user, dry_run: bool = False, progress=None) -> ImportReport:
    """Apply the rows in file order (so one file can carry an organisation's history);
    write everything, or nothing if any row is refused (or on a dry run). `progress(done,
    total)` is told as rows are checked."""
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot change rollout statuses."))
    report = ImportReport(dry_run=dry_run)
    rows = report.read(raw, REQUIRED, OPTIONAL)
    solutions = {
        s.code: s for s in Solution.objects.prefetch_related("organisation_types", "requires")
    }
    solutions.update({s.short_name.casefold(): s for s in solutions.values()})
    statuses = _status_lookup()
    numbers = {r["organisasjonsnummer"]: None for _line, r in rows}
    numbers = {written: parse_orgnr(written) for written in numbers}
    organisations = {
        o.orgnr: o
        for o in Organisation.objects.visible_to(user).filter(
            orgnr__in=[n.value for n in numbers.values()]
        )
    }
    with transaction.atomic():
        ids = {o.pk for o in organisations.values()}
        editable = {
            o.pk: o
            for o in scope.filter_editable(Organisation.objects.select_related("type"))
            .filter(pk__in=ids)
            .select_for_update()
        }
        facts = BatchFacts(ids, list(set(solutions.values())))
        context = (user, scope, solutions, statuses, numbers, organisations, editable, facts)
        total = report.rows + (0 if dry_run else 1)  # the rows, then writing them
        for count, (line, row) in enumerate(rows, 1):
            report.errors.extend(_apply(line, row, report, *context))
            if progress and count % PROGRESS_EVERY == 0:
                progress(count, total)
        if report.errors or dry_run:
            return report
        facts.write()
        if progress:
            progress(total, total)
    return report


def _apply(
    line, row, report, user, scope, solutions, statuses, numbers, organisations, editable, facts
) -> list[RowError]:
    errors = []
    parsed = numbers[row["organisasjonsnummer"]]
    organisation = organisations.get(parsed.value)
    if parsed.error:
        errors.append(RowError(line, "organisasjonsnummer", parsed.error))
    elif organisation is None:
        errors.append(
            RowError(
                line,
                "organisasjonsnummer",
                scoping.not_in_reach_message(row["organisasjonsnummer"]),
            )
        )
    solution = solutions.get(row["losning"].strip().casefold())
    if solution is None:
        errors.append(
            RowError(
                line,
                "losning",
                _("Unknown solution “%(v)s”; use one of %(c)s.")
                % {
                    "v": row["losning"],
                    "c": ", ".join(sorted(s.code for s in set(solutions.values()))),
                },
            )
        )
    status = statuses.get(row["status"].strip().casefold())
    if status is None:
        errors.append(
            RowError(
                line,
                "status",
                _("Unknown status “%(v)s”; use one of %(c)s.")
                % {"v": row["status"], "c": ", ".join(Status.values)},
            )
        )
    if row.get("overstyring", "").strip() and scope.role not in services.OVERRIDE_ROLES:
        errors.append(
            RowError(
                line,
                "overstyring",
                _(
                    "Only a rollout coordinator can override prerequisites; leave overstyring "
                    "empty, or ask your coordinator."
                ),
            )
        )
    day = None
    if row.get("dato"):
        try:
            day = _parse_date(row["dato"].strip())
        except ValueError:
            errors.append(RowError(line, "dato", _("Write the date as 2024-03-31 or 31.03.2024.")))
    if errors:
        return errors
    before = facts.status(organisation, solution).status
    if before == status:
        report.unchanged += 1
        return []
    if organisation.pk not in editable:
        return [RowError(line, "organisasjonsnummer", _("You cannot change this organisation."))]
    try:
        changed, history = services.plan_status_change(
            facts=facts,
            scope=scope,
            user=user,
            organisation=editable[organisation.pk],
            solution=solution,
            to_status=status,
            reason=row.get("begrunnelse", ""),
            effective_date=day,
            override_reason=row.get("overstyring", ""),
            source=Source.IMPORT,
        )
    except ValidationError as exc:
        column = {
            "to_status": "status",
            "reason": "begrunnelse",
            "effective_date": "dato",
            "override_reason": "overstyring",
        }
        items = (
            exc.message_dict.items() if hasattr(exc, "error_dict") else [("status", exc.messages)]
        )
        return [RowError(line, column.get(k, k), m) for k, ms in items for m in ms]
    facts.keep(changed, history)
    report.updated += 1
    # The file says what happened, so a change that skips steps is imported as it stands
    # (the form and the API ask to confirm it); the report names each one.
    skips = services.jump(before, status)
    if skips:
        report.notices.append(
            RowNotice(line, "status", _("“%(from)s” → “%(to)s” skips %(skipped)s.") % skips)
        )
    return []
