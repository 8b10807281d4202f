"""Sign-in through a real OpenID Connect provider (tests/oidc_provider.py, a process of its
own): our side through Django's test client, the provider's sign-in form through requests."""

import base64
import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import translation

from actors import access
from actors.access import Access
from actors.choices import Role
from actors.models import AccessChange, Invitation, Municipality, Organisation, User
from actors.oidc import OIDCBackend, claimed_groups, normalised_orgnr
from actors.scoping import scope_for
from tests.oidc_provider import configure

pytestmark = pytest.mark.django_db

GROUP_ROLES = "hdir=directorate@983544622;nhn=national_coordinator"
FAILED = "/login/?innlogging=feilet"


def sign_in(client: Client, provider, sub: str, next_url: str = ""):
    """The whole round: our start view, the provider's form, our callback. The callback's
    response (a redirect: the start page, `next`, or the failure URL)."""
    start = client.get(reverse("oidc_authentication_init"), {"next": next_url} if next_url else {})
    assert start.status_code == 302 and start["Location"].startswith(provider.url)
    back = urlsplit(provider.authorize(start["Location"], sub))
    assert back.path == reverse("oidc_authentication_callback")
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def user_with_sub(sub: str) -> User:
    return User.objects.get(oidc_subject=sub)


# First sign-in, the access granted in the application ------------------------------------


def test_first_sign_in_creates_an_account_without_a_role_that_sees_only_no_access(oidc):
    oidc.set_user("kari-1", email="Kari.Nordmann@Bergen.kommune.no", name="Kari Nordmann")
    client = Client()
    response = sign_in(client, oidc, "kari-1")
    assert response.status_code == 302 and response["Location"] == reverse("actors:home")
    user = user_with_sub("kari-1")
    assert (user.role, user.first_name, user.last_name) == ("", "Kari", "Nordmann")
    assert user.email == "Kari.Nordmann@Bergen.kommune.no"
    assert user.username == "kari.nordmann@bergen.kommune.no"
    assert not user.has_usable_password() and user.last_login is not None
    assert int(client.session[SESSION_KEY]) == user.pk
    home = client.get(reverse("actors:home"))
    assert home.status_code == 302 and home["Location"] == reverse("no_access")
    assert client.get(reverse("no_access")).status_code == 403
    assert client.get("/virksomheter/")["Location"] == reverse("no_access")


def test_the_same_subject_is_the_same_account_and_a_new_one_gets_a_free_username(oidc):
    oidc.set_user("ola-1", email="ola@example.no", name="Ola")
    sign_in(Client(), oidc, "ola-1")
    oidc.set_user("ola-1", email="ola.ny@example.no", name="Ola Nordmann", orgnr="NO 987 654 321")
    sign_in(Client(), oidc, "ola-1")
    # Another subject with the first address: a new account, not a match by e-mail.
    oidc.set_user("ola-2", email="ola@example.no")
    sign_in(Client(), oidc, "ola-2")
    first, second = user_with_sub("ola-1"), user_with_sub("ola-2")
    assert first.email == "ola.ny@example.no" and first.last_name == "Nordmann"
    assert first.orgnr == ""  # OIDC_CLAIM_ORGNR unset: not read
    assert first.username == "ola@example.no" and second.username == "ola@example.no-2"


def test_a_person_granted_access_in_the_application_gets_exactly_that(
    oidc, make_user, org_bergen, org_tromso
):
    oidc.set_user("contact-1", email="kontakt@bergen.kommune.no")
    sign_in(Client(), oidc, "contact-1")
    bergen = Municipality.objects.get(number="4601")
    access.apply(
        make_user("coord_nat"),
        user_with_sub("contact-1"),
        Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({bergen.pk})),
        expected=None,
        source=AccessChange.Source.UI,
    )
    client = Client()
    assert sign_in(client, oidc, "contact-1")["Location"] == reverse("actors:home")
    assert client.get(reverse("actors:home")).status_code == 200
    user = user_with_sub("contact-1")
    scope = scope_for(user)
    assert scope.role == Role.MUNICIPALITY_CONTACT
    editable = scope.filter_editable(Organisation.objects.all())
    assert list(editable) == [org_bergen]
    assert client.get(reverse("actors:organisation_edit", args=[org_bergen.pk])).status_code == 200
    assert client.get(reverse("actors:organisation_edit", args=[org_tromso.pk])).status_code in (
        403,
        404,
    )


def test_sign_in_goes_on_to_next(oidc, make_user):
    make_user("coord_nat", oidc_subject="nat-1")
    oidc.set_user("nat-1", email="nat@example.no")
    response = sign_in(Client(), oidc, "nat-1", next_url="/kommuner/")
    assert response["Location"] == "/kommuner/"


