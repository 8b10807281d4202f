"""An Enhetsregisteret extract as registry rows (issue 16): each sub-unit's type from its
industry code (IndustryCode, data), limited to the municipalities and types asked for;
units whose code maps to no tracked type are skipped and counted, never errors. The rows
then go through the same validation and all-or-nothing write as the registry CSV."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .enhetsregisteret import closed_on, units
from .identifiers import parse_orgnr
from .models import IndustryCode, Municipality, Organisation
from .numbers import MunicipalityNumbers


@dataclass
class Limits:
    """What the user limited the import to: municipality numbers and type codes (empty:
    everything the file has)."""

    municipalities: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


@dataclass
class RegisterRead:
    rows: list[tuple[int, dict]]
    format: str
    units: int = 0
    unmapped: Counter = field(default_factory=Counter)  # industry code -> units skipped
    outside_limits: int = 0
    closed_unknown: int = 0  # closed units we never had: nothing to do
    needs_area: list[tuple[int, str, str, str]] = field(default_factory=list)
    orgnrs: set[str] = field(default_factory=set)  # every unit in the file
    municipality_ids: set[int] = field(default_factory=set)  # the extract's municipalities
    type_codes: set[str] = field(default_factory=set)  # the types the extract can hold
    limit_errors: list[str] = field(default_factory=list)


def read_register(raw: bytes, limits: Limits) -> RegisterRead:
    unit_stream, name = units(raw)
    codes = {
        c.code: c.organisation_type.code
        for c in IndustryCode.objects.select_related("organisation_type")
    }
    numbers = MunicipalityNumbers()
    read = RegisterRead([], name)
    wanted_municipalities = set()
    for number in limits.municipalities:
        found = numbers.resolve(number)
        if found.error:
            read.limit_errors.append(found.error)
        else:
            wanted_municipalities.add(found.municipality.pk)
    wanted_types = set(limits.types)
    read.type_codes = (wanted_types or set(codes.values())) & set(codes.values())
    if wanted_types - set(codes.values()):
        read.limit_errors.append(
            _("No industry code gives the type(s) %(t)s; the types with codes are %(c)s.")
            % {
                "t": ", ".join(sorted(wanted_types - set(codes.values()))),
                "c": ", ".join(sorted(set(codes.values()))),
            }
        )
    kept = []
    for unit in unit_stream:
        read.units += 1
        read.orgnrs.add(unit.orgnr.strip())  # the register writes nine digits
        type_code = codes.get(unit.industry_code.strip())
        if type_code is None:
            read.unmapped[unit.industry_code.strip() or "–"] += 1
            continue
        place = numbers.resolve(unit.municipality)
        if place.municipality is not None:
            if wanted_municipalities and place.municipality.pk not in wanted_municipalities:
                read.outside_limits += 1
                continue
            read.municipality_ids.add(place.municipality.pk)
        if wanted_types and type_code not in wanted_types:
            read.outside_limits += 1
            continue
        kept.append((unit, parse_orgnr(unit.orgnr).value, type_code, place.municipality))
    if wanted_municipalities:
        read.municipality_ids = wanted_municipalities
    existing = set(
        Organisation.objects.filter(orgnr__in=[o for _u, o, _t, _m in kept if o]).values_list(
            "orgnr", flat=True
        )
    )
    two_areas = set(
        Municipality.objects.filter(catchments__share__lt=1).values_list("pk", flat=True)
    )
    for unit, orgnr, type_code, municipality in kept:
        row = {
            "organisasjonsnummer": unit.orgnr,
            "navn": unit.name,
            "type": type_code,
            "kommunenummer": unit.municipality,
            "_present": set(),
            "_active": True,
        }
        try:
            closed = closed_on(unit)
        except ValueError:
            closed, row["_bad_date"] = None, unit.closed
        if closed is not None:
            if orgnr not in existing:
                read.closed_unknown += 1
                continue
            row["_active"] = False
            row["_reason"] = _("closed down %(d)s (nedleggelsesdato)") % {
                "d": closed.strftime("%d.%m.%Y")
            }
        if orgnr not in existing and municipality is not None and municipality.pk in two_areas:
            # Which of the municipality's areas cannot be read from the register: listed
            # for the user to add with a health trust, never guessed.
            read.needs_area.append((unit.line, orgnr, unit.name, str(municipality)))
            continue
        read.rows.append((unit.line, row))
    return read


def disappeared(read: RegisterRead, scope) -> list[Organisation]:
    """Active organisations of the extract's types in its municipalities, within the
    user's reach, that the full extract no longer lists (synthetic demo records aside)."""
    return list(
        scope.filter_editable(Organisation.objects.all())
        .filter(
            is_active=True,
            is_synthetic=False,
            municipality_id__in=read.municipality_ids,
            type__code__in=read.type_codes,
        )
        .exclude(orgnr__in=read.orgnrs)
        .select_related("type", "municipality", "health_trust", "record_system__vendor")
    )
