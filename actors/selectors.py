"""Reads and aggregates for pages and the API. Everything takes the user and starts from
the scoped querysets."""

from __future__ import annotations

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber

from .models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    Organisation,
    OrganisationType,
    RegionalHealthAuthority,
)
from .reference import MunicipalityLife, ReferenceData, Version


def type_counts(organisations) -> list[dict]:
    """[{type, count}] for every organisation type, zero included (two queries)."""
    counts = dict(
        organisations.filter(is_active=True)
        .values_list("type_id")
        .annotate(n=Count("id"))
        .values_list("type_id", "n")
    )
    return [{"type": t, "count": counts.get(t.pk, 0)} for t in OrganisationType.objects.all()]


def area_rows(user) -> list[HealthTrust]:
    """The user's visible health-trust areas with municipalities, population and
    active organisations counted in the database."""
    trusts = HealthTrust.objects.visible_to(user).select_related("regional_health_authority")
    catchment = {
        row["health_trust_id"]: row
        for row in Catchment.objects.values("health_trust_id").annotate(
            population=Sum("population"), municipalities=Count("municipality_id")
        )
    }
    organisations = dict(
        Organisation.objects.visible_to(user)
        .filter(is_active=True)
        .values_list("health_trust_id")
        .annotate(n=Count("id"))
        .values_list("health_trust_id", "n")
    )
    rows = list(trusts)
    for trust in rows:
        stats = catchment.get(trust.pk, {})
        trust.population_total = stats.get("population", 0)
        trust.municipality_count = stats.get("municipalities", 0)
        trust.organisation_count = organisations.get(trust.pk, 0)
    return rows


def municipalities_with_counts(queryset):
    return (
        queryset.select_related("county")
        .annotate(
            organisation_count=Count("organisations", filter=Q(organisations__is_active=True))
        )
        .order_by("number")
    )


def municipality_types(user, municipality: Municipality) -> list[tuple[OrganisationType, int]]:
    """[(type, organisations)] of the municipality's organisations the user sees, in the
    types' order (two queries)."""
    counts = dict(
        Organisation.objects.visible_to(user)
        .filter(municipality=municipality)
        .order_by()
        .values_list("type_id")
        .annotate(n=Count("pk"))
    )
    return [(t, counts[t.pk]) for t in OrganisationType.objects.filter(pk__in=list(counts))]


def municipality_type_rows(
    user, municipality: Municipality, skip: dict[int, int], size: int
) -> dict[int, list[Organisation]]:
    """{type id: its organisations in the municipality, by name, after the first
    `skip[type id]`, at most `size`}: a page of each type in `skip`, in one query (each
    row numbered within its type)."""
    if not skip:
        return {}
    offset = Case(
        *(When(type_id=pk, then=Value(n)) for pk, n in skip.items()), output_field=IntegerField()
    )
    position = Window(RowNumber(), partition_by=F("type_id"), order_by=[F("name"), F("pk")])
    rows = (
        Organisation.objects.visible_to(user)
        .filter(municipality=municipality, type_id__in=list(skip))
        .select_related("type", "health_trust", "record_system__vendor")
        .annotate(position=position - offset)
        .filter(position__gt=0, position__lte=size)
        .order_by("type_id", "name", "pk")
    )
    result: dict[int, list[Organisation]] = {}
    for organisation in rows:
        result.setdefault(organisation.type_id, []).append(organisation)
    return result


def reference_data_stored() -> ReferenceData:
    """The reference structure as the database holds it, in the shape `read_reference()`
    gives the shipped copy (so the same invariants can be checked against the database,
    e.g. after restoring a backup)."""
    data = ReferenceData(
        regional_health_authorities=dict(
            RegionalHealthAuthority.objects.values_list("code", "name")
        ),
        health_trusts={
            t.code: {
                "name": t.name,
                "short_name": t.short_name,
                "rha_code": t.regional_health_authority.code,
            }
            for t in HealthTrust.objects.select_related("regional_health_authority")
        },
        counties={
            c.number: {"name": c.name, "valid_from": c.valid_from, "valid_to": c.valid_to}
            for c in County.objects.all()
        },
    )
    municipalities = Municipality.objects.prefetch_related(
        "versions__county", "populations", "predecessors__versions", "catchments__health_trust"
    )

    for m in municipalities:
        life = MunicipalityLife(
            key=m.identity_key,
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            versions=[
                Version(v.valid_from, v.valid_to, v.number, v.name, v.county.number)
                for v in sorted(m.versions.all(), key=lambda v: v.valid_from)
            ],
            predecessors=[p.identity_key for p in m.predecessors.all()],
            population={p.year: (p.population, p.population_67_plus) for p in m.populations.all()},
        )
        # Pages read the latest year from the municipality itself: a copy that disagrees
        # with its year's row shows as a difference too.
        if m.population_year in life.population:
            life.population[m.population_year] = (m.population, m.population_67_plus)
        data.municipalities[life.key] = life
        data.catchments[life.key] = {c.health_trust.code: c.share for c in m.catchments.all()}
    return data