# The provider's groups -------------------------------------------------------------------


@pytest.fixture
def groups(oidc, settings):
    settings.OIDC_GROUP_ROLES = GROUP_ROLES
    settings.OIDC_CLAIM_ORGNR = "orgnr"
    return oidc


def test_a_mapped_group_grants_and_its_loss_removes_with_the_log(groups):
    groups.set_user("hdir-1", email="a@helsedir.no", orgnr="983 544 622", groups=["hdir", "x"])
    sign_in(Client(), groups, "hdir-1")
    user = user_with_sub("hdir-1")
    assert (user.role, user.role_from_group, user.orgnr) == (Role.DIRECTORATE, "hdir", "983544622")
    granted = AccessChange.objects.get(user=user, kind=AccessChange.Kind.ROLE)
    assert granted.source == AccessChange.Source.IDP and granted.changed_by is None

    groups.set_user("hdir-1", email="a@helsedir.no", orgnr="983544622", groups="x y")
    client = Client()
    sign_in(client, groups, "hdir-1")
    user.refresh_from_db()
    assert (user.role, user.role_from_group) == ("", "")
    rows = AccessChange.objects.filter(user=user, kind=AccessChange.Kind.ROLE)
    assert [(r.source, bool(r.new_value)) for r in rows] == [("idp", False), ("idp", True)]
    assert client.get(reverse("actors:home"))["Location"] == reverse("no_access")


def test_a_group_string_claim_grants_national_coordinator_without_orgnr(groups):
    groups.set_user("nhn-1", email="b@nhn.no", groups="staff,nhn")
    sign_in(Client(), groups, "nhn-1")
    user = user_with_sub("nhn-1")
    assert (user.role, user.national_scope, user.role_from_group) == (
        Role.COORDINATOR,
        True,
        "nhn",
    )


def test_a_group_is_refused_when_the_orgnr_differs(groups):
    groups.set_user("hdir-2", email="c@example.no", orgnr="0192:974760673", groups=["hdir"])
    sign_in(Client(), groups, "hdir-2")
    user = user_with_sub("hdir-2")
    assert (user.role, user.orgnr) == ("", "974760673")
    assert not AccessChange.objects.filter(user=user).exists()


def test_a_group_never_overrides_a_role_granted_in_the_application(groups, make_user):
    groups.set_user("app-1", email="d@helsedir.no", orgnr="983544622", groups=["nhn"])
    user = make_user("contact", oidc_subject="app-1")
    sign_in(Client(), groups, "app-1")
    user.refresh_from_db()
    assert (user.role, user.role_from_group) == (Role.MUNICIPALITY_CONTACT, "")
    assert not AccessChange.objects.filter(user=user, source=AccessChange.Source.IDP).exists()


def test_a_group_role_changed_in_the_application_no_longer_follows_the_group(groups, make_user):
    groups.set_user("hdir-3", email="e@helsedir.no", orgnr="983544622", groups=["hdir"])
    sign_in(Client(), groups, "hdir-3")
    user = user_with_sub("hdir-3")
    assert user.role_from_group == "hdir"
    bergen = Municipality.objects.get(number="4601")
    contact = Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({bergen.pk}))
    access.apply(
        make_user("coord_nat"), user, contact, expected=None, source=AccessChange.Source.UI
    )
    groups.set_user("hdir-3", email="e@helsedir.no", orgnr="983544622", groups=[])
    sign_in(Client(), groups, "hdir-3")
    user.refresh_from_db()
    assert (user.role, user.role_from_group) == (Role.MUNICIPALITY_CONTACT, "")


# Invitations -----------------------------------------------------------------------------


@pytest.fixture
def waiting(make_user):
    bergen = Municipality.objects.get(number="4601")
    return access.invite(
        make_user("coord_nat"),
        email="ny@bergen.kommune.no",
        name="Ny Kontakt",
        wanted=Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({bergen.pk})),
        source=AccessChange.Source.UI,
    ).invitation


def test_an_invitation_waiting_for_the_address_is_granted_at_sign_in(oidc, waiting):
    oidc.set_user("ny-1", email="NY@bergen.kommune.no", email_verified=True)
    client = Client()
    sign_in(client, oidc, "ny-1")
    user = user_with_sub("ny-1")
    assert user.role == Role.MUNICIPALITY_CONTACT
    assert list(user.municipalities.values_list("number", flat=True)) == ["4601"]
    waiting.refresh_from_db()
    assert waiting.state == Invitation.State.ACCEPTED and waiting.accepted_by == user
    assert client.get(reverse("actors:home")).status_code == 200


