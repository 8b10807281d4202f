from django.urls import path

from . import report_views, target_views, views

app_name = "benefits"

urlpatterns = [
    path("avtaler/", views.agreement_list, name="agreement_list"),
    path("avtaler/ny/", views.agreement_create, name="agreement_create"),
    path("avtaler/dekning/", views.agreement_coverage, name="agreement_coverage"),
    path("avtaler/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("avtaler/<int:pk>/endre/", views.agreement_edit, name="agreement_edit"),
    path("avtaler/<int:pk>/dokument/", views.agreement_document, name="agreement_document"),
    path(
        "avtaler/<int:pk>/dokument/<int:document_pk>/",
        views.agreement_document_version,
        name="agreement_document_version",
    ),
    path("rapporter/", report_views.report_preview, name="report_preview"),
    path("rapporter/fil/", report_views.report_export, name="report_export"),
    path("resultatmal/", target_views.target_dashboard, name="target_dashboard"),
    path("resultatmal/beregn/", target_views.target_recompute, name="target_recompute"),
    path("resultatmal/<slug:code>/", target_views.target_detail, name="target_detail"),
    path("gevinster/", views.benefit_register, name="benefit_register"),
    path("gevinster/oversikt/", views.overview, name="overview"),
    path("gevinster/<int:pk>/", views.benefit_detail, name="benefit_detail"),
    path("gevinster/rapporter/ny/", views.report_create, name="report_create"),
    path(
        "gevinster/rapporter/virksomheter/",
        views.report_organisation_options,
        name="report_organisation_options",
    ),
    path("gevinster/rapporter/<int:pk>/", views.report_detail, name="report_detail"),
    path("gevinster/rapporter/<int:pk>/endre/", views.report_edit, name="report_edit"),
    path("gevinster/rapporter/<int:pk>/send-inn/", views.report_submit, name="report_submit"),
    path("gevinster/rapporter/<int:pk>/vurdering/", views.report_review, name="report_review"),
    path(
        "gevinster/rapporter/<int:pk>/vedlegg/", views.report_attachment, name="report_attachment"
    ),
]
