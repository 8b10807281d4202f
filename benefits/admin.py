from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from actors.admin import ReadOnlyAdmin
from rollout.choices import STATUS_ORDER, Status

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


class PercentField(forms.DecimalField):
    """A share (0.800) shown and typed as a percentage (80 or 80,5)."""

    def __init__(self, **kwargs):
        super().__init__(
            min_value=Decimal("0.1"),
            max_value=Decimal("100"),
            max_digits=4,
            decimal_places=1,
            localize=True,
            **kwargs,
        )

    def prepare_value(self, value):
        if isinstance(value, Decimal):  # the stored share; typed text is shown as typed
            return (value * 100).quantize(Decimal("0.1")).normalize()
        return super().prepare_value(value)

    def clean(self, value):
        percent = super().clean(value)
        return None if percent is None else (percent / 100).quantize(Decimal("0.001"))


class TargetAdminForm(forms.ModelForm):
    achieved_statuses = forms.TypedMultipleChoiceField(
        label=_("achieved statuses"),
        choices=[(s, Status(s).label) for s in STATUS_ORDER],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The rollout statuses that count as achieved."),
    )
    threshold = PercentField(
        label=_("threshold (%)"),
        help_text=_("The share to reach, in per cent, e.g. 80."),
    )
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

    def clean_achieved_statuses(self):
        chosen = set(self.cleaned_data["achieved_statuses"])
        return [s for s in STATUS_ORDER if s in chosen]  # stored in the display order


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