def test_an_unverified_address_does_not_take_the_invitation(oidc, waiting):
    oidc.set_user("ny-2", email="ny@bergen.kommune.no", email_verified=False)
    sign_in(Client(), oidc, "ny-2")
    assert user_with_sub("ny-2").role == ""
    waiting.refresh_from_db()
    assert waiting.state == Invitation.State.PENDING


def test_an_invitation_link_followed_before_signing_in_is_granted_after(oidc, make_user):
    bergen = Municipality.objects.get(number="4601")
    invited = access.invite(
        make_user("coord_nat"),
        email="other@example.no",
        name="Other",
        wanted=Access(Role.MUNICIPALITY_CONTACT, municipality_ids=frozenset({bergen.pk})),
        source=AccessChange.Source.UI,
    )
    oidc.set_user("link-1", email="private@example.no")
    client = Client()
    session = client.session
    session[access.SESSION_INVITATION] = invited.token
    session.save()
    sign_in(client, oidc, "link-1")
    assert user_with_sub("link-1").role == Role.MUNICIPALITY_CONTACT
    assert access.SESSION_INVITATION not in client.session


def test_an_unusable_invitation_link_is_a_message_not_an_error(oidc, make_user):
    invited = access.invite(
        make_user("coord_nat"),
        email="gone@example.no",
        name="Gone",
        wanted=Access(Role.DIRECTORATE),
        source=AccessChange.Source.UI,
    )
    access.withdraw(make_user("admin"), invited.invitation)
    oidc.set_user("link-2", email="gone@example.no")
    client = Client()
    session = client.session
    session[access.SESSION_INVITATION] = invited.token
    session.save()
    response = sign_in(client, oidc, "link-2")
    assert response["Location"] == reverse("actors:home")
    assert user_with_sub("link-2").role == ""
    page = client.get(reverse("no_access"))
    assert [m.level_tag for m in page.context["messages"]] == ["error"]


# Tokens that cannot be confirmed ---------------------------------------------------------


def test_an_expired_id_token_is_refused(settings, oidc_provider_expiring, caplog, monkeypatch):
    configure(settings, oidc_provider_expiring, OIDC_CLOCK_SKEW=0, OIDC_PROVIDER_NAME="HelseID")
    get_token = OIDCBackend.get_token

    def late(self, payload):  # the token arrives after its second has passed
        token = get_token(self, payload)
        time.sleep(1.5)
        return token

    monkeypatch.setattr(OIDCBackend, "get_token", late)
    oidc_provider_expiring.set_user("late-1", email="late@example.no")
    client = Client()
    with caplog.at_level(logging.WARNING, logger="actors.oidc"):
        response = sign_in(client, oidc_provider_expiring, "late-1")
    assert response.status_code == 302 and response["Location"] == FAILED
    assert SESSION_KEY not in client.session
    assert not User.objects.filter(oidc_subject="late-1").exists()
    assert "expired" in caplog.text.lower()
    page = client.get(response["Location"]).content.decode()
    with translation.override("nb"):  # the language of every page
        failed = translation.gettext(
            "The sign-in with %(provider)s could not be confirmed. Try again, or contact "
            "support if it keeps failing."
        ) % {"provider": "HelseID"}
    assert 'id="oidc-failed"' in page and failed in page


def test_refused_provider_sign_ins_do_not_lock_out_the_next_from_that_address(oidc, settings):
    """Login throttling counts password guesses: a token the provider's side got wrong
    (here: issued to another client) must not lock everyone behind one address out."""
    settings.AXES_FAILURE_LIMIT = 2
    oidc.set_user("nat-9", email="nat9@example.no")
    client_id = settings.OIDC_RP_CLIENT_ID
    for _attempt in range(3):
        client = Client()
        start = client.get(reverse("oidc_authentication_init"))
        back = urlsplit(oidc.authorize(start["Location"], "nat-9"))
        settings.OIDC_RP_CLIENT_ID = "another-client"  # the token's audience is now wrong
        query = {k: v[0] for k, v in parse_qs(back.query).items()}
        assert client.get(back.path, query)["Location"] == FAILED
        settings.OIDC_RP_CLIENT_ID = client_id
    assert sign_in(Client(), oidc, "nat-9")["Location"] == reverse("actors:home")


def test_a_callback_this_session_did_not_start_is_refused(oidc):
    response = Client().get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"})
    assert response.status_code == 302 and response["Location"] == FAILED


