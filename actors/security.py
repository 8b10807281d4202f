"""Who is asking: the client's address as the login throttling (django-axes) sees it;
and how long a session lives without a request."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.utils import timezone

SESSION_RENEWED = "_renewed"  # when the session's expiry was last moved (epoch seconds)


def client_ip(request) -> str | None:
    """REMOTE_ADDR; behind TRUSTED_PROXY_COUNT reverse proxies, the address the outermost
    of them received the request from: the n-th entry of X-Forwarded-For counted from the
    right, where each proxy appends what it saw. Entries further left come from the client
    and are never trusted. Without such an entry (a misconfigured proxy), REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class SessionRenewalMiddleware:
    """Moves a session's expiry (SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS from its last
    save) forward at most once per SESSION_RENEW_SECONDS: Django's SESSION_SAVE_EVERY_REQUEST
    would write the session, an UPDATE and a commit, on every request. The idle limit is
    then at most SESSION_RENEW_SECONDS shorter than configured. Sits after
    SessionMiddleware, so its answer is handled first and the session saved after it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(timezone.now().timestamp())
            if now - session.get(SESSION_RENEWED, 0) >= settings.SESSION_RENEW_SECONDS:
                session[SESSION_RENEWED] = now
        return response


def not_a_password_attempt(request, credentials) -> bool:
    """django-axes counts password guesses. A sign-in through the identity provider (the
    callback's credentials are its nonce and PKCE verifier, no username) guesses nothing:
    a token refused there must not lock out everyone behind the same address."""
    return credentials is not None and "nonce" in credentials and not credentials.get("username")
