"""CSV import of rollout statuses: orgnr, solution, status, date, reason, and a
coordinator's written reason for overriding a missing prerequisite (`overstyring`). Every
row goes through the same status service; one failing row keeps the whole file out."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from actors import scoping
from actors.identifiers import parse_orgnr
from actors.imports import ImportReport, RowError
from actors.models import Organisation

from . import services
from .choices import Source, Status
from .models import Solution

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


class _Rollback(Exception):
    pass


def import_statuses(*, raw: bytes, user, dry_run: bool = False) -> ImportReport:
    """Apply the rows in file order (so one file can carry an organisation's history);
    write everything, or nothing if any row is refused (or on a dry run)."""
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot change rollout statuses."))
    report = ImportReport(dry_run=dry_run)
    rows = report.read(raw, REQUIRED, OPTIONAL)
    solutions = {s.code: s for s in Solution.objects.all()}
    solutions.update({s.short_name.casefold(): s for s in solutions.values()})
    statuses = _status_lookup()
    numbers = [parse_orgnr(r["organisasjonsnummer"]).value for _line, r in rows]
    organisations = {
        o.orgnr: o for o in Organisation.objects.visible_to(user).filter(orgnr__in=numbers)
    }
    try:
        with transaction.atomic():
            for line, row in rows:
                errors = _apply(line, row, user, solutions, statuses, organisations, report)
                report.errors.extend(errors)
            if report.errors or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report


def _apply(line, row, user, solutions, statuses, organisations, report) -> list[RowError]:
    errors = []
    parsed = parse_orgnr(row["organisasjonsnummer"])
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
    if (
        row.get("overstyring", "").strip()
        and scoping.scope_for(user).role not in services.OVERRIDE_ROLES
    ):
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
    if services.current_status(organisation, solution).status == status:
        report.unchanged += 1
        return []
    try:
        with transaction.atomic():
            services.status_change(
                user=user,
                organisation=organisation,
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
    except Organisation.DoesNotExist:
        return [RowError(line, "organisasjonsnummer", _("You cannot change this organisation."))]
    report.updated += 1
    return []
