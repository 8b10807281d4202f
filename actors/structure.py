"""Norway's municipal structure on a given day: which municipalities exist, under which
number and name, in which county, and where a municipality that did not exist that day
(a part split off later, or one that has since ended) is counted. The one place for that
rule: counting, pages, reports and the API ask `StructureOn(day)`.

Reads three small tables once (municipality versions, predecessors, counties)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from .models import (
    STRUCTURE_START,
    County,
    Municipality,
    MunicipalityPopulation,
    MunicipalityVersion,
)


def population_years() -> list[int]:
    return sorted(set(MunicipalityPopulation.objects.values_list("year", flat=True)))


def population_year_for(day: datetime.date) -> int | None:
    """The population year a figure about `day` uses: 1 January of that day's year, or the
    latest year loaded before it (the earliest loaded for a day before all of them)."""
    years = population_years()
    if not years:
        return None
    earlier = [y for y in years if y <= day.year]
    return earlier[-1] if earlier else years[0]


@dataclass(frozen=True)
class Place:
    """A municipality as it stood on the day."""

    municipality_id: int
    number: str
    name: str
    county_id: int


class StructureOn:
    def __init__(self, day: datetime.date | None = None):
        # Before the first structure loaded (1 January 2020), the first one.
        self.day = max(day or timezone.localdate(), STRUCTURE_START)
        self.places: dict[int, Place] = {}
        for v in MunicipalityVersion.objects.filter(valid_from__lte=self.day).order_by(
            "valid_from"
        ):
            if v.valid_to is None or v.valid_to >= self.day:
                self.places[v.municipality_id] = Place(
                    v.municipality_id, v.number, v.name, v.county_id
                )
        existing = set(Municipality.objects.on(self.day).values_list("pk", flat=True))
        # A municipality without a version row (should not happen once loaded) keeps
        # today's values while it exists.
        for m in Municipality.objects.filter(pk__in=existing - set(self.places)):
            self.places[m.pk] = Place(m.pk, m.number, m.name, m.county_id)
        for pk in set(self.places) - existing:
            del self.places[pk]
        self._predecessors: dict[int, list[int]] = {}
        self._successors: dict[int, list[int]] = {}
        for successor, predecessor in Municipality.predecessors.through.objects.values_list(
            "from_municipality_id", "to_municipality_id"
        ):
            self._predecessors.setdefault(successor, []).append(predecessor)
            self._successors.setdefault(predecessor, []).append(successor)
        self.county_ids = set(County.objects.on(self.day).values_list("pk", flat=True))

    def __contains__(self, municipality_id: int) -> bool:
        return municipality_id in self.places

    def __len__(self) -> int:
        return len(self.places)

    def county_of(self, municipality_id: int) -> int:
        return self.places[self.counted_in(municipality_id)].county_id

    def counted_in(self, municipality_id: int) -> int:
        """The municipality of the day that `municipality_id` is counted in: itself when it
        existed; otherwise the predecessor that existed (1580 Haram on a day in 2023 counts
        in Ålesund) or, for one that has ended, its successor. Where a merge leaves more
        than one candidate, the one with the lowest number on the day is taken: that is the
        rule and the page says so; a structure change applied as an operation writes each
        organisation's own history, which is used before this fallback."""
        if municipality_id in self.places:
            return municipality_id
        for links in (self._predecessors, self._successors):
            seen, frontier = {municipality_id}, [municipality_id]
            while frontier:
                found = []
                following = []
                for pk in frontier:
                    for other in links.get(pk, []):
                        if other in seen:
                            continue
                        seen.add(other)
                        (found if other in self.places else following).append(other)
                if found:
                    return min(found, key=lambda pk: self.places[pk].number)
                frontier = following
        raise KeyError(
            f"Municipality {municipality_id} has no counterpart in the structure of {self.day}"
        )

    def municipality_ids(self) -> list[int]:
        return sorted(self.places, key=lambda pk: self.places[pk].number)

    def county_municipalities(self) -> dict[int, int]:
        """{municipality id: county id} for every municipality of the day."""
        return {pk: place.county_id for pk, place in self.places.items()}

    def population(self, year: int) -> dict[int, int]:
        """{municipality of the day: residents on 1 January `year`}, each year's figure
        counted in the municipality of the day it belongs to (Haram's 2026 residents are
        Ålesund's on a day in 2023), so any year can be read in any day's structure."""
        totals = dict.fromkeys(self.places, 0)
        for pk, residents in MunicipalityPopulation.objects.filter(year=year).values_list(
            "municipality_id", "population"
        ):
            totals[self.counted_in(pk)] += residents
        return totals
