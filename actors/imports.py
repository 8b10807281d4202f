"""Import of an organisation registry from CSV (an Enhetsregisteret/Adresseregisteret
export): decode, validate every row, then write all rows or none."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from . import scoping
from .enhetsregisteret import is_register_csv, looks_like_json
from .identifiers import parse_orgnr, spreadsheet_damage
from .models import HealthTrust, Municipality, Organisation, OrganisationChange, OrganisationType
from .numbers import MunicipalityNumbers
from .register_import import Limits, RegisterRead, disappeared, read_register
from .services import (
    OrganisationWrite,
    RegistryRow,
    RegistryTexts,
    RowWrite,
    organisations_write_import,
)
from .tabular import (  # noqa: F401 (re-exported)
    FileRows,
    ImportFileError,
    decode,
    read_rows,
    read_table,
)

REQUIRED_COLUMNS = ("organisasjonsnummer", "navn", "type", "kommunenummer")
OPTIONAL_COLUMNS = ("her_id", "helseforetak", "syntetisk")
YES = {"ja", "j", "yes", "y", "true", "1", "x"}
NO = {"nei", "n", "no", "false", "0"}


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class RowNotice:
    """Something an import accepted but mapped, said in the report (an earlier
    municipality number read as today's)."""

    line: int
    column: str
    message: str


@dataclass
class RowChange:
    """What an import row changes in an existing organisation, field by field."""

    line: int
    orgnr: str
    name: str
    changes: list[OrganisationChange]
    reason: str = ""  # why it is deactivated

    @property
    def moved(self) -> bool:
        return any(c.kind == OrganisationChange.Kind.MOVE for c in self.changes)

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "orgnr": self.orgnr,
            "name": self.name,
            "moved": self.moved,
            "changes": [
                {
                    "field": c.field,
                    "kind": c.kind,
                    "old": c.old_value,
                    "new": c.new_value,
                    # what the report shows (a job keeps it as the page would show it)
                    "field_label": c.field_label,
                    "old_display": str(c.old_display),
                    "new_display": str(c.new_display),
                }
                for c in self.changes
            ],
            "reason": self.reason,
        }


@dataclass
class NewRow:
    orgnr: str
    name: str
    type: str
    municipality: str


PROGRESS_EVERY = 2000  # rows between two progress reports
MAX_LISTED = 500  # rows listed per section of a report (the counts are always whole)


@dataclass
class ImportReport:
    dry_run: bool
    source: str = ""  # stored as the reason of every change
    format: str = ""  # what the file was read as
    register: RegisterRead | None = None  # an Enhetsregisteret extract's counts
    new: list[NewRow] = field(default_factory=list)
    deactivated: list[RowChange] = field(default_factory=list)
    not_found: int = 0  # HER-id rows whose organisation is not in the user's registry
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)  # the first MAX_LISTED
    moved: int = 0  # changed organisations that move to another municipality or area
    notices: list[RowNotice] = field(default_factory=list)
    lines: int = 0  # physical lines: the header, the rows, blank lines
    blank_lines: int = 0
    spanning_rows: int = 0

    def read(self, raw: bytes, required, optional=()) -> FileRows:
        """Decode and read the file into the report (encoding, separator, line counts);
        the rows (read again on each pass, never all held at once), or ImportFileError
        when there are none."""
        text, self.encoding = decode(raw)
        rows = FileRows(text, required, optional)
        table = rows.reader
        self.delimiter, self.ignored_columns = table.delimiter, table.ignored
        self.lines, self.blank_lines = table.lines, table.blank_lines
        self.spanning_rows = table.spanning_rows
        self.rows = len(rows)
        if not self.rows:
            raise ImportFileError(_("The file has a header row but no rows: nothing was imported."))
        return rows

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
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "errors": [e.__dict__ for e in self.errors],
            "notices": [n.__dict__ for n in self.notices],
            "changes": [c.as_dict() for c in self.changes],
            "format": self.format,
            "source": self.source,
            "new": [n.__dict__ for n in self.new],
            "deactivated": [c.as_dict() for c in self.deactivated],
            "not_found": self.not_found,
            "skipped": self.skipped(),
            "ok": self.ok,
            "moved": self.moved,
            "register": self.register is not None,
            "delimiter_label": str(self.delimiter_label),
        }

    def skipped(self) -> dict:
        """What an Enhetsregisteret extract held that was not imported, counted."""
        if self.register is None:
            return {}
        r = self.register
        return {
            "not_tracked": sum(r.unmapped.values()),
            "not_tracked_codes": dict(r.unmapped.most_common(10)),
            "outside_limits": r.outside_limits,
            "closed_not_in_registry": r.closed_unknown,
            "needs_area": [
                {"line": line, "orgnr": orgnr, "name": name, "municipality": m}
                for line, orgnr, name, m in r.needs_area
            ],
        }


