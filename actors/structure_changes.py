"""Future changes to the municipal structure as an operation (issue 15): read a change list
(the columns of actors/data/endringer-2024.csv and the day it takes effect), check all of it,
describe what would move (the dry run), and apply it in one transaction with history for
everything it touches. Higher apps take part through `register(provider)`."""

from __future__ import annotations

import contextlib
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from . import registry, scoping, services
from .choices import Role, Source
from .imports import ImportFileError, decode, read_rows
from .models import (
    Catchment,
    County,
    Municipality,
    MunicipalityVersion,
    Organisation,
    StructureChange,
    User,
)
from .reference import KNOWN_CHANGES, ReferenceData, Version, split_population
from .structure import Place, StructureOn

REQUIRED_COLUMNS = ("old_kommunenummer", "old_navn", "new_kommunenummer", "new_navn", "change")
# change_occurred: the day it takes effect (as in endringer-2026.csv), when not given apart;
# andel: for a split, the share of the residents that each part gets.
OPTIONAL_COLUMNS = ("change_occurred", "andel")
ALL_PARTS = "all"
ONE_DAY = datetime.timedelta(days=1)


def can_change_structure(user) -> bool:
    """Structure changes are for administrators (role or staff)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff) or scoping.scope_for(user).role == Role.ADMIN


# --- the hook for higher apps -------------------------------------------------------------


@dataclass
class Section:
    """A table a provider adds to the dry run (and, as lines, to the command's output)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


_providers: list = []


def register(provider) -> None:
    """A higher app takes part: `provider.describe(plan)` returns Sections for the dry run,
    `provider.apply(plan, user)` writes its part in the same transaction (after the new
    municipalities exist: `Part.municipality` is set)."""
    if provider not in _providers:
        _providers.append(provider)


# --- the plan ------------------------------------------------------------------------------


@dataclass
class LineError:
    line: int  # 0: the file or the date as a whole
    message: str


@dataclass
class Part:
    """Where a municipality goes: a number, name and county from the effective day."""

    line: int
    number: str
    name: str
    county: County
    share: Decimal | None = None
    municipality: Municipality | None = None  # the continuing one; a new part's on apply


@dataclass
class Continuing:
    """A municipality that goes on under a new number, name or county (a renumbering,
    a rename, the part of a split that keeps the name, the surviving side of a merge)."""

    municipality: Municipality
    old: Place
    new: Part

    @property
    def changes(self) -> list[str]:
        said = []
        if self.new.number != self.old.number:
            said.append(_("renumbered"))
        if self.new.name != self.old.name:
            said.append(_("renamed"))
        if self.new.county.pk != self.old.county_id:
            said.append(_("moved to county %(c)s") % {"c": self.new.county.name})
        return said


@dataclass
class Split:
    """The part that keeps the name continues the municipality; the others are new, with
    it as predecessor. Its organisations stay in the continuing part (listed to move
    afterwards); each contact follows the part the administrator chooses."""

    continuing: Continuing
    parts: list[Part]  # the new ones
    organisations: list[Organisation]
    contacts: list[User]

    @property
    def all_parts(self) -> list[Part]:
        return [self.continuing.new, *self.parts]


@dataclass
class Merge:
    """The surviving municipality continues (the one whose number or name the merged one
    takes, else the first listed); the others end the day before, their organisations and
    contacts follow the survivor."""

    continuing: Continuing
    merged: list[Municipality]
    olds: dict[int, Place]
    organisations: list[Organisation]
    contacts: list[User]


@dataclass
class Plan:
    effective: datetime.date | None
    file_name: str = ""
    content: str = ""
    errors: list[LineError] = field(default_factory=list)
    renamings: list[Continuing] = field(default_factory=list)
    splits: list[Split] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    boundary: list[str] = field(default_factory=list)
    unchanged_organisations: int = 0  # in renamed municipalities: they keep their place
    sections: list[Section] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def continuing(self) -> list[Continuing]:
        return [
            *self.renamings,
            *(s.continuing for s in self.splits),
            *(m.continuing for m in self.merges),
        ]

    def default_choices(self) -> dict[int, str]:
        """Every split's contacts follow the part that keeps the name."""
        return {u.pk: s.continuing.new.number for s in self.splits for u in s.contacts}

    def lines(self) -> list[str]:
        """The dry run in plain lines (the command's output, the record's summary)."""
        day = self.effective.strftime("%d.%m.%Y") if self.effective else "?"
        out = [_("Structure change from %(d)s:") % {"d": day}]
        for c in self.renamings:
            out.append(
                f"  {c.old.number} {c.old.name} → {c.new.number} {c.new.name} "
                f"({', '.join(c.changes)})"
            )
        for s in self.splits:
            old = s.continuing.old
            parts = ", ".join(f"{p.number} {p.name} ({p.share})" for p in s.all_parts)
            out.append(
                _("  %(old)s is split: %(parts)s; %(n)s organisations stay in %(keep)s")
                % {
                    "old": f"{old.number} {old.name}",
                    "parts": parts,
                    "n": len(s.organisations),
                    "keep": s.continuing.new.number,
                }
            )
        for m in self.merges:
            olds = ", ".join(f"{p.number} {p.name}" for p in m.olds.values())
            new = m.continuing.new
            out.append(
                _("  %(olds)s are merged into %(new)s; %(n)s organisations move")
                % {"olds": olds, "new": f"{new.number} {new.name}", "n": len(m.organisations)}
            )
        for text in self.boundary:
            out.append(f"  {text}")
        for section in self.sections:
            out.append(f"{section.title}:")
            out.extend("  " + " | ".join(row) for row in section.rows)
        return out


# --- reading and checking -------------------------------------------------------------------


def read_plan(raw: bytes | str, *, effective: datetime.date | None, file_name: str = "") -> Plan:
    """Read and check a change list; the plan has every error (line and what to fix) or
    describes everything the change would do. Writes nothing."""
    plan = Plan(effective=effective, file_name=file_name)
    try:
        text = raw if isinstance(raw, str) else decode(raw)[0]
        rows, _delimiter, _ignored = read_rows(text, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    except ImportFileError as exc:
        plan.errors.append(LineError(0, str(exc)))
        return plan
    plan.content = text
    if not rows:
        plan.errors.append(LineError(0, _("The file has no changes.")))
        return plan
    _read_effective(plan, rows)
    if plan.errors:
        return plan
    _Reader(plan).read(rows)
    if not plan.errors:
        for provider in _providers:
            plan.sections.extend(provider.describe(plan))
    return plan


def _read_effective(plan: Plan, rows) -> None:
    given = {r["change_occurred"] for _line, r in rows if r.get("change_occurred")}
    if plan.effective is None and len(given) == 1:
        with contextlib.suppress(ValueError):
            plan.effective = datetime.date.fromisoformat(given.pop())
    if plan.effective is None:
        plan.errors.append(
            LineError(0, _("Give the day the change takes effect (or a change_occurred column)."))
        )
        return
    for line, row in rows:
        if row.get("change_occurred") and row["change_occurred"] != plan.effective.isoformat():
            plan.errors.append(
                LineError(
                    line,
                    _("change_occurred is “%(v)s”, but the change takes effect %(d)s.")
                    % {"v": row["change_occurred"], "d": plan.effective.isoformat()},
                )
            )
    latest = MunicipalityVersion.objects.aggregate(day=Max("valid_from"))["day"]
    if latest and plan.effective <= latest:
        plan.errors.append(
            LineError(
                0,
                _(
                    "The change must take effect after %(d)s, when the latest structure "
                    "began; change that structure with the reference data instead."
                )
                % {"d": latest.strftime("%d.%m.%Y")},
            )
        )


class _Reader:
    """Checks the rows against the structure of the day before the change."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.day = plan.effective
        self.before = StructureOn(self.day - ONE_DAY)
        self.by_number = {p.number: p for p in self.before.places.values()}
        self.rows_by_pk = Municipality.objects.in_bulk(list(self.before.places))
        self.counties = {c.number: c for c in County.objects.on(self.day)}
        # Who holds a number now or later (Municipality.number is unique for all time).
        self.holders: dict[str, int] = dict(Municipality.objects.values_list("number", "pk"))
        for number, pk in MunicipalityVersion.objects.filter(valid_to__isnull=True).values_list(
            "number", "municipality_id"
        ):
            self.holders.setdefault(number, pk)
        self.targets: dict[str, int] = {}  # new number -> line that first leads to it

    def error(self, line: int, message: str) -> None:
        self.plan.errors.append(LineError(line, message))

    def read(self, rows) -> None:
        by_old: dict[str, list] = defaultdict(list)
        for line, row in rows:
            if self._row_ok(line, row):
                by_old[row["old_kommunenummer"]].append((line, row))
        merges: dict[str, list] = defaultdict(list)
        for old, group in by_old.items():
            kinds = {row["change"] for _line, row in group}
            if len(kinds) > 1:
                self.error(
                    group[1][0],
                    _("%(n)s has rows of different kinds (%(k)s); give one kind per municipality.")
                    % {"n": old, "k": ", ".join(sorted(kinds))},
                )
            elif kinds == {"boundary_adjustment"}:
                self._boundary(group)
            elif kinds == {"split"}:
                self._split(old, group)
            elif kinds == {"merged"}:
                if len(group) > 1:
                    self.error(group[1][0], _("%(n)s is merged twice.") % {"n": old})
                merges[group[0][1]["new_kommunenummer"]].append(group[0])
            elif len(group) > 1:
                self.error(group[1][0], _("%(n)s is changed twice.") % {"n": old})
            else:
                self._continuing(group[0])
        for new, group in merges.items():
            self._merge(new, group)
        if not self.plan.errors and not self.plan.continuing:
            self.error(0, _("The file changes no municipality."))
        if not self.plan.errors:
            self._organisations_and_contacts()

    def _row_ok(self, line: int, row: dict) -> bool:
        ok = True
        if row["change"] not in KNOWN_CHANGES:
            self.error(
                line,
                _("Unknown kind of change “%(k)s”; write one of %(known)s.")
                % {"k": row["change"], "known": ", ".join(sorted(KNOWN_CHANGES))},
            )
            ok = False
        for column in ("old_kommunenummer", "new_kommunenummer"):
            if not re.fullmatch(r"\d{4}", row[column]):
                self.error(
                    line,
                    _("%(col)s “%(v)s” is not a municipality number: write its four digits.")
                    % {"col": column, "v": row[column]},
                )
                ok = False
        if not ok:
            return False
        place = self.by_number.get(row["old_kommunenummer"])
        day_before = (self.day - ONE_DAY).strftime("%d.%m.%Y")
        if place is None:
            self.error(
                line,
                _("Unknown old number %(n)s: no municipality has it on %(d)s.")
                % {"n": row["old_kommunenummer"], "d": day_before},
            )
            return False
        if row["old_navn"].casefold() != place.name.casefold():
            self.error(
                line,
                _("%(n)s is %(name)s on %(d)s, not “%(given)s”: check the number or the name.")
                % {
                    "n": place.number,
                    "name": place.name,
                    "d": day_before,
                    "given": row["old_navn"],
                },
            )
            return False
        ends = self.rows_by_pk[place.municipality_id].valid_to
        if ends is not None:
            self.error(
                line,
                _("%(n)s %(name)s already ends on %(d)s.")
                % {"n": place.number, "name": place.name, "d": ends.strftime("%d.%m.%Y")},
            )
            return False
        if not row["new_navn"]:
            self.error(line, _("new_navn is empty: write the name from the effective day."))
            return False
        return True

    def _part(self, line: int, row: dict, continues: int | None) -> Part | None:
        """The row's destination, checked: its county exists on the day (the first two
        digits of the number), and the number is free unless it is the continuing
        municipality's own."""
        number = row["new_kommunenummer"]
        county = self.counties.get(number[:2])
        if county is None:
            self.error(
                line,
                _(
                    "County %(c)s (the first two digits of %(n)s) does not exist on %(d)s; "
                    "new counties come with the reference data."
                )
                % {"c": number[:2], "n": number, "d": self.day.strftime("%d.%m.%Y")},
            )
            return None
        holder = self.holders.get(number)
        if holder is not None and holder != continues:
            held_by = self.rows_by_pk.get(holder) or Municipality.objects.get(pk=holder)
            self.error(
                line,
                _("New number %(n)s is already in use (%(m)s); choose a free number.")
                % {"n": number, "m": held_by.name},
            )
            return None
        first = self.targets.setdefault(number, line)
        if first != line:
            self.error(
                line,
                _("New number %(n)s is also given on line %(l)s.") % {"n": number, "l": first},
            )
            return None
        return Part(line, number, row["new_navn"], county)

    def _continuing(self, item) -> Continuing | None:
        line, row = item
        place = self.by_number[row["old_kommunenummer"]]
        part = self._part(line, row, place.municipality_id)
        if part is None:
            return None
        continuing = Continuing(self.rows_by_pk[place.municipality_id], place, part)
        part.municipality = continuing.municipality
        if continuing.changes:
            self.plan.renamings.append(continuing)
        return continuing

    def _boundary(self, group) -> None:
        for _line, row in group:
            if row["old_kommunenummer"] != row["new_kommunenummer"]:
                self.plan.boundary.append(
                    _(
                        "Boundary adjustment from %(a)s to %(b)s: no number changes; move the "
                        "organisations in the area by hand if any."
                    )
                    % {"a": row["old_kommunenummer"], "b": row["new_kommunenummer"]}
                )

    def _split(self, old: str, group) -> None:
        place = self.by_number[old]
        if len(group) < 2:
            self.error(group[0][0], _("A split of %(n)s needs two rows or more.") % {"n": old})
            return
        shares = {}
        for line, row in group:
            try:
                share = Decimal(row.get("andel", "").replace(",", "."))
            except InvalidOperation:
                share = None
            if share is None or not 0 < share < 1:
                self.error(
                    line,
                    _(
                        "A split needs the share of the residents each part gets in the "
                        "column andel (a number between 0 and 1, e.g. 0.35)."
                    ),
                )
                return
            shares[line] = share
        if abs(sum(shares.values()) - 1) > Decimal("0.000001"):
            self.error(
                group[0][0],
                _("The shares of the split of %(n)s add up to %(s)s, not 1.")
                % {"n": old, "s": sum(shares.values())},
            )
            return
        keeps = [item for item in group if item[1]["new_navn"].casefold() == place.name.casefold()]
        if len(keeps) != 1:
            self.error(
                group[0][0],
                _("In the split of %(n)s %(name)s exactly one part must keep the name %(name)s.")
                % {"n": old, "name": place.name},
            )
            return
        continuing = self._continuing(keeps[0])
        parts = [self._part(line, row, None) for line, row in group if (line, row) != keeps[0]]
        if continuing is None or None in parts:
            return
        if continuing in self.plan.renamings:
            self.plan.renamings.remove(continuing)
        continuing.new.share = shares[keeps[0][0]]
        for part in parts:
            part.share = shares[part.line]
        self.plan.splits.append(Split(continuing, parts, [], []))

    def _merge(self, new: str, group) -> None:
        if len(group) < 2:
            self.error(
                group[0][0],
                _("A merge into %(n)s needs two rows or more (one per municipality).") % {"n": new},
            )
            return
        names = {row["new_navn"] for _line, row in group}
        if len(names) > 1:
            self.error(
                group[1][0], _("The rows merging into %(n)s give different names.") % {"n": new}
            )
            return
        olds = {self.by_number[row["old_kommunenummer"]]: (line, row) for line, row in group}
        name = names.pop().casefold()
        keeps = [p for p in olds if p.number == new] or [
            p for p in olds if p.name.casefold() == name
        ]
        keep = (keeps or list(olds))[0]
        continuing = self._continuing(olds[keep])
        if continuing is None:
            return
        if continuing in self.plan.renamings:
            self.plan.renamings.remove(continuing)
        merged = [self.rows_by_pk[p.municipality_id] for p in olds if p is not keep]
        self.plan.merges.append(
            Merge(continuing, merged, {p.municipality_id: p for p in olds}, [], [])
        )

    def _organisations_and_contacts(self) -> None:
        plan = self.plan
        contacts = User.objects.filter(role=Role.MUNICIPALITY_CONTACT).order_by("username")
        organisations = Organisation.objects.select_related("type", "health_trust").order_by(
            "name", "orgnr"
        )
        for split in plan.splits:
            m = split.continuing.municipality
            split.organisations = list(organisations.filter(municipality=m))
            split.contacts = list(contacts.filter(municipalities=m).distinct())
        for merge in plan.merges:
            split_ids = [m.pk for m in merge.merged]
            merge.organisations = list(organisations.filter(municipality_id__in=split_ids))
            merge.contacts = list(contacts.filter(municipalities__in=split_ids).distinct())
            trusts = list(merge.continuing.municipality.health_trusts.all())
            for o in merge.organisations:
                if o.health_trust not in trusts and len(trusts) != 1:
                    self.error(
                        0,
                        _(
                            "%(o)s (%(orgnr)s) moves to %(m)s, which has more than one "
                            "health-trust area: move it there by hand first."
                        )
                        % {"o": o.name, "orgnr": o.orgnr, "m": merge.continuing.municipality},
                    )
        plan.unchanged_organisations = Organisation.objects.filter(
            municipality_id__in=[c.municipality.pk for c in plan.renamings]
        ).count()


# --- applying ---------------------------------------------------------------------------------


def apply(plan: Plan, *, user, choices: dict[int, str] | None = None) -> StructureChange:
    """Write the checked plan in one transaction: versions from the effective day, new
    municipalities for split-off parts (with predecessor and the same catchment), the end
    of merged ones, organisations moved with their history, contacts per `choices`
    ({user pk: number of the part, or "all"}; default: the part that keeps the name), the
    providers' parts, and the record of the operation."""
    if not plan.ok:
        raise ValidationError([f"{e.line}: {e.message}" for e in plan.errors])
    chosen = {**plan.default_choices(), **(choices or {})}
    reason = _("Structure change from %(d)s (%(f)s)") % {
        "d": plan.effective.strftime("%d.%m.%Y"),
        "f": plan.file_name or "–",
    }
    with transaction.atomic():
        _Applier(plan, user, reason).run(chosen)
        for provider in _providers:
            provider.apply(plan, user)
        record = StructureChange.objects.create(
            effective_from=plan.effective,
            file_name=plan.file_name[:200],
            content=plan.content,
            summary="\n".join(plan.lines()),
            details=_details(plan, chosen),
            applied_by=user if getattr(user, "pk", None) else None,
        )
        services.coverage_changed()
    return record


class _Applier:
    def __init__(self, plan: Plan, user, reason: str):
        self.plan, self.user, self.reason = plan, user, reason
        self.day = plan.effective

    def run(self, chosen: dict[int, str]) -> None:
        for c in self.plan.continuing:
            self._new_version(c.municipality, c.new)
        for split in self.plan.splits:
            for part in split.parts:
                part.municipality = self._create(split.continuing.municipality, part)
            self._contacts(split.contacts, split, chosen)
        for merge in self.plan.merges:
            survivor = merge.continuing.municipality
            for m in merge.merged:
                Municipality.objects.filter(pk=m.pk).update(valid_to=self.day - ONE_DAY)
                MunicipalityVersion.objects.filter(municipality=m, valid_to__isnull=True).update(
                    valid_to=self.day - ONE_DAY
                )
                survivor.predecessors.add(m)
            self._move(merge.organisations, survivor)
            for user in merge.contacts:
                user.municipalities.remove(*merge.merged)
                user.municipalities.add(survivor)

    def _new_version(self, m: Municipality, part: Part) -> None:
        MunicipalityVersion.objects.filter(municipality=m, valid_to__isnull=True).update(
            valid_to=self.day - ONE_DAY
        )
        MunicipalityVersion.objects.create(
            municipality=m,
            valid_from=self.day,
            number=part.number,
            name=part.name,
            county=part.county,
        )
        # A municipality row carries its latest version, as load_reference_data does.
        m.number, m.name, m.county = part.number, part.name, part.county
        m.save(update_fields=["number", "name", "county"])

    def _create(self, predecessor: Municipality, part: Part) -> Municipality:
        """A split-off part: residents estimated by its share (until the next population
        figures), the predecessor's catchment shares."""
        population = round(predecessor.population * part.share)
        m = Municipality.objects.create(
            number=part.number,
            name=part.name,
            county=part.county,
            population=population,
            population_67_plus=round(predecessor.population_67_plus * part.share),
            population_year=predecessor.population_year,
            valid_from=self.day,
        )
        MunicipalityVersion.objects.create(
            municipality=m, valid_from=self.day, number=m.number, name=m.name, county=m.county
        )
        m.predecessors.add(predecessor)
        shares = {c.health_trust_id: c.share for c in predecessor.catchments.all()}
        for trust_id, people in split_population(population, shares).items():
            Catchment.objects.create(
                municipality=m, health_trust_id=trust_id, share=shares[trust_id], population=people
            )
        return m

    def _contacts(self, contacts: list[User], split: Split, chosen: dict[int, str]) -> None:
        parts = {p.number: p.municipality for p in split.all_parts}
        for user in contacts:
            choice = chosen.get(user.pk, split.continuing.new.number)
            if choice != ALL_PARTS and choice not in parts:
                raise ValidationError(
                    _("%(u)s can follow %(parts)s or all of them, not “%(c)s”.")
                    % {"u": user, "parts": ", ".join(parts), "c": choice}
                )
            follows = list(parts.values()) if choice == ALL_PARTS else [parts[choice]]
            user.municipalities.remove(split.continuing.municipality)
            user.municipalities.add(*follows)

    def _move(self, organisations: list[Organisation], to: Municipality) -> None:
        trusts = list(to.health_trusts.all())
        # An organisation without a registry version yet gets one for where it was, from
        # its creation, so the day before the change still finds it there.
        unversioned = [o for o in organisations if not o.registry_versions.exists()]
        for o in unversioned:
            registry.record_versions([o], valid_from=o.created_at.date())
        history = []
        for o in organisations:
            before = services.organisation_state(o)
            o.municipality = to
            if o.health_trust not in trusts:
                o.health_trust = trusts[0]
            o.version += 1
            o.save(update_fields=["municipality", "health_trust", "version", "updated_at"])
            history += services.organisation_diff(before, o)
        services._record(history, user=self.user, source=Source.SYSTEM, reason=self.reason)
        registry.record_versions(organisations, valid_from=self.day)


def _details(plan: Plan, chosen: dict[int, str]) -> dict:
    """What the record keeps to replay the change on shipped reference data (by the
    identity of each municipality, see Municipality.identity_key) and to show it."""
    keys = {}

    def key(m: Municipality) -> str:
        if m.pk not in keys:
            keys[m.pk] = m.versions.order_by("valid_from").first().number
        return keys[m.pk]

    return {
        "versions": [
            {
                "key": key(c.municipality),
                "number": c.new.number,
                "name": c.new.name,
                "county": c.new.county.number,
            }
            for c in plan.continuing
        ],  # fmt: skip
        "created": [
            {"key": p.number, "predecessor": key(s.continuing.municipality)}
            for s in plan.splits
            for p in s.parts
        ],
        "ended": [key(m) for merge in plan.merges for m in merge.merged],
        "merged_into": [
            [key(merge.continuing.municipality), key(m)]
            for merge in plan.merges
            for m in merge.merged
        ],
        "organisations_moved": [o.pk for merge in plan.merges for o in merge.organisations],
        "contacts": {str(pk): choice for pk, choice in chosen.items()},
    }


# --- the shipped reference data and the changes applied since --------------------------------


def with_applied_changes(data: ReferenceData, stored: ReferenceData | None = None) -> list[str]:
    """Replay the applied structure changes on the shipped structure `data` (in place), so
    load_reference_data keeps them instead of undoing them. A change whose day the shipped
    data already has as a period is taken as shipped and skipped. New municipalities are
    left to the database (only their catchment shares are added, so the loader keeps them);
    with `stored` (the --check), they are taken from it so the comparison sees them.
    Returns what was replayed, one line per change."""
    starts = {v.valid_from for life in data.municipalities.values() for v in life.versions}
    said = []
    for change in StructureChange.objects.order_by("effective_from", "applied_at", "pk"):
        day, details = change.effective_from, change.details
        if day in starts:
            continue
        lives = data.municipalities
        for v in details.get("versions", []):
            life = lives[v["key"]]
            life.versions[-1].valid_to = day - ONE_DAY
            life.versions.append(Version(day, None, v["number"], v["name"], v["county"]))
        for key in details.get("ended", []):
            lives[key].valid_to = day - ONE_DAY
            lives[key].versions[-1].valid_to = day - ONE_DAY
        for survivor, merged in details.get("merged_into", []):
            lives[survivor].predecessors.append(merged)
        for new in details.get("created", []):
            data.catchments[new["key"]] = dict(data.catchments[new["predecessor"]])
            if stored is not None and new["key"] in stored.municipalities:
                lives[new["key"]] = stored.municipalities[new["key"]]
        said.append(str(change))
    return said
