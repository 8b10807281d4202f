from django.contrib import admin

from actors.admin import ReadOnlyAdmin

from .models import (
    AreaRollout,
    Prerequisite,
    ReadinessReport,
    RecordSystemSupport,
    RolloutStatus,
    Solution,
    StatusChange,
)


class PrerequisiteInline(admin.TabularInline):
    model = Prerequisite
    fk_name = "solution"  # follows_from names a solution too
    extra = 0


class SupportInline(admin.TabularInline):
    model = RecordSystemSupport
    extra = 0


@admin.register(Solution)
class SolutionAdmin(admin.ModelAdmin):
    """The catalogue is editable here: whom a solution applies to, what it requires,
    its checklist and thresholds. Phases change through the application (with history)."""

    list_display = ["name", "code", "area_wise", "national_phase", "ready_share_threshold"]
    readonly_fields = ["national_phase"]
    filter_horizontal = ["organisation_types", "requires"]
    inlines = [PrerequisiteInline, SupportInline]


@admin.register(RolloutStatus)
class RolloutStatusAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "solution", "status", "effective_date"]
    list_filter = ["solution", "status"]
    search_fields = ["organisation__name", "organisation__orgnr"]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "solution", "from_status", "to_status", "effective_date",
                    "changed_by", "source"]  # fmt: skip
    list_filter = ["solution", "source", "to_status"]


@admin.register(AreaRollout)
class AreaRolloutAdmin(ReadOnlyAdmin):
    list_display = ["solution", "health_trust", "phase", "planned_start", "actual_start"]


@admin.register(ReadinessReport)
class ReadinessReportAdmin(ReadOnlyAdmin):
    list_display = ["solution", "municipality", "status", "updated_at"]
    list_filter = ["solution", "status"]
