from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from actors.models import (
    County,
    HealthTrust,
    Municipality,
    Organisation,
    OrganisationType,
    RecordSystem,
    RegionalHealthAuthority,
    Vendor,
)


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
    county = serializers.SlugRelatedField(slug_field="number", read_only=True)
    catchments = CatchmentShareSerializer(many=True, read_only=True)

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

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "type",
            "orgnr",
            "her_id",
            "municipality",
            "health_trust",
            "record_system",
            "is_active",
            "is_synthetic",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_synthetic", "version", "created_at", "updated_at"]
