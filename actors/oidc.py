"""Sign-in: local accounts (LOCAL_LOGIN) and the OpenID Connect provider (OIDC_*)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


def oidc_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def local_login_for_all() -> bool:
    """The local form for everyone, or (LOCAL_LOGIN=admins with a provider) only for
    administrators' break-glass accounts."""
    return not oidc_enabled() or settings.LOCAL_LOGIN != "admins"


class LocalBackend(ModelBackend):
    """Username and password; with LOCAL_LOGIN=admins only administrators get through."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        from .access_middleware import is_admin_account

        return local_login_for_all() or is_admin_account(user)


class OIDCBackend(ModelBackend):
    """Placeholder until the provider sign-in lands: authenticates nobody."""

    def authenticate(self, request, **kwargs):
        return None
