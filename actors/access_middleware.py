"""Signed-in users without a role see only the page that says so; administrators who
signed in with a local password give their second factor first when ADMIN_REQUIRE_2FA."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.shortcuts import redirect

from .scoping import scope_for

LOCAL_BACKEND = "actors.oidc.LocalBackend"
# Paths a signed-in person reaches whatever their access: signing in and out, the
# identity provider's callback, password reset, invitations, the second factor, health.
OPEN_PREFIXES = (
    "/static/",
    "/helse/",
    "/login/",
    "/logout/",
    "/oidc/",
    "/passord/",
    "/invitasjon/",
    "/to-faktor/",
    "/ingen-tilgang/",
)


def is_admin_account(user) -> bool:
    return bool(user.is_superuser or user.is_staff or user.role == "admin")


def needs_second_factor(request) -> bool:
    """An administrator signed in with a local password who has not given a TOTP code."""
    user = request.user
    return (
        settings.ADMIN_REQUIRE_2FA
        and user.is_authenticated
        and is_admin_account(user)
        and request.session.get(BACKEND_SESSION_KEY) == LOCAL_BACKEND
        and not getattr(user, "is_verified", lambda: False)()
    )


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            if needs_second_factor(request):
                return redirect(f"/to-faktor/?next={request.get_full_path()}")
            if not scope_for(user).role and not request.path.startswith("/api/"):
                return redirect("no_access")
        return self.get_response(request)
