from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import access
from .models import (
    AccessChange,
    Catchment,
    County,
    HealthTrust,
    IndustryCode,
    Invitation,
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

# The site's name on the admin's pages, not Django's.
admin.site.site_header = _("E-health rollout – administration")
admin.site.site_title = _("E-health rollout")


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


class ReadOnlyInline(admin.TabularInline):
    """An append-only history shown under its record, newest first."""

    extra = 0
    ordering = ["-changed_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationChangeInline(ReadOnlyInline):
    model = OrganisationChange
    fields = ["changed_at", "kind", "field", "old_value", "new_value", "reason", "source"]
    readonly_fields = fields


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


class AccessChangeInline(ReadOnlyInline):
    model = AccessChange
    fk_name = "user"
    fields = ["changed_at", "kind", "old_value", "new_value", "reason", "source", "changed_by"]
    readonly_fields = fields


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """A change of role, national scope, areas or municipalities made here is written to the
    user's access log (source "admin") like any other, and a user who loses their role loses
    their API keys (actors.access.record)."""

    list_display = ["username", "first_name", "last_name", "role", "national_scope", "is_active"]
    list_filter = ["role", "is_active", "national_scope"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            _("Role and scope"),
            {"fields": ["role", "national_scope", "health_trusts", "municipalities", "phone"]},
        ),
        (
            _("Identity provider"),
            {"fields": ["oidc_subject", "orgnr", "role_from_group"]},
        ),
    )
    readonly_fields = ["role_from_group"]
    filter_horizontal = ["health_trusts", "municipalities", "groups", "user_permissions"]
    inlines = [AccessChangeInline]

    def save_model(self, request, obj, form, change):
        # The access as it was, read before the form's values and assignments are saved.
        before = access.Access.of(User.objects.get(pk=obj.pk)) if obj.pk else access.Access()
        request._access_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(request, "_access_before", access.Access())
        after = access.Access.of(user)
        if after != before:
            access.record(user, before, after, by=request.user, source=AccessChange.Source.ADMIN)


@admin.register(AccessChange)
class AccessChangeAdmin(ReadOnlyAdmin):
    """The append-only access log: read only here as everywhere."""

    list_display = ["changed_at", "user", "kind", "old_value", "new_value", "source", "changed_by"]
    list_filter = ["kind", "source"]
    search_fields = ["user__username", "user__email", "old_value", "new_value"]
    list_select_related = ["user", "changed_by"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are sent and withdrawn in the application (actors.access)."""

    list_display = ["email", "name", "role", "created_by", "created_at", "expires_at", "state"]
    list_filter = ["role"]
    search_fields = ["email", "name"]
    list_select_related = ["created_by"]
    exclude = ["token_hash"]

    @admin.display(description=_("state"))
    def state(self, invitation):
        return invitation.get_state_display()


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "state", "done", "total", "created_by", "created_at"]
    list_filter = ["kind", "state"]