def _flip_payload_byte(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = claims["sub"] + "x"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_the_backend_accepts_a_real_token_and_refuses_a_tampered_or_foreign_one(oidc):
    oidc.set_user("tok-1", email="tok@example.no")
    backend = OIDCBackend()
    token = oidc.id_token("tok-1", nonce="n-1")
    assert backend.verify_token(token, nonce="n-1")["sub"] == "tok-1"
    with pytest.raises(PermissionDenied):
        backend.verify_token(token, nonce="another")
    with pytest.raises(PermissionDenied):
        backend.verify_token(_flip_payload_byte(token), nonce="n-1")
    # Signed with a key that is not the provider's (under its key id, if it gives one).
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = {"kid": header["kid"]} if "kid" in header else None
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers=kid)
    with pytest.raises(PermissionDenied):
        backend.verify_token(forged, nonce="n-1")
    # Issued to another client (wrong audience).
    with pytest.raises(PermissionDenied):
        backend.verify_token(oidc.id_token("tok-1", client_id="another-client"), nonce="n-1")


def test_a_token_from_another_issuer_is_refused(oidc, settings):
    token = oidc.id_token("tok-2")
    settings.OIDC_ISSUER = oidc.url.replace("127.0.0.1", "localhost")
    settings.OIDC_OP_JWKS_ENDPOINT = f"{oidc.url}/jwks"
    with pytest.raises(PermissionDenied):
        OIDCBackend().verify_token(token, nonce="n-1")


# Logout ----------------------------------------------------------------------------------


def test_logout_ends_the_provider_session_with_the_id_token(oidc):
    oidc.set_user("out-1", email="out@example.no")
    client = Client()
    sign_in(client, oidc, "out-1")
    id_token = client.session["oidc_id_token"]
    response = client.post(reverse("logout"))
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{oidc.url}/oauth2/end_session"
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert SESSION_KEY not in client.session
    assert client.get(reverse("logout")).status_code == 405


def test_logout_of_a_local_login_goes_to_the_login_page(oidc, contact):
    client = client_for_password(contact)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session


def client_for_password(user) -> Client:
    client = Client()
    client.force_login(user, backend="actors.oidc.LocalBackend")
    return client


# The login page ------------------------------------------------------------------------


def test_without_oidc_the_login_page_has_no_provider_and_local_login_works(settings, contact):
    settings.OIDC_ISSUER = ""
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert 'id="oidc-login"' not in page and "<details" not in page
    assert reverse("password_reset") in page
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    response = client.post(reverse("login"), {"username": "contact", "password": "secret-pass-123"})
    assert response.status_code == 302 and int(client.session[SESSION_KEY]) == contact.pk
    assert OIDCBackend().authenticate(None, nonce="x") is None


def test_with_oidc_the_login_page_offers_the_provider_first(oidc, settings):
    settings.OIDC_PROVIDER_NAME = "HelseID"
    page = Client().get(reverse("login"), {"next": "/kommuner/"}).content.decode()
    with translation.override("nb"):  # the language of every page
        button = translation.gettext("Log in with %(provider)s") % {"provider": "HelseID"}
    assert 'id="oidc-login"' in page and button in page
    assert f'href="{reverse("oidc_authentication_init")}?next=%2Fkommuner%2F"' in page
    assert page.index('id="oidc-login"') < page.index('id="local-login"')
    assert "<details" not in page and 'id="oidc-failed"' not in page


def test_with_local_login_for_admins_the_form_is_folded_and_refuses_others(
    oidc, settings, contact, make_user
):
    settings.LOCAL_LOGIN = "admins"
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert '<details class="group" id="emergency-login">' in page
    client.post(reverse("login"), {"username": "contact", "password": "secret-pass-123"})
    assert SESSION_KEY not in client.session
    admin = make_user("admin")
    client.post(reverse("login"), {"username": "admin", "password": "secret-pass-123"})
    assert int(client.session[SESSION_KEY]) == admin.pk


def test_an_unreachable_provider_is_the_login_page_error_not_a_500(settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    settings.OIDC_TIMEOUT = 2
    response = Client().get(reverse("oidc_authentication_init"))
    assert response.status_code == 302 and response["Location"] == FAILED


# Claims ------------------------------------------------------------------------------------


def test_claims_are_read_leniently(settings):
    assert normalised_orgnr("NO 983 544 622 MVA") == "983544622"
    assert normalised_orgnr("0192:983544622") == "983544622"
    assert normalised_orgnr("12345") == ""
    settings.OIDC_CLAIM_GROUPS = "roles"
    assert claimed_groups({"roles": "a, b c"}) == ["a", "b", "c"]
    assert claimed_groups({"roles": ["a", " b "]}) == ["a", "b"]
    assert claimed_groups({"groups": ["a"]}) == []
