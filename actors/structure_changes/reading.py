"""Reading and checking a change list against the structure of the day before it takes
effect: every error with its line and what to fix, or the plan of everything it does."""

from __future__ import annotations

import contextlib
import datetime
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db.models import Max
from django.utils.translation import gettext as _

from ..choices import Role
from ..imports import ImportFileError, decode, read_rows
from ..models import County, Municipality, MunicipalityVersion, Organisation, User
from ..reference import KNOWN_CHANGES
from ..structure import StructureOn
from .plan import ONE_DAY, Continuing, LineError, Merge, Part, Plan, Split, providers

REQUIRED_COLUMNS = ("old_kommunenummer", "old_navn", "new_kommunenummer", "new_navn", "change")
# change_occurred: the day it takes effect (as in endringer-2026.csv), when not given apart;
# andel: for a split, the share of the residents that each part gets.
OPTIONAL_COLUMNS = ("change_occurred", "andel")


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
        for provider in providers():
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