class _Lookups:
    """Everything a row refers to, fetched once, so validation makes no per-row queries.
    Existing organisations are read as RegistryRows (values, no model instances)."""

    def __init__(self, orgnrs: list[str], *, lock: bool = False):
        self.types: dict[str, OrganisationType] = {}
        for t in OrganisationType.objects.all():
            for name in t.lookup_names():
                self.types[name] = t
        self.type_codes = sorted(t.code for t in set(self.types.values()))
        self.municipalities = MunicipalityNumbers(
            Municipality.objects.prefetch_related(
                Prefetch("health_trusts", queryset=HealthTrust.objects.order_by("name"))
            )
        )
        self.trusts: dict[str, HealthTrust] = {}
        self.trusts_by_pk: dict[int, HealthTrust] = {}
        for t in HealthTrust.objects.all():
            self.trusts_by_pk[t.pk] = t
            for key in (t.code, t.short_name, t.name):
                self.trusts[key.casefold()] = t
        self.trust_rule: dict[tuple, tuple] = {}
        self.existing: dict[str, RegistryRow] = {}
        wanted = sorted(set(orgnrs) - {""})
        for start in range(0, len(wanted), 10000):
            found = Organisation.objects.filter(orgnr__in=wanted[start : start + 10000])
            if lock:  # the rows the import will write stay as they were read
                found = found.select_for_update()
            for values in found.order_by().values_list(*RegistryRow.COLUMNS).iterator(2000):
                row = RegistryRow(*values)
                self.existing[row.orgnr] = row

    def health_trust(self, municipality, trust) -> tuple[int | None, list[str]]:
        """(the area, errors) by the model's own rule (Organisation.clean), asked once per
        municipality and given area rather than once per row."""
        key = (municipality.pk, trust.pk if trust else None)
        if key not in self.trust_rule:
            probe = Organisation(name="-", municipality=municipality, health_trust=trust)
            try:
                probe.clean()
                self.trust_rule[key] = (probe.health_trust_id, [])
            except ValidationError as exc:
                self.trust_rule[key] = (None, exc.message_dict.get("health_trust", exc.messages))
        return self.trust_rule[key]

    def trust(self, text: str) -> HealthTrust | None:
        """A health trust by its code, short name or name, in any case."""
        return self.trusts.get(" ".join(text.split()).casefold())

    def unknown_trust(self, text: str, municipality) -> str:
        """The refusal, listing the trusts valid for the row's municipality (all when the
        municipality is unknown)."""
        trusts = (
            list(municipality.health_trusts.all())
            if municipality is not None
            else sorted(set(self.trusts.values()), key=lambda t: t.name)
        )
        choices = ", ".join(f"{t.code} ({t.short_name})" for t in trusts)
        if municipality is not None:
            return _("Unknown health trust “%(v)s”; for %(m)s write one of %(c)s.") % {
                "v": text,
                "m": municipality,
                "c": choices,
            }
        return _("Unknown health trust “%(v)s”; write one of %(c)s.") % {"v": text, "c": choices}


# The model's fields whose own checks (length, range) a row's values go through.
MODEL_FIELDS = {
    "navn": Organisation._meta.get_field("name"),
    "her_id": Organisation._meta.get_field("her_id"),
}

# Where the scope rule's complaints go in the file.
_RULE_COLUMNS = {"orgnr": "organisasjonsnummer", "municipality": "kommunenummer"}


def _rule_errors(line: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(line, _RULE_COLUMNS.get(key, key), message)
        for key, messages in exc.message_dict.items()
        for message in messages
    ]


