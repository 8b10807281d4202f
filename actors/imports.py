"""Import of an organisation registry from CSV (an Enhetsregisteret/Adresseregisteret
export): decode, validate every row, then write all rows or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from stdnum.no import orgnr as stdnum_orgnr

from . import scoping
from .models import HealthTrust, Municipality, Organisation, OrganisationType
from .services import organisations_write_import

REQUIRED_COLUMNS = ("organisasjonsnummer", "navn", "type", "kommunenummer")
OPTIONAL_COLUMNS = ("her_id", "helseforetak")


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def delimiter_label(self) -> str:
        return {"\t": _("tab")}.get(self.delimiter, self.delimiter)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "ignored_columns": self.ignored_columns,
            "errors": [e.__dict__ for e in self.errors],
        }


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1252 text. Save it as CSV (UTF-8).")
        ) from exc


def read_rows(
    text: str, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS
) -> tuple[list[tuple[int, dict[str, str]]], str, list[str]]:
    """Rows as (line number, {column: value}); the header is line 1."""
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None
    columns = [h.strip().lstrip("\ufeff").casefold() for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportFileError(
            _("The header row lacks the column(s) %(missing)s. Required: %(required)s.")
            % {"missing": ", ".join(missing), "required": ", ".join(required)}
        )
    ignored = [c for c in columns if c not in (*required, *optional) and c]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)}
        row["_present"] = {c for c in optional if c in columns}
        rows.append((reader.line_num, row))
    return rows, delimiter, ignored


class _Lookups:
    """Everything a row refers to, fetched once, so validation makes no per-row queries."""

    def __init__(self, orgnrs: list[str]):
        self.types: dict[str, OrganisationType] = {}
        for t in OrganisationType.objects.all():
            for name in t.lookup_names():
                self.types[name] = t
        self.type_codes = sorted(t.code for t in set(self.types.values()))
        self.municipalities = {
            m.number: m
            for m in Municipality.objects.prefetch_related(
                Prefetch("health_trusts", queryset=HealthTrust.objects.order_by("name"))
            )
        }
        self.trusts = {t.code: t for t in HealthTrust.objects.all()}
        self.existing = {
            o.orgnr: o for o in Organisation.objects.filter(orgnr__in=orgnrs).select_related()
        }


def _municipality_number(value: str) -> str:
    # Excel drops the leading zero of 0301; give it back.
    return value.zfill(4) if value.isdigit() and len(value) == 3 else value


def validate_rows(
    rows, scope: scoping.Scope, *, synthetic: bool = False
) -> tuple[list[Organisation], list[Organisation], int, list[RowError]]:
    orgnrs = [stdnum_orgnr.compact(r["organisasjonsnummer"]) for _line, r in rows]
    lookups = _Lookups(orgnrs)
    new, changed, unchanged, errors = [], [], 0, []
    first_line_of: dict[str, int] = {}

    for line, row in rows:
        row_errors: list[RowError] = []

        def error(column: str, message: str, _line=line, _errors=row_errors) -> None:
            _errors.append(RowError(_line, column, message))

        number = stdnum_orgnr.compact(row["organisasjonsnummer"])
        if not number:
            error("organisasjonsnummer", _("Organisation number is missing."))
        elif not (number.isdigit() and len(number) == 9):
            error(
                "organisasjonsnummer",
                _("“%(v)s” is not nine digits.") % {"v": row["organisasjonsnummer"]},
            )
        elif not stdnum_orgnr.is_valid(number):
            error(
                "organisasjonsnummer",
                _("“%(v)s” has a wrong check digit (mistyped?).") % {"v": number},
            )
        elif number in first_line_of:
            error(
                "organisasjonsnummer",
                _("%(v)s appears again; first on line %(line)s.")
                % {"v": number, "line": first_line_of[number]},
            )
        else:
            first_line_of[number] = line
        if not row["navn"]:
            error("navn", _("Name is missing."))
        org_type = lookups.types.get(row["type"].casefold())
        if org_type is None:
            error(
                "type",
                _("Unknown type “%(v)s”; use one of %(codes)s.")
                % {"v": row["type"], "codes": ", ".join(lookups.type_codes)},
            )
        municipality = lookups.municipalities.get(_municipality_number(row["kommunenummer"]))
        if municipality is None:
            error(
                "kommunenummer",
                _("Unknown municipality number “%(v)s”.") % {"v": row["kommunenummer"]},
            )
        her_id = None
        if row.get("her_id"):
            if row["her_id"].isdigit() and int(row["her_id"]) > 0:
                her_id = int(row["her_id"])
            else:
                error("her_id", _("HER-id must be a positive whole number."))
        trust = None
        if row.get("helseforetak"):
            trust = lookups.trusts.get(row["helseforetak"].strip().lower())
            if trust is None:
                error(
                    "helseforetak",
                    _("Unknown health trust code “%(v)s”.") % {"v": row["helseforetak"]},
                )
        if row_errors:
            errors.extend(row_errors)
            continue

        existing = lookups.existing.get(number)
        organisation = existing or Organisation(orgnr=number)
        before = _snapshot(organisation) if existing else None
        organisation.name = row["navn"]
        organisation.is_synthetic = synthetic
        organisation.type = org_type
        if existing is None or existing.municipality_id != municipality.pk:
            organisation.health_trust = None
        organisation.municipality = municipality
        if "her_id" in row["_present"]:
            organisation.her_id = her_id
        if trust is not None:
            organisation.health_trust = trust
        try:
            organisation.full_clean(
                exclude=["type", "municipality", "health_trust", "record_system"],
                validate_unique=False,
            )
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                column = {"health_trust": "helseforetak", "name": "navn"}.get(column, column)
                for message in messages:
                    error(column, message)
            errors.extend(row_errors)
            continue
        if not scope.may_edit_organisation(organisation):
            errors.append(
                RowError(
                    line,
                    "kommunenummer",
                    _("%(m)s is outside the municipalities and areas you are responsible for.")
                    % {"m": municipality},
                )
            )
            continue
        if existing is None:
            new.append(organisation)
        elif _snapshot(organisation) != before:
            changed.append(organisation)
        else:
            unchanged += 1
    return new, changed, unchanged, errors


def _snapshot(organisation: Organisation) -> tuple:
    return (
        organisation.name,
        organisation.type_id,
        organisation.municipality_id,
        organisation.health_trust_id,
        organisation.her_id,
        organisation.is_synthetic,
    )


def import_organisations(*, raw: bytes, user, dry_run: bool = False) -> ImportReport:
    """Validate every row; write all of them, or none if any row fails (or dry_run)."""
    if not scoping.can_import_organisations(user):
        raise PermissionDenied(_("Only rollout coordinators can import organisations."))
    report = ImportReport(dry_run=dry_run)
    text, report.encoding = decode(raw)
    rows, report.delimiter, report.ignored_columns = read_rows(text)
    report.rows = len(rows)
    if not rows:
        raise ImportFileError(_("The file has a header row but no organisations."))
    scope = scoping.scope_for(user)
    new, changed, report.unchanged, report.errors = validate_rows(rows, scope)
    report.created, report.updated = len(new), len(changed)
    if report.errors or dry_run:
        return report
    organisations_write_import(scope=scope, new=new, changed=changed)
    return report
