"""Sign-in: local accounts (LOCAL_LOGIN) and the OpenID Connect provider (OIDC_*).

The provider's sign-in is mozilla-django-oidc's authorization-code flow (with PKCE) with
what this application adds: endpoints from the issuer's discovery document, an ID token
checked for signature, issuer, audience, expiry and issue time, people matched by the
provider's subject (never by e-mail alone), and access that comes from the application
(actors/access.py): a provider group only where OIDC_GROUP_ROLES maps it, and invitations
waiting for the person's verified e-mail address. Everything the provider says that cannot
be confirmed is refused with a warning in the log and the login page's error, never a 500.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import access
from .forms import LoginForm

logger = logging.getLogger(__name__)


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


# The provider's settings ------------------------------------------------------------------

# Endpoint settings and where the discovery document gives them.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
}
_discovery_cache: dict[str, dict] = {}


def discovery(issuer: str | None = None) -> dict:
    """The issuer's discovery document, fetched once per process (and issuer)."""
    issuer = (issuer or settings.OIDC_ISSUER).rstrip("/")
    if issuer not in _discovery_cache:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise requests.RequestException(f"{issuer}: the discovery document is no object")
        _discovery_cache[issuer] = document
    return _discovery_cache[issuer]


_MISSING = object()


def oidc_setting(attr: str, default=_MISSING):
    """A setting as mozilla-django-oidc asks for it; an endpoint not set one by one comes
    from the discovery document (requests' errors go up to the caller)."""
    if attr in DISCOVERED and not hasattr(settings, attr):
        value = discovery().get(DISCOVERED[attr]) if oidc_enabled() else None
        if value:
            return value
        if default is _MISSING:
            raise SuspiciousOperation(f"The identity provider does not give {attr}.")
        return default
    if default is _MISSING:
        return import_from_settings(attr)
    return import_from_settings(attr, default)


def end_session_endpoint() -> str | None:
    """Where the provider ends its session, or None (none, or the provider unreachable)."""
    try:
        return oidc_setting("OIDC_OP_END_SESSION_ENDPOINT", None)
    except requests.RequestException as exc:
        logger.warning("OIDC: no end-session endpoint (%s)", exc)
        return None


# Claims ---------------------------------------------------------------------------------


def claim(claims: dict, setting: str) -> str:
    """A text claim named by a setting (OIDC_CLAIM_*), "" when not configured or absent."""
    name = getattr(settings, setting, "")
    value = claims.get(name) if name else None
    return "" if value is None else str(value).strip()


def normalised_orgnr(value) -> str:
    """Nine digits, also from "NO 987 654 321" or the ISO 6523 form "0192:987654321";
    "" when it holds fewer."""
    digits = re.sub(r"\D", "", str(value or ""))
    return digits[-9:] if len(digits) >= 9 else ""


def claimed_groups(claims: dict) -> list[str]:
    """The groups claim as a list: the provider gives a list or a space or comma separated
    string."""
    name = settings.OIDC_CLAIM_GROUPS
    value = claims.get(name) if name else None
    if not value:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    if isinstance(value, (list, tuple)):
        return [str(part).strip() for part in value if str(part).strip()]
    return [str(value)]


def email_verified(claims: dict) -> bool:
    """The e-mail address is vouched for unless the provider explicitly says it is not."""
    value = claims.get("email_verified", True)
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return value is not False


def username_for(email: str, sub: str) -> str:
    """A free username derived from the e-mail address (or the subject when there is no
    address), with -2, -3, ... when taken."""
    from .models import User

    base = re.sub(r"[^\w.@+-]", "", (email or f"oidc-{sub}").lower())[:140] or "oidc"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# The backend ----------------------------------------------------------------------------


def _setting_property(attr: str, default=_MISSING):
    return property(lambda self: self.get_settings(attr, default))


