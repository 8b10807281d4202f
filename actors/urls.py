from django.urls import path

from . import import_views, views
from .structure_views import structure_change_apply, structure_change_list

app_name = "actors"

urlpatterns = [
    path("", views.home, name="home"),
    path("kommuner/", views.municipality_list, name="municipality_list"),
    path("kommuner/<str:number>/", views.municipality_detail, name="municipality_detail"),
    path("omrader/", views.healthtrust_list, name="healthtrust_list"),
    path("omrader/<slug:code>/", views.healthtrust_detail, name="healthtrust_detail"),
    path("virksomheter/", views.organisation_list, name="organisation_list"),
    path("virksomheter/ny/", views.organisation_create, name="organisation_create"),
    path("virksomheter/import/", views.organisation_import, name="organisation_import"),
    path("virksomheter/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("virksomheter/<int:pk>/endre/", views.organisation_edit, name="organisation_edit"),
    path("struktur/endringer/", structure_change_list, name="structure_changes"),
    path("struktur/endringer/bruk/", structure_change_apply, name="structure_change_apply"),
    path("jobber/<int:pk>/", views.job_status, name="job_status"),
    path("jobber/<int:pk>/fil/", views.job_download, name="job_download"),
    path("jobber/<int:pk>/import/", import_views.import_job, name="import_job"),
    path(
        "jobber/<int:pk>/import/bekreft/",
        import_views.import_job_confirm,
        name="import_job_confirm",
    ),
]
