"""Lists of organisations with their status for one solution (the status list, and who is
missing for a target): their sortable columns and their rows as a file, today's or, with
`as_of`, as they stood at the end of a past day."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import list_export
from actors.exports import DATE, Column
from actors.list_controls import Col

from . import selectors
from .choices import Status
from .models import Solution

COLUMNS = (
    Col(gettext_lazy("Organisation"), "name"),
    Col(gettext_lazy("Type"), "type"),
    Col(gettext_lazy("Municipality"), "municipality"),
    Col(gettext_lazy("Status")),
    Col(gettext_lazy("Since")),
    Col(gettext_lazy("Reason")),
)


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def status_fields() -> list[list_export.Field]:
    """The file's columns: the organisation, then its status, since when and why."""
    return [
        *list_export.organisation_fields(),
        list_export.Field(Column(_("Status"), width=16), "current_status", _label),
        list_export.Field(Column(_("Since"), DATE, width=12), "status_date"),
        list_export.Field(Column(_("Reason"), width=40), "status_reason"),
    ]


def export(fmt: str, stem: str, rows, solution: Solution, as_of: datetime.date | None = None):
    """Every row of `rows` (organisations annotated by `selectors.with_status`, or, with
    `as_of`, not annotated) as a file; with `as_of` the statuses come from the history,
    one query per CHUNK rows."""
    fields = status_fields()
    if not as_of:
        return list_export.queryset_response(fmt, stem, fields, rows)
    own = fields[:-3]

    def table():
        values = rows.values_list("pk", *(f.path for f in own)).iterator(list_export.CHUNK)
        for batch in list_export.batches(values):
            changes = selectors.changes_as_of(solution, as_of, [row[0] for row in batch])
            for pk, *values in batch:
                change = changes.get(pk)
                yield [
                    *values,
                    _label(change.to_status if change else Status.NOT_STARTED),
                    change.effective_date if change else None,
                    change.reason if change else "",
                ]

    return list_export.response(fmt, stem, fields, table())
