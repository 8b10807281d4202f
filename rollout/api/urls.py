from . import views


def register(router) -> None:
    """Rollout endpoints on the project's one API router (config/urls.py)."""
    router.register("solutions", views.SolutionViewSet, basename="solution")
    router.register("area-rollouts", views.AreaRolloutViewSet, basename="arearollout")
    router.register("statuses", views.RolloutStatusViewSet, basename="rolloutstatus")
    router.register("status-history", views.StatusChangeViewSet, basename="statuschange")
    router.register("readiness-reports", views.ReadinessReportViewSet, basename="readinessreport")
