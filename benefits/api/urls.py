from ..governance import api_decisions, api_dependencies
from . import views


def register(router) -> None:
    """Benefits endpoints on the project's one API router (config/urls.py)."""
    router.register("agreements", views.IntentAgreementViewSet, basename="intentagreement")
    router.register("benefit-goals", views.BenefitGoalViewSet, basename="benefitgoal")
    router.register("benefits", views.BenefitViewSet, basename="benefit")
    router.register("benefit-reports", views.BenefitReportViewSet, basename="benefitreport")
    router.register("coverage-targets", views.CoverageTargetViewSet, basename="coveragetarget")
    router.register(
        "coverage-snapshots", views.CoverageSnapshotViewSet, basename="coveragesnapshot"
    )
    router.register("reports", views.ReportViewSet, basename="report")
    api_decisions.register(router)
    api_dependencies.register(router)
