"""What a structure change does, as read from a change list: the plan the dry run shows
and `apply` writes, who may do it, and the hook through which higher apps take part."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from .. import scoping
from ..choices import Role
from ..models import County, Municipality, Organisation, User
from ..structure import Place

ALL_PARTS = "all"
ONE_DAY = datetime.timedelta(days=1)


def can_change_structure(user) -> bool:
    """Structure changes are for administrators (the role, or a superuser): the operation
    changes every place and agreement it touches."""
    return scoping.scope_for(user).role == Role.ADMIN


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


def providers() -> list:
    return list(_providers)


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
                "  "
                + _("%(old)s is split: %(parts)s; %(n)s organisations stay in %(keep)s")
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
                "  "
                + _("%(olds)s are merged into %(new)s; %(n)s organisations move")
                % {"olds": olds, "new": f"{new.number} {new.name}", "n": len(m.organisations)}
            )
        for text in self.boundary:
            out.append(f"  {text}")
        for section in self.sections:
            out.append(f"{section.title}:")
            out.extend("  " + " | ".join(row) for row in section.rows)
        return out
