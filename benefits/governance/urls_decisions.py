"""URLs of governance decisions (decision points, change log, cut list), under styring/;
collected by benefits/governance/urls.py."""

from django.urls import path

from . import decision_views as v

urlpatterns: list = [
    path("styring/beslutningspunkter/", v.decision_point_list, name="decision_point_list"),
    path("styring/beslutningspunkter/plan/", v.decision_schedule, name="decision_schedule"),
    path(
        "styring/beslutningspunkter/generer/",
        v.decision_points_generate,
        name="decision_points_generate",
    ),
    path("styring/beslutningspunkter/ny/", v.decision_point_create, name="decision_point_create"),
    path(
        "styring/beslutningspunkter/<int:pk>/",
        v.decision_point_detail,
        name="decision_point_detail",
    ),
    path(
        "styring/beslutningspunkter/<int:pk>/endre/",
        v.decision_point_edit,
        name="decision_point_edit",
    ),
    path("styring/beslutningspunkter/<int:pk>/grunnlag/", v.decision_brief, name="decision_brief"),
    path(
        "styring/beslutningspunkter/<int:pk>/beslutning/",
        v.decision_create,
        name="decision_create",
    ),
    path(
        "styring/beslutningspunkter/<int:pk>/avslutt/",
        v.decision_point_close,
        name="decision_point_close",
    ),
    path("styring/endringslogg/", v.changelog_list, name="changelog_list"),
    path("styring/endringslogg/ny/", v.changelog_create, name="changelog_create"),
    path("styring/endringslogg/eksport/", v.changelog_export, name="changelog_export"),
    path("styring/kuttliste/", v.cutlist_list, name="cutlist_list"),
    path("styring/kuttliste/ny/", v.cutlist_create, name="cutlist_create"),
    path("styring/kuttliste/hva-om/", v.cutlist_what_if, name="cutlist_what_if"),
    path("styring/kuttliste/<int:pk>/endre/", v.cutlist_edit, name="cutlist_edit"),
    path("styring/kuttliste/<int:pk>/beslutning/", v.cutlist_decide, name="cutlist_decide"),
]