def validate_rows(
    rows,
    scope: scoping.Scope,
    *,
    synthetic: bool | None = None,
    notices: list | None = None,
    lock: bool = False,
    progress=None,
) -> tuple[list[RegistryRow], list[RowWrite], int, list[RowError]]:
    """Check every row against the registry and the user's scope. Returns the new
    organisations, the changed ones (with what they were), the count of unchanged rows and
    the errors. `synthetic` forces the synthetic flag (demo data); otherwise it changes only
    where the file has a `syntetisk` column with a value."""
    orgnrs = [parse_orgnr(r["organisasjonsnummer"]).value for _line, r in rows]
    lookups = _Lookups(orgnrs, lock=lock)
    del orgnrs
    new, changed, unchanged, errors = [], [], 0, []
    notices = [] if notices is None else notices  # mapped numbers (RowNotice)
    first_line_of: dict[str, int] = {}

    for count, (line, row) in enumerate(rows, 1):
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
        row_errors: list[RowError] = []

        def error(column: str, message: str, _line=line, _errors=row_errors) -> None:
            _errors.append(RowError(_line, column, message))

        parsed = parse_orgnr(row["organisasjonsnummer"])
        number = parsed.value
        existing = None
        if parsed.error:
            error("organisasjonsnummer", parsed.error)
        elif number in first_line_of:
            error(
                "organisasjonsnummer",
                _("%(v)s appears again; first on line %(line)s.")
                % {"v": number, "line": first_line_of[number]},
            )
        else:
            first_line_of[number] = line
            if parsed.changed:
                notices.append(
                    RowNotice(
                        line,
                        "organisasjonsnummer",
                        _("“%(v)s” read as %(n)s") % {"v": row["organisasjonsnummer"], "n": number},
                    )
                )
            existing = lookups.existing.get(number)
            if existing is not None:
                # Out of reach answers as unknown, before anything else could tell it exists.
                try:
                    scoping.check_organisation_write(scope, scoping.Place.of(existing), existing)
                except ValidationError as exc:
                    row_errors.extend(_rule_errors(line, exc))
        name = " ".join(row["navn"].split())  # no line breaks, tabs or double spaces
        if not name:
            error("navn", _("Name is missing."))
        elif name != row["navn"]:
            notices.append(
                RowNotice(
                    line,
                    "navn",
                    _("Line breaks and extra spaces removed from the name: “%(n)s”") % {"n": name},
                )
            )
        org_type = lookups.types.get(row["type"].casefold())
        if org_type is None:
            error(
                "type",
                _("Unknown type “%(v)s”; use one of %(codes)s.")
                % {"v": row["type"], "codes": ", ".join(lookups.type_codes)},
            )
        place = lookups.municipalities.resolve(row["kommunenummer"])
        municipality = place.municipality
        if place.error:
            error("kommunenummer", place.error)
        elif place.notice:
            notices.append(RowNotice(line, "kommunenummer", place.notice))
        her_id = None
        if row.get("her_id"):
            if row["her_id"].isdigit() and int(row["her_id"]) > 0:
                her_id = int(row["her_id"])
            else:
                error("her_id", _("HER-id must be a positive whole number."))
        trust = None
        if row.get("helseforetak"):
            trust = lookups.trust(row["helseforetak"])
            if trust is None:
                error("helseforetak", lookups.unknown_trust(row["helseforetak"], municipality))
        is_synthetic = synthetic
        flag = row.get("syntetisk", "").strip().casefold()
        if is_synthetic is None and flag:
            if flag in YES | NO:
                is_synthetic = flag in YES
            else:
                error("syntetisk", _("Write ja or nei (or leave it empty to keep it as it is)."))
        if row.get("_bad_date"):
            error(
                "nedleggelsesdato",
                _("“%(v)s” is not a date; Enhetsregisteret writes it as 2026-11-30.")
                % {"v": row["_bad_date"]},
            )
        if row_errors:
            errors.extend(row_errors)
            continue

        if existing is not None:
            organisation = existing.copy()
            if existing.municipality_id != municipality.pk:
                organisation.health_trust_id = None  # derived again from the new place
        else:
            organisation = RegistryRow(number, name, None, None, None, is_synthetic=bool(synthetic))
        organisation.name = name
        if is_synthetic is not None:
            organisation.is_synthetic = is_synthetic
        organisation.type_id = org_type.pk
        organisation.municipality_id = municipality.pk
        if "her_id" in row["_present"]:
            organisation.her_id = her_id
        if "_active" in row:  # a register says whether the unit is still there
            organisation.is_active = row["_active"]
        given = trust or lookups.trusts_by_pk.get(organisation.health_trust_id)
        organisation.health_trust_id, trust_errors = lookups.health_trust(municipality, given)
        for message in trust_errors:
            error("helseforetak", message)
        for column, value in (("navn", organisation.name), ("her_id", organisation.her_id)):
            try:
                MODEL_FIELDS[column].clean(value, None)
            except ValidationError as exc:
                for message in exc.messages:
                    error(column, message)
        if row_errors:
            errors.extend(row_errors)
            continue
        try:
            scoping.check_organisation_write(
                scope, existing.place if existing else None, organisation
            )
        except ValidationError as exc:
            if existing is None:  # a new organisation can only be out of place
                message = _(
                    "%(m)s is outside the municipalities and areas you are responsible for."
                ) % {"m": municipality}
                errors.append(RowError(line, "kommunenummer", message))
            else:
                errors.extend(_rule_errors(line, exc))
            continue
        if existing is None:
            new.append(organisation)
        elif organisation != existing:
            changed.append(RowWrite(existing, organisation, line, row.get("_reason", "")))
        else:
            unchanged += 1
    return new, changed, unchanged, errors


