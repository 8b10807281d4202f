from django.contrib import admin

from actors.admin import ReadOnlyAdmin

from .models import AgreementChange, Benefit, BenefitGoal, BenefitReport, IntentAgreement


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
