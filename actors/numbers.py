"""Municipality numbers as people have them: today's, an earlier one (mapped to today's,
with a notice that says so), or refused with a hint that says what to write. Imports, API
filters and URLs all read numbers through `MunicipalityNumbers`."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .identifiers import spreadsheet_damage, strip_text_marker
from .models import County, Municipality, MunicipalityVersion


@dataclass
class Resolved:
    municipality: Municipality | None
    notice: str = ""  # an earlier number mapped to today's (say so in the report)
    error: str = ""  # refused: what to write instead
    # A number that was split: today's municipalities it became (1507: 1508, 1580).
    choices: list[Municipality] = field(default_factory=list)


class MunicipalityNumbers:
    """Every number any municipality has had, fetched once (an import resolves thousands
    of rows without a query each). `municipalities` narrows what counts as found (for
    instance to those the user can see); others answer as unknown."""

    def __init__(self, municipalities=None, *, on: datetime.date | None = None):
        self.day = on or timezone.localdate()
        queryset = Municipality.objects.all() if municipalities is None else municipalities
        self.by_pk = {m.pk: m for m in queryset}
        self.versions: dict[str, list[MunicipalityVersion]] = {}
        for v in MunicipalityVersion.objects.order_by("valid_from"):
            self.versions.setdefault(v.number, []).append(v)
        self.successors: dict[int, list[int]] = {}
        for pk, successor in Municipality.predecessors.through.objects.values_list(
            "to_municipality_id", "from_municipality_id"
        ):
            self.successors.setdefault(pk, []).append(successor)

    def _valid(self, version: MunicipalityVersion) -> bool:
        return version.valid_from <= self.day and (
            version.valid_to is None or self.day <= version.valid_to
        )

    def _municipality(self, pk: int) -> Municipality:
        """Also one outside `municipalities` (a split's other part is named in a refusal)."""
        return self.by_pk.get(pk) or Municipality.objects.get(pk=pk)

    def resolve(self, text) -> Resolved:
        raw = str(text or "").strip()
        number = re.sub(r"\s+", "", strip_text_marker(raw))
        if not number:
            return Resolved(None, error=_("The municipality number is missing."))
        damage = spreadsheet_damage(number)
        if damage:
            return Resolved(None, error=damage)
        if number.isdigit() and len(number) == 2:
            county = County.objects.filter(number=number).order_by("-valid_from").first()
            if county is not None:
                return Resolved(
                    None,
                    error=_(
                        "“%(v)s” is the number of a county (%(county)s); write the "
                        "municipality's four-digit number."
                    )
                    % {"v": raw, "county": county.name},
                )
        if not number.isdigit():
            return Resolved(
                None,
                error=_("“%(v)s” is not a municipality number: write its four digits, e.g. 4601.")
                % {"v": raw},
            )
        if len(number) < 4 and number.zfill(4) in self.versions:
            return Resolved(
                None,
                error=_(
                    "“%(v)s” has lost its leading zero (spreadsheets drop it): write “%(n)s”, "
                    "and format the column as text."
                )
                % {"v": raw, "n": number.zfill(4)},
            )
        versions = self.versions.get(number, [])
        for v in versions:
            if self._valid(v):
                return self._found(v.municipality_id, raw)
        if not versions:
            return self._unknown(raw)
        # An earlier number: where did the municipality go?
        version = versions[-1]
        pk = version.municipality_id
        ended = self.day > version.valid_to if version.valid_to else False
        split_off = [
            s
            for s in self.successors.get(pk, [])
            if self._starts_after(s, version) and self._exists(s)
        ]
        if ended and split_off:
            parts = [self._municipality(p) for p in [pk, *split_off] if self._exists(p)]
            choices = [f"{m.number} {m.name}" for m in parts]
            return Resolved(
                None,
                choices=parts,
                error=_(
                    "%(v)s was %(name)s until %(end)s; it was then split into %(choices)s. "
                    "Write the number of the one the row belongs to."
                )
                % {
                    "v": number,
                    "name": version.name,
                    "end": version.valid_to.strftime("%d.%m.%Y"),
                    "choices": _(" and ").join([", ".join(choices[:-1]), choices[-1]])
                    if len(choices) > 1
                    else choices[0],
                },
            )
        if not self._exists(pk):  # merged into another
            heirs = [s for s in self.successors.get(pk, []) if self._exists(s)]
            if len(heirs) != 1:
                return self._unknown(raw)
            pk = heirs[0]
        if pk not in self.by_pk:
            return self._unknown(raw)
        found = self.by_pk[pk]
        if not ended:  # a number that is not valid yet
            return self._unknown(raw)
        return Resolved(
            found,
            notice=_("%(old)s is %(new)s %(name)s from %(year)s")
            % {
                "old": number,
                "new": found.number,
                "name": found.name,
                "year": (version.valid_to + datetime.timedelta(days=1)).year,
            },
        )

    def _starts_after(self, pk: int, version: MunicipalityVersion) -> bool:
        m = self._municipality(pk)
        return (
            version.valid_to is not None
            and m.valid_from == version.valid_to + datetime.timedelta(days=1)
        )

    def _exists(self, pk: int) -> bool:
        m = self._municipality(pk)
        return m.valid_from <= self.day and (m.valid_to is None or self.day <= m.valid_to)

    def _found(self, pk: int, raw: str) -> Resolved:
        if pk not in self.by_pk:
            return self._unknown(raw)
        return Resolved(self.by_pk[pk])

    def _unknown(self, raw: str) -> Resolved:
        return Resolved(None, error=_("Unknown municipality number “%(v)s”.") % {"v": raw})


def resolve_number(text, municipalities=None, *, on: datetime.date | None = None) -> Resolved:
    """One number (a URL, a filter); for many, make one MunicipalityNumbers and reuse it.
    A number valid on the day is found with two small queries; anything else (an earlier
    number, a typo) is read through every number any municipality has had."""
    number = str(text or "").strip()
    if re.fullmatch(r"\d{4}", number):
        day = on or timezone.localdate()
        version = (
            MunicipalityVersion.objects.filter(number=number, valid_from__lte=day)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
            .order_by("valid_from")
            .first()
        )
        queryset = Municipality.objects.all() if municipalities is None else municipalities
        found = version and queryset.filter(pk=version.municipality_id).first()
        if found:
            return Resolved(found)
    return MunicipalityNumbers(municipalities, on=on).resolve(text)
