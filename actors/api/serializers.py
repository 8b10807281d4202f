from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from actors.api.fields import ChoiceLabelField, EnumChoiceField, UserField
from actors.choices import Source
from actors.models import (
    County,
    HealthTrust,
    Job,
    Municipality,
    Organisation,
    OrganisationChange,
    OrganisationType,
    RecordSystem,
    RegionalHealthAuthority,
    Vendor,
    validate_orgnr,
)
from actors.services import EDITABLE_ORGANISATION_FIELDS


def request_user(serializer):
    """The user of the request the serializer works for (None without a request)."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def absolute_url(serializer, url: str) -> str:
    """`url` with the request's scheme and host (as it is without a request)."""
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request else url


class RegionalHealthAuthoritySerializer(serializers.ModelSerializer):
    class Meta:
        model = RegionalHealthAuthority
        fields = ["id", "code", "name"]


class HealthTrustSerializer(serializers.ModelSerializer):
    regional_health_authority = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = HealthTrust
        fields = ["id", "code", "name", "short_name", "regional_health_authority"]


class CountySerializer(serializers.ModelSerializer):
    class Meta:
        model = County
        fields = ["id", "number", "name"]


class CatchmentShareSerializer(serializers.Serializer):
    health_trust = serializers.CharField(source="health_trust.code")
    population = serializers.IntegerField()


class MunicipalitySerializer(serializers.ModelSerializer):
    """With a `structure` in the context (the list's `?date=`), number, name and county are
    that day's."""

    county = serializers.SlugRelatedField(slug_field="number", read_only=True)
    catchments = CatchmentShareSerializer(many=True, read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        structure = self.context.get("structure")
        if structure is not None and instance.pk in structure:
            place = structure.places[instance.pk]
            if "county_numbers" not in self.context:  # read once per response
                self.context["county_numbers"] = dict(County.objects.values_list("pk", "number"))
            counties = self.context["county_numbers"]
            data.update(number=place.number, name=place.name, county=counties[place.county_id])
        return data

    class Meta:
        model = Municipality
        fields = [
            "id",
            "number",
            "name",
            "county",
            "population",
            "population_67_plus",
            "catchments",
        ]


class RecordSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecordSystem
        fields = ["id", "name"]


class VendorSerializer(serializers.ModelSerializer):
    products = RecordSystemSerializer(many=True, read_only=True)

    class Meta:
        model = Vendor
        fields = ["id", "name", "orgnr", "is_synthetic", "products"]


class OrganisationSerializer(serializers.ModelSerializer):
    type = serializers.SlugRelatedField(slug_field="code", queryset=OrganisationType.objects.all())
    municipality = serializers.SlugRelatedField(
        slug_field="number", queryset=Municipality.objects.all()
    )
    health_trust = serializers.SlugRelatedField(
        slug_field="code",
        queryset=HealthTrust.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Derived from the municipality when omitted; required where it has two areas."),
    )
    record_system = serializers.PrimaryKeyRelatedField(
        queryset=RecordSystem.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=_("Why (optional); kept with the change in the registry history."),
    )

    class Meta:
        model = Organisation
        fields = [
            "id",
            *EDITABLE_ORGANISATION_FIELDS,
            "is_synthetic",
            "version",
            "created_at",
            "updated_at",
            "reason",
        ]
        read_only_fields = ["is_synthetic", "version", "created_at", "updated_at"]
        # Uniqueness is the service's: a number taken outside your reach answers as unknown.
        extra_kwargs = {"orgnr": {"validators": [validate_orgnr]}}


class OrganisationChangeChoiceField(EnumChoiceField):
    """A registry change's kind, documented as `OrganisationChangeKindChoice`."""

    prefix = "OrganisationChange"


class OrganisationChangeSerializer(serializers.ModelSerializer):
    orgnr = serializers.CharField(source="organisation.orgnr", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    kind = OrganisationChangeChoiceField(OrganisationChange.Kind, read_only=True)
    kind_label = ChoiceLabelField(source="kind")
    field = serializers.CharField(
        read_only=True, help_text=_("The changed field; empty for a creation.")
    )
    field_label = serializers.CharField(read_only=True)
    source = EnumChoiceField(Source, read_only=True)
    source_label = ChoiceLabelField(source="source")
    changed_by = UserField(
        help_text=_("Who made the change; null for the system (commands, demo data)."),
    )

    class Meta:
        model = OrganisationChange
        fields = [
            "id",
            "organisation",
            "orgnr",
            "organisation_name",
            "kind",
            "kind_label",
            "field",
            "field_label",
            "old_value",
            "new_value",
            "reason",
            "source",
            "source_label",
            "changed_at",
            "changed_by",
        ]
        read_only_fields = fields


# --- jobs -----------------------------------------------------------------------------


class JobChoiceField(EnumChoiceField):
    """A job's kind or state, documented as `JobKindChoice` / `JobStateChoice` (plain
    `KindEnum` would collide with other fields called `kind`)."""

    prefix = "Job"


class JobSerializer(serializers.ModelSerializer):
    kind = JobChoiceField(Job.Kind, read_only=True)
    kind_label = ChoiceLabelField(source="kind")
    state = JobChoiceField(Job.State, read_only=True)
    state_label = serializers.CharField(read_only=True)
    params = serializers.JSONField(read_only=True, help_text=_("The parameters it runs with."))
    result = serializers.JSONField(read_only=True, help_text=_("What it did, once done."))
    progress = serializers.FloatField(read_only=True, help_text=_("From 0 to 1."))
    is_finished = serializers.BooleanField(read_only=True, help_text=_("Done or failed."))
    is_stalled = serializers.BooleanField(
        read_only=True,
        help_text=_("Running, but its worker has given no sign of life for a while."),
    )
    created_by = UserField(
        help_text=_("Who asked for it; null for the system (nightly run, after changes)."),
    )
    download = serializers.SerializerMethodField(
        help_text=_("Where to fetch the file a report job made (its owner only); null before.")
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "params",
            "done",
            "total",
            "progress",
            "is_finished",
            "is_stalled",
            "attempts",
            "heartbeat_at",
            "message",
            "result",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, job) -> str | None:
        request = self.context.get("request")
        if not job.has_file or request is None or job.created_by_id != request.user.pk:
            return None
        return reverse("job-download", args=[job.pk])