def import_organisations(
    *,
    raw: bytes,
    user,
    dry_run: bool = False,
    source: str = "",
    full: bool = False,
    limits: Limits | None = None,
    progress=None,
) -> ImportReport:
    """Validate every row; write all of them, or none if any row fails (or dry_run), in
    one transaction. `progress(done, total)` is told as rows are checked and written.

    The file is the registry CSV (our columns), an Enhetsregisteret download of sub-units
    (JSON, gzip or not, or CSV; types from the industry codes, limited to `limits`), or an
    Adresseregisteret list of HER-ids (organisation number and HER-id only). `source`
    ("Enhetsregisteret 2026-11-30") is stored as the reason of every change. With `full`,
    the file is a full extract of its municipalities: organisations of its types there that
    it no longer lists are deactivated, with history; nothing is ever deleted."""
    if not scoping.can_import_organisations(user):
        raise PermissionDenied(_("Only rollout coordinators can import organisations."))
    report = ImportReport(dry_run=dry_run, source=source.strip())
    scope = scoping.scope_for(user)
    register = None
    if looks_like_json(raw) or is_register_csv(decode(raw[:4096])[0].split("\n", 1)[0]):
        register = read_register(raw, limits or Limits())
        report.format = register.format
        report.register = register
        rows = register.rows
        report.rows = register.units
        if register.limit_errors:
            report.errors = [RowError(0, _("limit"), m) for m in register.limit_errors]
            return report
    else:
        header = decode(raw[:4096])[0].split("\n", 1)[0]
        if her_id_columns(header):
            return import_her_ids(raw=raw, user=user, dry_run=dry_run, report=report)
        rows = report.read(raw, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    total = report.rows * (1 if dry_run else 2)  # checked, then written

    def step(done: int) -> None:
        if progress:
            progress(done, total)

    with transaction.atomic():  # the rows read are locked until written (or not)
        new, changed, report.unchanged, report.errors = validate_rows(
            rows, scope, notices=report.notices, lock=not dry_run, progress=step
        )
        if register is not None and full and not report.errors:
            for organisation in disappeared(register, scope):
                write = OrganisationWrite.start(organisation)
                write.reason = _("no longer in a full extract of its municipality")
                organisation.is_active = False
                changed.append(write)
        report.created = len(new)
        # With errors nothing is saved, but the report still lists what the valid rows
        # would do, so the coordinator sees every diff before fixing the file.
        texts = _report_writes(report, new, changed)
        if report.errors:
            return report
        if not dry_run:
            organisations_write_import(
                user=user,
                new=new,
                changed=changed,
                reason=report.source,
                progress=lambda done: step(report.rows + done),
                texts=texts,
            )
    return report


def _report_writes(report: ImportReport, new: list, changed: list) -> RegistryTexts:
    """The row report: counts of everything, the first MAX_LISTED of each list."""
    texts = RegistryTexts()
    report.new = [
        NewRow(
            o.orgnr,
            o.name,
            texts.texts["type"][o.type_id],
            texts.texts["municipality"][o.municipality_id],
        )
        for o in new[:MAX_LISTED]
    ]
    for write in changed:
        organisation = write.organisation
        if not organisation.is_active:
            row = RowChange(write.line, organisation.orgnr, organisation.name, [])
            row.changes, row.reason = write.changes(texts), write.reason
            report.deactivated.append(row)
            continue
        report.updated += 1
        report.moved += write.moved
        if len(report.changes) < MAX_LISTED:
            report.changes.append(
                RowChange(write.line, organisation.orgnr, organisation.name, write.changes(texts))
            )
    return texts


def run_job(job) -> object:
    """A registry import queued by the import page (actors.import_jobs)."""
    from . import import_jobs

    def importer(raw, user, params, progress):
        return import_organisations(
            raw=raw,
            user=user,
            dry_run=params.get("dry_run", False),
            source=params.get("source", ""),
            full=params.get("full", False),
            limits=Limits(params.get("municipalities", []), params.get("types", [])),
            progress=progress,
        )

    return import_jobs.run(job, importer)


# --- HER-ids from Adresseregisteret -----------------------------------------------------

ORGNR_NAMES = ("organisasjonsnummer", "orgnr", "org_nr", "organisasjonsnr")
HER_ID_NAMES = ("her_id", "herid", "her-id", "her id")


def her_id_columns(header_line: str) -> tuple[str, str] | None:
    """(orgnr column, HER-id column) when the header is a HER-id list: it has both, and
    none of the registry's own columns."""
    names = [c.strip().strip('"').lstrip("\ufeff").casefold() for c in _split_header(header_line)]
    orgnr = next((c for c in names if c in ORGNR_NAMES), None)
    her_id = next((c for c in names if c in HER_ID_NAMES), None)
    if orgnr and her_id and not {"type", "kommunenummer"} & set(names):
        return orgnr, her_id
    return None


def _split_header(line: str) -> list[str]:
    for delimiter in ";\t|,":
        if delimiter in line:
            return line.split(delimiter)
    return [line]


def import_her_ids(*, raw: bytes, user, dry_run: bool, report: ImportReport) -> ImportReport:
    """Fill or update the HER-ids of organisations in the user's reach from an
    Adresseregisteret list (organisation number, HER-id). Numbers not in the registry (or
    not in reach) are counted, not errors: such a list covers the whole country."""
    text, _encoding = decode(raw)
    orgnr_column, her_column = her_id_columns(text.split("\n", 1)[0])
    rows = report.read(raw, (orgnr_column, her_column))
    report.format = _("HER-id list (Adresseregisteret)")
    scope = scoping.scope_for(user)
    numbers = [parse_orgnr(r[orgnr_column]).value for _line, r in rows]
    reachable = {
        o.orgnr: o
        for o in scope.filter_editable(
            Organisation.objects.filter(orgnr__in=numbers)
        ).select_related("type", "municipality", "health_trust", "record_system__vendor")
    }
    changed, seen = [], {}
    for line, row in rows:
        parsed = parse_orgnr(row[orgnr_column])
        if parsed.error:
            report.errors.append(RowError(line, orgnr_column, parsed.error))
            continue
        if parsed.value in seen:
            report.errors.append(
                RowError(
                    line,
                    orgnr_column,
                    _("%(v)s appears again; first on line %(line)s.")
                    % {"v": parsed.value, "line": seen[parsed.value]},
                )
            )
            continue
        seen[parsed.value] = line
        value = row[her_column].strip().removeprefix("'")
        damage = spreadsheet_damage(value)
        if damage or not (value.isdigit() and int(value) > 0):
            report.errors.append(
                RowError(line, her_column, damage or _("HER-id must be a positive whole number."))
            )
            continue
        organisation = reachable.get(parsed.value)
        if organisation is None:
            report.not_found += 1
            continue
        write = OrganisationWrite.start(organisation, line)
        organisation.her_id = int(value)
        if write.changes():
            changed.append(write)
        else:
            report.unchanged += 1
    if report.errors:
        return report
    report.changes = [
        RowChange(w.line, w.organisation.orgnr, w.organisation.name, w.changes()) for w in changed
    ]
    report.updated = len(changed)
    if not dry_run:
        organisations_write_import(user=user, new=[], changed=changed, reason=report.source)
    return report
