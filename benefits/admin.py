from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from actors.admin import ReadOnlyAdmin

from . import services
from .models import (
    AgreementChange,
    Benefit,
    BenefitGoal,
    BenefitReport,
    CoverageTarget,
    IntentAgreement,
)


@admin.register(BenefitGoal)
class BenefitGoalAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order"]


@admin.register(Benefit)
class BenefitAdmin(admin.ModelAdmin):
    """The benefit register is maintained here by administrators."""

    list_display = ["name", "goal", "indicator", "unit", "direction", "target_value", "target_date"]
    list_filter = ["goal", "direction", "baseline_required"]
    filter_horizontal = ["solutions"]


@admin.register(IntentAgreement)
class IntentAgreementAdmin(ReadOnlyAdmin):
    list_display = ["title", "status", "signed_date"]
    list_filter = ["status"]


@admin.register(AgreementChange)
class AgreementChangeAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "changed_at", "changed_by", "summary"]


@admin.register(BenefitReport)
class BenefitReportAdmin(ReadOnlyAdmin):
    list_display = ["benefit", "municipality", "organisation", "kind", "status", "period_end"]
    list_filter = ["kind", "status", "benefit"]


class TargetAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Written to the change log (endringsloggen) with the change."),
    )

    class Meta:
        model = CoverageTarget
        fields = [
            "code", "name", "description", "source", "solution", "unit", "organisation_types",
            "achieved_statuses", "denominator", "municipality_rule", "threshold", "deadline",
            "per_area", "sort_order", "is_active",
        ]  # fmt: skip


@admin.register(CoverageTarget)
class CoverageTargetAdmin(admin.ModelAdmin):
    """Targets are data, kept here by administrators. Saving goes through
    services.target_save, so a new target, or one whose counting changed, gets its
    history back-filled. Retire a target by unticking "active" (its history stays)."""

    list_display = ["name", "solution", "unit", "threshold", "deadline", "per_area", "is_active"]
    list_filter = ["solution", "unit", "is_active"]
    filter_horizontal = ["organisation_types"]
    readonly_fields = ["version"]
    form = TargetAdminForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.target_save(
            user=request.user,
            target=obj,
            organisation_types=form.cleaned_data["organisation_types"],
            reason=form.cleaned_data["change_reason"],
        )
