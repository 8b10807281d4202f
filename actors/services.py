"""Every write to actors goes through these functions (views, API, commands, tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.no import orgnr as stdnum_orgnr

from . import registry, scoping, signals
from .choices import Source
from .concurrency import check_version
from .list_export import batches
from .models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    MunicipalityPopulation,
    MunicipalityVersion,
    Organisation,
    OrganisationChange,
    OrganisationVersion,
    RegionalHealthAuthority,
)
from .models import search_text as organisation_search_text
from .reference import ReferenceData, split_population

EDITABLE_ORGANISATION_FIELDS = (
    "name",
    "type",
    "orgnr",
    "her_id",
    "municipality",
    "health_trust",
    "record_system",
    "is_active",
)


# --- reference data -------------------------------------------------------------------


@dataclass
class SyncResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, what: str, action: str) -> None:
        self.counts.setdefault(what, {"created": 0, "updated": 0, "deleted": 0})[action] += 1

    @property
    def changed(self) -> bool:
        return any(sum(c.values()) for c in self.counts.values())

    def summary(self) -> str:
        parts = []
        for what, c in self.counts.items():
            done = ", ".join(f"{n} {action}" for action, n in c.items() if n)
            if done:
                parts.append(f"{what}: {done}")
        return "; ".join(parts) or "nothing changed"


def _sync(model, key: str, wanted: dict, result: SyncResult, label: str) -> dict:
    """Create or update `model` rows keyed by `key` to match `wanted` {key: {field: value}}."""
    existing = {getattr(obj, key): obj for obj in model.objects.all()}
    for k, values in wanted.items():
        obj = existing.get(k)
        if obj is None:
            obj = model(**{key: k}, **values)
            obj.full_clean()
            obj.save()
            existing[k] = obj
            result.add(label, "created")
        elif any(getattr(obj, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(obj, f, v)
            obj.full_clean()
            obj.save()
            result.add(label, "updated")
    return existing


@transaction.atomic
def reference_data_load(*, data: ReferenceData) -> SyncResult:
    """Bring the database's structure to the shipped one: every period's counties and
    municipalities, versions, population per year and catchment shares. Existing rows are
    found by their identity (the number a municipality first had), so organisations,
    statuses, contacts, agreements and snapshots keep pointing at the same municipality
    when it is renumbered; a database loaded before the dated structure moves forward."""
    result = SyncResult()
    rhas = _sync(
        RegionalHealthAuthority,
        "code",
        {code: {"name": name} for code, name in data.regional_health_authorities.items()},
        result,
        "regional health authorities",
    )
    trusts = _sync(
        HealthTrust,
        "code",
        {
            code: {
                "name": t["name"],
                "short_name": t["short_name"],
                "regional_health_authority": rhas[t["rha_code"]],
            }
            for code, t in data.health_trusts.items()
        },
        result,
        "health trusts",
    )
    counties = _sync(County, "number", data.counties, result, "counties")
    rows = _municipalities_by_key()
    _free_numbers(data, rows)
    for key, life in data.municipalities.items():
        rows[key] = _sync_municipality(life, rows.get(key), counties, result)
    for key, life in data.municipalities.items():
        wanted = {rows[k].pk for k in life.predecessors}
        if set(rows[key].predecessors.values_list("pk", flat=True)) != wanted:
            rows[key].predecessors.set(wanted)
            result.add("municipalities", "updated")
    existing = {(c.municipality_id, c.health_trust_id): c for c in Catchment.objects.all()}
    wanted_pairs = set()
    for key, shares in data.catchments.items():
        m = rows[key]
        for code, population in split_population(m.population, shares).items():
            t = trusts[code]
            wanted_pairs.add((m.pk, t.pk))
            values = {"share": shares[code], "population": population}
            current = existing.get((m.pk, t.pk))
            if current is None:
                Catchment.objects.create(municipality=m, health_trust=t, **values)
                result.add("catchment shares", "created")
            elif any(getattr(current, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(current, f, v)
                current.save(update_fields=list(values))
                result.add("catchment shares", "updated")
    for pair, catchment in existing.items():
        if pair not in wanted_pairs:
            catchment.delete()
            result.add("catchment shares", "deleted")
    return result


def _municipalities_by_key() -> dict[str, Municipality]:
    """Stored municipalities by identity (Municipality.identity_key)."""
    return {m.identity_key: m for m in Municipality.objects.prefetch_related("versions")}


def _free_numbers(data: ReferenceData, rows: dict[str, Municipality]) -> None:
    """Numbers are unique: a municipality that gives up its number to another in the new
    structure first takes a placeholder, so renumbering never collides."""
    target = {key: life.current.number for key, life in data.municipalities.items()}
    taken = {m.number: key for key, m in rows.items()}
    for number, key in taken.items():
        if target.get(key) != number and number in target.values():
            m = rows[key]
            m.number = f"~{m.pk:x}"[-4:]
            m.save(update_fields=["number"])


def _sync_municipality(life, row, counties, result) -> Municipality:
    version = life.current
    year = max(life.population)
    values = {
        "number": version.number,
        "name": version.name,
        "county": counties[version.county],
        "population": life.population[year][0],
        "population_67_plus": life.population[year][1],
        "population_year": year,
        "valid_from": life.valid_from,
        "valid_to": life.valid_to,
    }
    if row is None:
        row = Municipality.objects.create(**values)
        result.add("municipalities", "created")
    elif any(getattr(row, f) != v for f, v in values.items()):
        for f, v in values.items():
            setattr(row, f, v)
        row.save()
        result.add("municipalities", "updated")
    versions = [
        (v.valid_from, v.valid_to, v.number, v.name, counties[v.county].pk) for v in life.versions
    ]
    stored = list(
        row.versions.order_by("valid_from").values_list(
            "valid_from", "valid_to", "number", "name", "county_id"
        )
    )
    if stored != versions:
        row.versions.all().delete()
        MunicipalityVersion.objects.bulk_create(
            MunicipalityVersion(
                municipality=row, valid_from=f, valid_to=t, number=n, name=name, county_id=c
            )
            for f, t, n, name, c in versions
        )
        result.add("municipality versions", "updated")
    populations = sorted(life.population.items())
    stored_populations = list(
        row.populations.order_by("year").values_list("year", "population", "population_67_plus")
    )
    if stored_populations != [(y, p, p67) for y, (p, p67) in populations]:
        row.populations.all().delete()
        MunicipalityPopulation.objects.bulk_create(
            MunicipalityPopulation(municipality=row, year=y, population=p, population_67_plus=p67)
            for y, (p, p67) in populations
        )
        result.add("population figures", "updated")
    return row


# --- registry history -------------------------------------------------------------------

# The fields whose changes the registry history records; moves are changes of place.
HISTORY_FIELDS = (*EDITABLE_ORGANISATION_FIELDS, "is_synthetic")
MOVE_FIELDS = frozenset({"municipality", "health_trust"})


def _text(organisation: Organisation, name: str) -> str:
    """A field's value as the history stores it: what a person reads (“4601 Bergen”),
    booleans as true/false, nothing as the empty string."""
    field = Organisation._meta.get_field(name)
    if field.is_relation and getattr(organisation, field.attname) is None:
        return ""
    value = getattr(organisation, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def organisation_state(organisation: Organisation) -> dict[str, str]:
    return {name: _text(organisation, name) for name in HISTORY_FIELDS}


def organisation_diff(
    before: dict[str, str], organisation: Organisation
) -> list[OrganisationChange]:
    """What changed since `before` (organisation_state), as unsaved history rows: one per
    field, a change of municipality or area being a move."""
    return state_diff(before, organisation_state(organisation), organisation.pk)


def state_diff(
    before: dict[str, str], after: dict[str, str], organisation_id: int | None
) -> list[OrganisationChange]:
    """The history rows between two states (organisation_state or RegistryTexts.state)."""
    Kind = OrganisationChange.Kind
    rows = []
    for name, new in after.items():
        if new == before[name]:
            continue
        if name in MOVE_FIELDS:
            kind = Kind.MOVE
        elif name == "is_active":
            kind = Kind.REACTIVATE if new == "true" else Kind.DEACTIVATE
        else:
            kind = Kind.CHANGE
        rows.append(
            OrganisationChange(
                organisation_id=organisation_id,
                kind=kind,
                field=name,
                old_value=before[name],
                new_value=new,
            )
        )
    return rows


def _creation(organisation: Organisation, municipality: str | None = None) -> OrganisationChange:
    municipality = municipality or str(organisation.municipality)
    return OrganisationChange(
        organisation_id=organisation.pk,
        kind=OrganisationChange.Kind.CREATE,
        new_value=f"{organisation.name} ({organisation.orgnr}), {municipality}",
    )


def _record(rows: list[OrganisationChange], *, user, source: str, reason: str = "", when=None):
    """Write history rows (in the caller's transaction): who, when, from where, why."""
    when = when or timezone.now()
    by = user if getattr(user, "pk", None) else None
    for row in rows:
        # A row's own reason (why this organisation) follows the import's (e.g. its source).
        own = "; ".join(part for part in (reason.strip(), row.reason.strip()) if part)
        row.changed_by, row.source, row.reason, row.changed_at = by, source, own, when
    insert_rows(OrganisationChange, rows)


def insert_rows(model, objects: list, key: str = "") -> None:
    """INSERT unsaved model instances: with COPY on PostgreSQL (a large import's rows and
    history, several times faster than bulk_create's statements), with bulk_create
    elsewhere. With `key` (a unique field) the instances get their ids, read back by it."""
    from django.db import connection

    if connection.vendor != "postgresql" or len(objects) < 100:
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    copy_in = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    # The values as Python has them (text, numbers, dates, booleans: what psycopg writes
    # itself); pre_save fills auto_now fields.
    with connection.cursor() as cursor, cursor.copy(copy_in) as copy:
        for obj in objects:
            copy.write_row([f.pre_save(obj, True) for f in fields])
    if key:
        by_key = {getattr(obj, key): obj for obj in objects}
        for value, pk in model.objects.filter(**{f"{key}__in": list(by_key)}).values_list(
            key, "pk"
        ):
            by_key[value].pk = pk
            by_key[value]._state.adding = False


@dataclass
class OrganisationWrite:
    """An existing organisation being changed in memory (an import row), with what it was:
    its place for the scope rule, its values for the history."""

    organisation: Organisation
    before: dict[str, str]
    place: scoping.Place
    line: int = 0
    reason: str = ""  # why, for this organisation's history (e.g. closed down)

    @classmethod
    def start(cls, organisation: Organisation, line: int = 0) -> OrganisationWrite:
        return cls(
            organisation, organisation_state(organisation), scoping.Place.of(organisation), line
        )

    def fields(self) -> set[str]:
        return {change.field for change in self.changes()}

    def changes(self, texts=None) -> list[OrganisationChange]:
        rows = organisation_diff(self.before, self.organisation)
        for row in rows:
            row.reason = self.reason
        return rows

    @property
    def moved(self) -> bool:
        after = scoping.Place.of(self.organisation)
        return (after.municipality_id, after.health_trust_id) != (
            self.place.municipality_id,
            self.place.health_trust_id,
        )


# --- organisations --------------------------------------------------------------------


def coverage_changed(since=None) -> None:
    """Organisations or statuses changed: whatever is computed from them is redone soon
    (benefits recomputes its coverage targets, debounced: today's figures and, for statuses
    dated in the past, every stored day `since` then). A signal, as actors sits below."""
    signals.coverage_inputs_changed.send(sender=None, since=since)


def _refuse_orgnr_out_of_reach(scope: scoping.Scope, organisation: Organisation) -> None:
    """An organisation number taken by an organisation outside the user's reach answers as
    an import does for one that is unknown there, never “already exists” (no oracle)."""
    number = stdnum_orgnr.compact(str(organisation.orgnr or ""))
    taken = Organisation.objects.filter(orgnr=number).exclude(pk=organisation.pk)
    if taken.exists() and not scope.filter_editable(taken).exists():
        raise ValidationError(
            {"orgnr": ValidationError(scoping.not_in_reach_message(number), code="not_in_reach")}
        )


def organisation_create(
    *, user, source: str = Source.UI, reason: str = "", **fields
) -> Organisation:
    scope = scoping.scope_for(user)
    if not scope.can_edit:
        raise PermissionDenied(_("Your role cannot create organisations."))
    unknown = set(fields) - set(EDITABLE_ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        organisation = Organisation(**fields)
        _refuse_orgnr_out_of_reach(scope, organisation)
        organisation.full_clean()
        scoping.check_organisation_write(scope, None, organisation)
        organisation.save()
        registry.record_versions([organisation])
        _record([_creation(organisation)], user=user, source=source, reason=reason)
        coverage_changed()
    return organisation


def organisation_update(
    *,
    user,
    organisation_id: int,
    expected_version: int | None,
    source: str = Source.UI,
    reason: str = "",
    **changes,
) -> Organisation:
    """Change an organisation the user may edit, under the one rule of
    scoping.check_organisation_write, and record every changed field in the history.
    Raises VersionConflict when someone saved it since `expected_version` was read,
    Organisation.DoesNotExist when out of scope, ValidationError for a refused move."""
    unknown = set(changes) - set(EDITABLE_ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    scope = scoping.scope_for(user)
    with transaction.atomic():
        organisation = (
            Organisation.objects.editable_by(user).select_for_update().get(pk=organisation_id)
        )
        check_version(organisation, expected_version)
        write = OrganisationWrite.start(organisation)
        moved = (
            "municipality" in changes and changes["municipality"].pk != organisation.municipality_id
        )
        for name, value in changes.items():
            setattr(organisation, name, value)
        if moved and changes.get("health_trust") is None:
            organisation.health_trust = None  # derive it again from the new municipality
        if "orgnr" in changes:
            _refuse_orgnr_out_of_reach(scope, organisation)
        organisation.full_clean()
        scoping.check_organisation_write(scope, write.place, organisation)
        organisation.version += 1
        organisation.save()
        registry.record_versions([organisation])
        _record(write.changes(), user=user, source=source, reason=reason)
        coverage_changed()
    return organisation


# --- imports: many organisations at once -------------------------------------------------

BATCH = 1000  # organisations per statement when an import writes
# The fields of an organisation's version (registry.TRACKED), by their history names.
VERSIONED_FIELDS = frozenset({"type", "municipality", "health_trust", "is_active"})


@dataclass(slots=True)
class RegistryRow:
    """An organisation's values as an import reads and writes them: ids, not objects, so
    that 50 000 of them stay small (issue 17)."""

    orgnr: str
    name: str
    type_id: int | None
    municipality_id: int | None
    health_trust_id: int | None
    her_id: int | None = None
    is_active: bool = True
    is_synthetic: bool = False
    record_system_id: int | None = None
    pk: int | None = None

    COLUMNS = (
        "orgnr",
        "name",
        "type_id",
        "municipality_id",
        "health_trust_id",
        "her_id",
        "is_active",
        "is_synthetic",
        "record_system_id",
        "pk",
    )

    @classmethod
    def of(cls, organisation: Organisation) -> RegistryRow:
        return cls(*(getattr(organisation, name) for name in cls.COLUMNS))

    def copy(self) -> RegistryRow:
        return RegistryRow(*(getattr(self, name) for name in self.COLUMNS))

    @property
    def place(self) -> scoping.Place:
        return scoping.Place(self.orgnr, self.municipality_id, self.health_trust_id)

    @property
    def record_system(self):  # seed_demo sets the record system as an object
        return self.record_system_id

    @record_system.setter
    def record_system(self, value) -> None:
        self.record_system_id = getattr(value, "pk", value)

    @property
    def search_text(self) -> str:
        return organisation_search_text(self.name, self.orgnr, self.her_id)

    def model(self) -> Organisation:
        organisation = Organisation(
            **{name: getattr(self, name) for name in self.COLUMNS}, search_text=self.search_text
        )
        return organisation


class RegistryTexts:
    """What the history stores for a RegistryRow's values (organisation_state's texts),
    read once: the names of types, municipalities, areas and record systems by id."""

    def __init__(self):
        from .models import OrganisationType, RecordSystem

        self.texts = {
            "type": {t.pk: str(t) for t in OrganisationType.objects.all()},
            "municipality": {m.pk: str(m) for m in Municipality.objects.all()},
            "health_trust": {t.pk: str(t) for t in HealthTrust.objects.all()},
            "record_system": {r.pk: str(r) for r in RecordSystem.objects.select_related("vendor")},
        }

    def state(self, row: RegistryRow) -> dict[str, str]:
        state = {}
        for name in HISTORY_FIELDS:
            if name in self.texts:
                value = getattr(row, f"{name}_id")
                state[name] = "" if value is None else self.texts[name][value]
            else:
                value = getattr(row, name)
                if isinstance(value, bool):
                    state[name] = "true" if value else "false"
                else:
                    state[name] = "" if value is None else str(value)
        return state


@dataclass(slots=True)
class RowWrite:
    """An existing organisation an import changes: its values before and after."""

    before: RegistryRow
    after: RegistryRow
    line: int = 0
    reason: str = ""

    @property
    def organisation(self) -> RegistryRow:
        return self.after

    @property
    def place(self) -> scoping.Place:
        return self.before.place

    @property
    def moved(self) -> bool:
        before, after = self.before, self.after
        return (before.municipality_id, before.health_trust_id) != (
            after.municipality_id,
            after.health_trust_id,
        )

    def fields(self) -> set[str]:
        """The changed fields, by their history names."""
        before, after = self.before, self.after
        names = RegistryRow.COLUMNS[:-1]  # not the pk
        return {n.removesuffix("_id") for n in names if getattr(before, n) != getattr(after, n)}

    def changes(self, texts: RegistryTexts) -> list[OrganisationChange]:
        rows = state_diff(texts.state(self.before), texts.state(self.after), self.after.pk)
        for row in rows:
            row.reason = self.reason
        return rows


def _update_rows(rows: list[RegistryRow], fields: list[str], now) -> None:
    """Set `fields` of each row's organisation to the row's values, add one to its version
    and set its time, in one UPDATE … FROM (the rows): bulk_update's CASE per field and
    row took most of a large import's time."""
    from django.db import connection

    quote = connection.ops.quote_name
    meta = Organisation._meta
    columns = [meta.get_field(name) for name in fields]
    if {"name", "orgnr", "her_id"} & set(fields):
        columns.append(meta.get_field("search_text"))
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    casts = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in (meta.pk, *columns))
    names = ", ".join(["_id", *(f"_{i}" for i in range(len(columns)))])
    sets = ", ".join(f"{quote(f.column)} = v._{i}" for i, f in enumerate(columns))
    version = quote(meta.get_field("version").column)
    updated = quote(meta.get_field("updated_at").column)
    bump = f"{', ' if sets else ''}{version} = {table}.{version} + 1, {updated} = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a temporary table of the columns' own types, then one UPDATE: the
            # client-side VALUES of a thousand rows took longer to build than to run.
            selected = ", ".join([pk, *(quote(f.column) for f in columns)])
            cursor.execute(
                f"CREATE TEMPORARY TABLE import_rows ON COMMIT DROP AS "
                f"SELECT {selected} FROM {table} WITH NO DATA"
            )
            with cursor.copy(f"COPY import_rows ({selected}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.pk, *(getattr(row, f.attname) for f in columns)])
            cursor.execute("ANALYZE import_rows")  # a hash join, not a scan per row
            sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
            cursor.execute(
                f"UPDATE {table} SET {sets}{bump} FROM import_rows v WHERE {table}.{pk} = v.{pk}",
                [now],
            )
            cursor.execute("DROP TABLE import_rows")
            return
        for batch in batches(rows, BATCH):
            values = ", ".join([f"({casts})"] * len(batch))
            params = []
            for row in batch:
                params.append(row.pk)
                params += [getattr(row, f.attname) for f in columns]
            cursor.execute(
                f"WITH v({names}) AS (VALUES {values}) UPDATE {table} SET {sets}{bump} "
                f"FROM v WHERE {table}.{pk} = v._id",
                [*params, now],
            )


def organisations_write_import(
    *,
    user,
    new: list,
    changed: list,
    source: str = Source.IMPORT,
    reason: str = "",
    progress=None,
    texts: RegistryTexts | None = None,
) -> None:
    """Write the rows of a validated import in one transaction (all or nothing), with their
    history, a thousand at a time. `new` are Organisation instances or RegistryRows (their
    pk is set), `changed` OrganisationWrites or RowWrites. The scope rule is applied again
    here, against the rows as they are now (locked). `progress(done)` is told as batches go;
    `texts` (RegistryTexts) saves reading the names again."""
    scope = scoping.scope_for(user)
    now, today = timezone.now(), timezone.localdate()
    with transaction.atomic():
        in_reach = set()
        for ids in batches([w.organisation.pk for w in changed], 10 * BATCH):
            in_reach |= set(
                scope.filter_editable(Organisation.objects.filter(pk__in=ids))
                .select_for_update()
                .values_list("pk", flat=True)
            )
        try:
            for write in changed:
                if write.organisation.pk not in in_reach:
                    raise ValidationError("not in reach")
                scoping.check_organisation_write(scope, write.place, write.organisation)
            for organisation in new:
                scoping.check_organisation_write(scope, None, organisation)
        except ValidationError as exc:
            raise PermissionDenied(
                _("The import touches organisations outside your scope.")
            ) from exc
        if texts is None and (
            any(isinstance(w, RowWrite) for w in changed)
            or any(isinstance(o, RegistryRow) for o in new)
        ):
            texts = RegistryTexts()
        done = 0
        for batch in batches(new, BATCH):
            organisations = [o.model() if isinstance(o, RegistryRow) else o for o in batch]
            insert_rows(Organisation, organisations, key="orgnr")
            history = []
            for row, organisation in zip(batch, organisations, strict=True):
                row.pk = organisation.pk
                place = texts.texts["municipality"][row.municipality_id] if texts else None
                history.append(_creation(organisation, place))
            # A new organisation's first version (registry.record_versions would read the
            # versions it does not have yet).
            insert_rows(
                OrganisationVersion,
                [
                    OrganisationVersion(
                        organisation_id=o.pk,
                        valid_from=today,
                        recorded_at=now,
                        **{name: getattr(o, name) for name in registry.TRACKED},
                    )
                    for o in organisations
                ],
            )
            _record(history, user=user, source=source, reason=reason, when=now)
            done += len(batch)
            if progress:
                progress(done)
        # Every changed organisation in one UPDATE (the fields any of them changes); then
        # their history a batch at a time.
        touched = sorted(set().union(*(w.fields() for w in changed)))
        if changed:
            _update_rows(
                [
                    w.organisation if isinstance(w, RowWrite) else RegistryRow.of(w.organisation)
                    for w in changed
                ],
                touched,
                now,
            )
        for write in changed:
            if not isinstance(write, RowWrite):
                write.organisation.version += 1
                write.organisation.updated_at = now
        for batch in batches(changed, BATCH):
            history = []
            for write in batch:
                history += write.changes(texts)
            rows = [
                w.organisation if isinstance(w, RowWrite) else RegistryRow.of(w.organisation)
                for w in batch
            ]
            # A version for each organisation whose type, place or active flag changed.
            versioned = {c.organisation_id for c in history if c.field in VERSIONED_FIELDS}
            registry.record_versions(r for r in rows if r.pk in versioned)
            _record(history, user=user, source=source, reason=reason, when=now)
            done += len(batch)
            if progress:
                progress(done)
        coverage_changed()


def notify(*, users, text: str, link: str = "") -> None:
    """Tell users something: an in-app notification and an e-mail (sent after commit)."""
    from django.core.mail import send_mail

    from .models import Notification

    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create([Notification(user=u, text=text, link=link) for u in users])
    recipients = [u.email for u in users if u.email]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject=text[:78],
                message=f"{text}\n\n{link}",
                from_email=None,
                recipient_list=recipients,
                fail_silently=True,
            )
        )
