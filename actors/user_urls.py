"""User administration: users, their access and its log, invitations (actors/access.py)."""

app_name = "users"

urlpatterns: list = []