class OIDCBackend(OIDCAuthenticationBackend):
    """The identity provider's sign-in (inert while OIDC_ISSUER is unset). Settings and
    endpoints are looked up when a sign-in needs them, so a provider that cannot be
    reached never stands in the way of local logins."""

    OIDC_OP_TOKEN_ENDPOINT = _setting_property("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _setting_property("OIDC_OP_USER_ENDPOINT", None)
    OIDC_OP_JWKS_ENDPOINT = _setting_property("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _setting_property("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _setting_property("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _setting_property("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_IDP_SIGN_KEY = _setting_property("OIDC_RP_IDP_SIGN_KEY", None)

    def __init__(self, *args, **kwargs):
        # mozilla's __init__ reads the endpoints at once (a request to the provider for
        # every authenticate(), local logins too); here they are properties.
        self.UserModel = get_user_model()

    @staticmethod
    def get_settings(attr, *args):
        return oidc_setting(attr, *args)

    def authenticate(self, request, **kwargs):
        # Only the callback view's call (it passes the nonce); never a password login.
        if not oidc_enabled() or request is None or "nonce" not in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except PermissionDenied:
            raise
        except (requests.RequestException, SuspiciousOperation, jwt.PyJWTError) as exc:
            logger.warning("OIDC sign-in refused: %s", exc)
            raise PermissionDenied(str(exc)) from exc

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)  # inactive users' sessions end

    def signing_keys(self, token) -> list:
        """The provider's keys (its JWKS) that may have signed `token`: the one with the
        token's key id, or, for a token without one, every signing key of its algorithm."""
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        header = jwt.get_unverified_header(token)
        keys = []
        for jwk in response.json().get("keys", []):
            if header.get("kid") and jwk.get("kid") != header["kid"]:
                continue
            if jwk.get("alg", header.get("alg")) != header.get("alg") or jwk.get("use") == "enc":
                continue
            keys.append(jwt.PyJWK(jwk))
        if not keys:
            raise SuspiciousOperation("no key of the provider's JWKS matches the token")
        return keys

    def verify_token(self, token, **kwargs):
        """The ID token's claims when its signature (the provider's JWKS), issuer,
        audience, expiry and issue time (OIDC_CLOCK_SKEW leeway) and nonce hold; else
        PermissionDenied, with a warning in the log."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        issuer = settings.OIDC_ISSUER
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != algorithm:
                raise SuspiciousOperation(
                    f"token algorithm {header.get('alg')!r}, expected {algorithm!r}"
                )
            if self.OIDC_RP_IDP_SIGN_KEY:
                keys = [self.OIDC_RP_IDP_SIGN_KEY]
            elif algorithm.startswith(("RS", "ES", "PS")):
                keys = self.signing_keys(token)
            else:
                keys = [self.OIDC_RP_CLIENT_SECRET]
            for n, key in enumerate(keys, start=1):
                try:
                    payload = jwt.decode(
                        token,
                        key,
                        algorithms=[algorithm],
                        audience=self.OIDC_RP_CLIENT_ID,
                        issuer=[issuer, f"{issuer}/"],
                        leeway=settings.OIDC_CLOCK_SKEW,
                        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                    )
                    break
                except jwt.InvalidSignatureError:
                    if n == len(keys):
                        raise
        except (jwt.PyJWTError, SuspiciousOperation, requests.RequestException) as exc:
            logger.warning("OIDC: ID token refused: %s", exc)
            raise PermissionDenied("The identity provider's token could not be verified.") from exc
        nonce = kwargs.get("nonce")
        if self.get_settings("OIDC_USE_NONCE", True) and nonce != payload.get("nonce"):
            logger.warning("OIDC: ID token refused: the nonce does not match")
            raise PermissionDenied("The identity provider's token could not be verified.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims with the userinfo endpoint's over them (Entra ID, for
        one, gives groups in the ID token only); the two must be about the same subject."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("userinfo is about another subject than the ID token")
            claims.update(info)
        return claims

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def describe_user_by_claims(self, claims) -> str:
        return f"subject {claims.get('sub')}"

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(oidc_subject=claims["sub"])

    def create_user(self, claims):
        """A new person: an account without a role and without a password."""
        email = claim(claims, "OIDC_CLAIM_EMAIL")
        user = self.UserModel(username=username_for(email, claims["sub"]))
        user.oidc_subject = claims["sub"]
        user.set_unusable_password()
        user.save()
        logger.info("OIDC: new account, user id %s", user.pk)  # no name or e-mail in the log
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        """Name, e-mail and organisation number as the provider gives them now."""
        fields = {}
        name = claim(claims, "OIDC_CLAIM_NAME")
        if name:
            first, _space, last = name.rpartition(" ")
            if not first:
                first, last = last, ""
            fields["first_name"], fields["last_name"] = first[:150], last[:150]
        email = claim(claims, "OIDC_CLAIM_EMAIL")
        if email:
            fields["email"] = email[:254]
        if settings.OIDC_CLAIM_ORGNR:
            fields["orgnr"] = normalised_orgnr(claim(claims, "OIDC_CLAIM_ORGNR"))
        changed = [key for key, value in fields.items() if getattr(user, key) != value]
        for key in changed:
            setattr(user, key, fields[key])
        if changed:
            user.save(update_fields=changed)
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        """The person by subject (created without a role) with what the provider says
        now, then the access the application has for them: a mapped provider group, and
        invitations waiting for a verified e-mail address."""
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("the claims have no subject")
        user = self.filter_users_by_claims(claims).first()
        user = self.update_user(user, claims) if user else self.create_user(claims)
        if not self.user_can_authenticate(user):
            logger.warning("OIDC: the account with user id %s is deactivated", user.pk)
            return None
        access.sync_group_role(user, claimed_groups(claims), user.orgnr)
        if claim(claims, "OIDC_CLAIM_EMAIL") and email_verified(claims):
            access.accept_waiting_for(user)
        user.refresh_from_db()
        return user


# The views ------------------------------------------------------------------------------


def _failure():
    return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)


class AuthenticateView(OIDCAuthenticationRequestView):
    """Off to the provider's sign-in page (state, nonce and PKCE in the session)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # mozilla's reads the endpoint here; get() does

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, SuspiciousOperation) as exc:
            logger.warning("OIDC: the provider's sign-in cannot be reached: %s", exc)
            return _failure()
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """Back from the provider: signed in, or the login page with its error. An invitation
    link followed before signing in is granted now."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this session did not start
            logger.warning("OIDC callback refused: %s", exc)
            return self.login_failure()

    def login_success(self):
        response = super().login_success()
        try:
            access.accept_from_session(self.request, self.user)
        except ValidationError as exc:
            messages.error(self.request, " ".join(exc.messages))
        return response


class LogoutView(View):
    """Log out here and, when the provider ends sessions and this one began there, at
    the provider too (it sends the person back to the login page)."""

    http_method_names = ["post", "options"]

    def post(self, request):
        id_token = request.session.get("oidc_id_token")
        auth.logout(request)
        login_url = resolve_url(settings.LOGOUT_REDIRECT_URL)
        endpoint = end_session_endpoint() if id_token and oidc_enabled() else None
        if not endpoint:
            return HttpResponseRedirect(login_url)
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": request.build_absolute_uri(login_url),
                "client_id": settings.OIDC_RP_CLIENT_ID,
            }
        )
        return HttpResponseRedirect(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}")


class LoginView(auth_views.LoginView):
    """The login page: the provider's button when one is configured, the local form
    (for administrators only, folded away, with LOCAL_LOGIN=admins)."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        oidc_url = ""
        if oidc_enabled():
            oidc_url = reverse("oidc_authentication_init")
            if context.get("next"):
                oidc_url += "?" + urlencode({"next": context["next"]})
        context.update(
            oidc_url=oidc_url,
            oidc_provider=settings.OIDC_PROVIDER_NAME,
            local_login_for_all=local_login_for_all(),
            oidc_failed=self.request.GET.get("innlogging") == "feilet",
        )
        return context
