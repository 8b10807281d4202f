"""User administration: users, their access and its log, invitations (actors/access.py)."""

from django.urls import path

from . import user_views

app_name = "users"

urlpatterns = [
    path("brukere/", user_views.user_list, name="list"),
    path("brukere/meg/", user_views.my_access, name="me"),
    path("brukere/inviter/", user_views.invite, name="invite"),
    path("brukere/invitasjoner/", user_views.invitations, name="invitations"),
    path(
        "brukere/invitasjoner/<int:pk>/trekk-tilbake/",
        user_views.withdraw,
        name="withdraw",
    ),
    path("brukere/<int:pk>/", user_views.user_detail, name="detail"),
    path("brukere/<int:pk>/tilgang/", user_views.user_edit, name="edit"),
    path("brukere/<int:pk>/fjern/", user_views.user_remove, name="remove"),
    path("invitasjon/<str:token>/", user_views.accept, name="accept"),
]
