from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    Catchment,
    County,
    HealthTrust,
    IndustryCode,
    Job,
    Municipality,
    Organisation,
    OrganisationChange,
    OrganisationType,
    RecordSystem,
    RegionalHealthAuthority,
    User,
    Vendor,
)


class CatchmentInline(admin.TabularInline):
    model = Catchment
    extra = 0


@admin.register(RegionalHealthAuthority)
class RegionalHealthAuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(HealthTrust)
class HealthTrustAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "code", "regional_health_authority"]
    list_filter = ["regional_health_authority"]


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "county", "population", "population_67_plus"]
    list_filter = ["county"]
    search_fields = ["number", "name"]
    inlines = [CatchmentInline]


@admin.register(IndustryCode)
class IndustryCodeAdmin(admin.ModelAdmin):
    """Which industry code means which organisation type in an Enhetsregisteret import."""

    list_display = ["code", "description", "organisation_type", "source"]
    list_filter = ["organisation_type"]
    search_fields = ["code", "description"]


@admin.register(OrganisationType)
class OrganisationTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "aliases", "sort_order"]


class RecordSystemInline(admin.TabularInline):
    model = RecordSystem
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "orgnr", "is_synthetic"]
    inlines = [RecordSystemInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that change only through the services, which keep rules and history."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationChangeInline(admin.TabularInline):
    model = OrganisationChange
    fields = ["changed_at", "kind", "field", "old_value", "new_value", "reason", "source"]
    readonly_fields = fields
    extra = 0
    ordering = ["-changed_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    """Read only: organisations change through actors.services (the pages, the API, the
    import), which apply the scope rule and write the registry history."""

    list_display = ["name", "orgnr", "type", "municipality", "health_trust", "is_active"]
    list_filter = ["type", "is_active", "is_synthetic", "health_trust"]
    search_fields = ["name", "orgnr"]
    inlines = [OrganisationChangeInline]


@admin.register(OrganisationChange)
class OrganisationChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "organisation", "kind", "field", "source", "changed_by"]
    list_filter = ["kind", "source"]
    search_fields = ["organisation__name", "organisation__orgnr"]
    list_select_related = ["organisation", "changed_by"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "national_scope", "is_active"]
    list_filter = ["role", "is_active", "national_scope"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            _("Role and scope"),
            {"fields": ["role", "national_scope", "health_trusts", "municipalities", "phone"]},
        ),
    )
    filter_horizontal = ["health_trusts", "municipalities", "groups", "user_permissions"]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "state", "done", "total", "created_by", "created_at"]
    list_filter = ["kind", "state"]
