"""A list of organisations as a CSV or XLSX file: every row that matches the list's
filters (the queryset the page shows, so within the user's scope), read as plain values
in chunks and written through actors.exports as it is read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import exports
from .exports import Column

CHUNK = 2000  # rows read from the database at a time


@dataclass(frozen=True)
class Field:
    """A column of the file: its header and kind, the value's path on the queryset's
    rows, and how a value is shown (e.g. a status code as its label)."""

    column: Column
    path: str
    show: Callable | None = None


def organisation_fields() -> list[Field]:
    """The columns that say which organisation a row is (every list's first ones)."""
    return [
        Field(Column(_("Name"), width=40), "name"),
        Field(Column(_("Organisation number"), width=14), "orgnr"),
        Field(Column(_("Type"), width=25), "type__name"),
        Field(Column(_("Municipality number"), width=10), "municipality__number"),
        Field(Column(_("Municipality"), width=20), "municipality__name"),
        Field(Column(_("Health-trust area"), width=20), "health_trust__short_name"),
    ]


def rows(queryset, fields: Sequence[Field]) -> Iterator[list]:
    """The queryset's rows as the fields' values, read CHUNK at a time (values, not
    model objects)."""
    shown = [f.show for f in fields]
    values = queryset.values_list(*(f.path for f in fields)).iterator(chunk_size=CHUNK)
    for row in values:
        yield [show(v) if show else v for show, v in zip(shown, row, strict=True)]


def batches(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    """`items` in lists of at most `size`."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def response(fmt: str, stem: str, fields: Sequence[Field], table: Iterable[Sequence]):
    """The file `<stem>-<today>.<fmt>` of `table` (rows in the fields' order)."""
    return exports.table_stream_response(stem, [f.column for f in fields], table, fmt)


def queryset_response(fmt: str, stem: str, fields: Sequence[Field], queryset):
    """The file of every row of `queryset`, in its order."""
    return response(fmt, stem, fields, rows(queryset, fields))
