from django.urls import path

from . import area_views, bulk_views, correction_views, integrity_views, report_views, views

app_name = "rollout"

urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("status/", views.status_list, name="status_list"),
    path("status/import/", views.status_import, name="status_import"),
    path("status/endre/", bulk_views.bulk_preview, name="bulk_preview"),
    path("status/endre/bruk/", bulk_views.bulk_apply, name="bulk_apply"),
    path("status/endre/resultat/", bulk_views.bulk_result, name="bulk_result"),
    path("status/<int:pk>/<slug:code>/", views.status_change, name="status_change"),
    path(
        "status/<int:pk>/<slug:code>/rett/",
        correction_views.status_correct,
        name="status_correct",
    ),
    path("beredskap/", views.report_list, name="report_list"),
    path("beredskap/ny/", views.report_create, name="report_create"),
    path("beredskap/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("beredskap/<int:pk>/svar/", report_views.report_answers_save, name="report_answers_save"),
    path("beredskap/<int:pk>/vurdering/", views.report_review, name="report_review"),
    path("integritet/", integrity_views.integrity_page, name="integrity"),
    path("integritet/reparer/", integrity_views.integrity_repair, name="integrity_repair"),
    path("losning/<slug:code>/", views.solution_detail, name="solution_detail"),
    path("losning/<slug:code>/<slug:trust>/", area_views.area_detail, name="area_detail"),
    path("losning/<slug:code>/<slug:trust>/endre/", area_views.area_edit, name="area_edit"),
    path("losning/<slug:code>/<slug:trust>/aktorer/", area_views.area_actors, name="area_actors"),
]
