"""One FilterSet per model, shared by the HTML lists and the API viewsets.

Foreign keys filter both by a natural key (`municipality=0301`, `health_trust=helse-bergen`)
and by id (`municipality_id=12`). Choices are limited to what the user may see. Municipality
and county numbers may be earlier ones (actors.filters: 3001 is 3101 Halden).
"""

import django_filters as filters
from django.core.validators import MinValueValidator
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _

from .choices import Source
from .filters import CountyNumberFilter, IdFilter, MunicipalityNumberFilter
from .models import (
    STRUCTURE_START,
    County,
    HealthTrust,
    Municipality,
    Organisation,
    OrganisationChange,
    OrganisationType,
    RecordSystem,
    RegionalHealthAuthority,
)
from .structure import StructureOn


def _visible(model):
    def queryset(request):
        user = getattr(request, "user", None)
        return model.objects.visible_to(user)

    return queryset


class ThenByName(filters.OrderingFilter):
    """Orderings by a related row (type, municipality, area) go on by the organisation's
    own order (name, organisation number): a page is the same at every request, and each
    group is read through its index on (relation, name, orgnr)."""

    THEN = ("name", "orgnr")

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        ordering = [str(entry) for entry in qs.query.order_by]
        if value and any(LOOKUP_SEP in entry for entry in ordering):
            qs = qs.order_by(*ordering, *(f for f in self.THEN if f not in ordering))
        return qs


class OrganisationFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"))
    type = filters.ModelChoiceFilter(
        queryset=OrganisationType.objects.all(), to_field_name="code", label=_("Type")
    )
    type_id = IdFilter(field_name="type_id", label=_("Type id"))
    county = CountyNumberFilter(field_name="municipality", label=_("County"))
    county_id = IdFilter(field_name="municipality__county_id", label=_("County id"))
    health_trust = filters.ModelChoiceFilter(
        queryset=_visible(HealthTrust), to_field_name="code", label=_("Health-trust area")
    )
    health_trust_id = IdFilter(field_name="health_trust_id", label=_("Area id"))
    municipality = MunicipalityNumberFilter(
        field_name="municipality",
        queryset=lambda request: Municipality.objects.visible_to(
            getattr(request, "user", None)
        ).current(),
        label=_("Municipality"),
    )
    municipality_id = IdFilter(field_name="municipality_id", label=_("Municipality id"))
    record_system = filters.ModelChoiceFilter(
        queryset=RecordSystem.objects.select_related("vendor"), label=_("Record system")
    )
    record_system_id = IdFilter(field_name="record_system_id")
    vendor_id = IdFilter(field_name="record_system__vendor_id", label=_("Vendor id"))
    is_active = filters.BooleanFilter(label=_("Active"))
    is_synthetic = filters.BooleanFilter(label=_("Synthetic"))
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed since")
    )
    ordering = ThenByName(
        fields=(
            ("name", "name"),
            ("orgnr", "orgnr"),
            ("type__sort_order", "type"),
            ("municipality__name", "municipality"),
            ("health_trust__short_name", "health_trust"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "name": _("Name"),
            "orgnr": _("Organisation number"),
            "type__sort_order": _("Type"),
            "municipality__name": _("Municipality"),
            "health_trust__short_name": _("Health-trust area"),
            "updated_at": _("Last changed"),
        },
        label=_("Sort by"),
        help_text=_("By type, municipality or health-trust area: then by name."),
    )

    class Meta:
        model = Organisation
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = (value or "").strip().casefold()
        return queryset.filter(search_text__contains=value) if value else queryset


class StructureDayFilter(filters.DateFilter):
    """A day whose municipal structure the list shows (`StructureOn(day)`): only the
    municipalities that existed then. Their numbers, names and counties of that day are
    the view's or serializer's to show. Days before the structure is known are refused."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "validators",
            [
                MinValueValidator(
                    STRUCTURE_START,
                    _("The municipal structure is known from 1 January 2020 on."),
                )
            ],
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(pk__in=list(StructureOn(value).places))


class MunicipalityFilterSet(filters.FilterSet):
    """`date` (the page's `dato`) lists the municipalities of a past day, and `number` and
    `county` are then read as they were that day too. Without it the view lists today's."""

    number = MunicipalityNumberFilter(field_name="pk", label=_("Municipality number"))
    date = StructureDayFilter(label=_("Structure on date"))
    county = CountyNumberFilter(field_name="", label=_("County"))
    county_id = IdFilter(field_name="county_id")
    health_trust = filters.ModelChoiceFilter(
        field_name="health_trusts",
        queryset=HealthTrust.objects.all(),
        to_field_name="code",
        label=_("Health-trust area"),
    )
    health_trust_id = IdFilter(field_name="health_trusts__id")

    class Meta:
        model = Municipality
        fields: list[str] = []


class MunicipalityPageFilterSet(MunicipalityFilterSet):
    """The page's parameters are Norwegian: `?dato=YYYY-MM-DD`."""

    dato = StructureDayFilter(label=_("Structure on date"))


class HealthTrustFilterSet(filters.FilterSet):
    regional_health_authority = filters.CharFilter(field_name="regional_health_authority__code")
    regional_health_authority_id = IdFilter(field_name="regional_health_authority_id")

    class Meta:
        model = HealthTrust
        fields = ["code"]


class CountyFilterSet(filters.FilterSet):
    class Meta:
        model = County
        fields = ["number"]


class RegionalHealthAuthorityFilterSet(filters.FilterSet):
    class Meta:
        model = RegionalHealthAuthority
        fields = ["code"]


class OrganisationChangeFilterSet(filters.FilterSet):
    """The registry history: by organisation (orgnr or id), kind, source, field and time."""

    organisation = filters.CharFilter(
        field_name="organisation__orgnr", label=_("Organisation number")
    )
    organisation_id = IdFilter(field_name="organisation_id")
    municipality = MunicipalityNumberFilter(method="of_organisations", label=_("Municipality"))
    health_trust = filters.CharFilter(method="of_organisations", label=_("Health-trust area"))
    kind = filters.MultipleChoiceFilter(
        distinct=False, choices=OrganisationChange.Kind.choices, label=_("Kind")
    )
    source = filters.MultipleChoiceFilter(distinct=False, choices=Source.choices, label=_("Source"))
    field = filters.CharFilter(label=_("Field"))
    changed_after = filters.IsoDateTimeFilter(
        field_name="changed_at", lookup_expr="gte", label=_("Recorded from")
    )
    changed_before = filters.IsoDateTimeFilter(
        field_name="changed_at", lookup_expr="lt", label=_("Recorded before")
    )

    def of_organisations(self, queryset, name, value):
        """The changes of the organisations now in a municipality or health-trust area,
        found through each organisation's own history (actors.filters.AmongHashed)."""
        where = {"municipality": value} if name == "municipality" else {"health_trust__code": value}
        return queryset.filter(
            organisation__among=Organisation.objects.filter(**where).order_by().values("pk")
        )

    class Meta:
        model = OrganisationChange
        fields: list[str] = []
