"""Every write to actors goes through these functions (views, API, commands, tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.no import orgnr as stdnum_orgnr

from . import registry, scoping, signals
from .choices import Source
from .concurrency import check_version
from .models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    MunicipalityPopulation,
    MunicipalityVersion,
    Organisation,
    OrganisationChange,
    RegionalHealthAuthority,
)
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
    Kind = OrganisationChange.Kind
    rows = []
    for name, new in organisation_state(organisation).items():
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
                organisation=organisation,
                kind=kind,
                field=name,
                old_value=before[name],
                new_value=new,
            )
        )
    return rows


def _creation(organisation: Organisation) -> OrganisationChange:
    return OrganisationChange(
        organisation=organisation,
        kind=OrganisationChange.Kind.CREATE,
        new_value=f"{organisation.name} ({organisation.orgnr}), {organisation.municipality}",
    )


def _record(rows: list[OrganisationChange], *, user, source: str, reason: str = "", when=None):
    """Write history rows (in the caller's transaction): who, when, from where, why."""
    when = when or timezone.now()
    by = user if getattr(user, "pk", None) else None
    for row in rows:
        # A row's own reason (why this organisation) follows the import's (e.g. its source).
        own = "; ".join(part for part in (reason.strip(), row.reason.strip()) if part)
        row.changed_by, row.source, row.reason, row.changed_at = by, source, own, when
    OrganisationChange.objects.bulk_create(rows, batch_size=1000)


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

    def changes(self) -> list[OrganisationChange]:
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


def organisations_write_import(
    *,
    user,
    new: list[Organisation],
    changed: list[OrganisationWrite],
    source: str = Source.IMPORT,
    reason: str = "",
) -> None:
    """Write the rows of a validated import in one transaction (all or nothing), with their
    history. The scope rule is applied again here, against the rows as they are now."""
    scope = scoping.scope_for(user)
    now = timezone.now()
    with transaction.atomic():
        ids = [w.organisation.pk for w in changed]
        in_reach = set(
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
        Organisation.objects.bulk_create(new, batch_size=500)
        history = [_creation(o) for o in new]
        for write in changed:
            history += write.changes()
            write.organisation.version += 1
            write.organisation.updated_at = now
        # Only the fields some row changes: bulk_update writes a CASE per field and row,
        # and resolving them for every tracked field took most of a large import's time.
        # Who-and-when is one UPDATE for all of them.
        touched = sorted({row.field for row in history if row.field})
        if touched:
            searchable = {"name", "orgnr", "her_id"} & set(touched)
            Organisation.objects.bulk_update(
                [w.organisation for w in changed],
                [*touched, *(["search_text"] if searchable else [])],
                batch_size=500,
            )
        Organisation.objects.filter(pk__in=[w.organisation.pk for w in changed]).update(
            version=F("version") + 1, updated_at=now
        )
        registry.record_versions([*new, *(w.organisation for w in changed)])
        _record(history, user=user, source=source, reason=reason, when=now)
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
