"""Local accounts: password reset by e-mail, and the administrators' second factor (TOTP)
while ADMIN_REQUIRE_2FA is on (actors/password_reset.py, actors/two_factor.py,
actors/access_middleware.py)."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"  # UserFactory's default
NEW_PASSWORD = "Fjordhest-Tromsø-2026"
RESET = "/passord/glemt/"
SENT = "/passord/glemt/sendt/"
TWO_FACTOR = "/to-faktor/"


def log_in(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, "the login was refused"
    return client


def link_from(mail) -> str:
    return re.search(r"https?://[^/\s]+(/passord/ny/\S+/)", mail.body).group(1)


# --- password reset -------------------------------------------------------------------


@pytest.fixture
def local_user(db):
    return UserFactory(username="kari", email="kari@example.no", role="coordinator")


def test_reset_by_email_end_to_end(client, local_user, mailoutbox, settings):
    settings.PASSWORD_RESET_TIMEOUT = 2 * 60 * 60
    response = client.post(RESET, {"email": "KARI@example.no"})
    assert response.status_code == 302 and response["Location"] == SENT
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["kari@example.no"]
    assert "\n" not in mail.subject
    assert "kari" in mail.body and "2" in mail.body  # the account and the link's hours

    response = client.get(link_from(mail), follow=True)
    assert response.context["validlink"]
    form_url = response.redirect_chain[-1][0]  # the token moved into the session
    response = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and response.context["form"].errors["new_password2"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == reverse("password_reset_complete")
    assert client.get(response["Location"]).status_code == 200

    refused = Client().post(reverse("login"), {"username": "kari", "password": PASSWORD})
    assert refused.status_code == 200 and not refused.wsgi_request.user.is_authenticated
    log_in("kari", NEW_PASSWORD)

    # The link worked once: after the change it is explained as used or expired.
    response = Client().get(link_from(mail), follow=True)
    assert response.status_code == 200 and not response.context["validlink"]
    assert b'id="invalid-link"' in response.content


def test_reset_email_gives_the_link_validity_in_norwegian(client, local_user, mailoutbox):
    client.post(RESET, {"email": "kari@example.no"})  # PASSWORD_RESET_TIMEOUT: one day
    assert "1 dag" in mailoutbox[0].body.replace("\xa0", " ")  # Django's own catalogue


def test_unknown_address_gets_the_same_page_and_no_mail(client, local_user, mailoutbox):
    known = client.post(RESET, {"email": "kari@example.no"}, follow=True)
    unknown = client.post(RESET, {"email": "ingen@example.no"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain == [(SENT, 302)]
    assert unknown.content == known.content
    assert len(mailoutbox) == 1


def test_provider_account_without_password_gets_no_mail(client, mailoutbox):
    user = UserFactory(username="ola", email="ola@example.no", role="coordinator")
    user.set_unusable_password()
    user.save()
    response = client.post(RESET, {"email": "ola@example.no"})
    assert response["Location"] == SENT and mailoutbox == []


def test_one_address_gets_at_most_one_mail_in_five_minutes(client, local_user, mailoutbox):
    for _ in range(3):
        assert client.post(RESET, {"email": "kari@example.no"})["Location"] == SENT
    assert len(mailoutbox) == 1


def test_tampered_link_is_explained(client, local_user):
    response = client.get("/passord/ny/MQ/ugyldig-token/")
    assert response.status_code == 200 and not response.context["validlink"]
    assert b'href="/passord/glemt/"' in response.content


def test_reset_pages_are_open_to_everyone(client):
    for url in (RESET, SENT, reverse("password_reset_complete")):
        assert client.get(url).status_code == 200


# --- second factor for administrators --------------------------------------------------


@pytest.fixture
def admin_user(db):
    return UserFactory(username="sjef", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the administrator's app shows now (or one step later: a code is accepted
    once, and the tolerance of one step lets a second sign-in use the next one)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def test_admin_is_held_at_the_second_factor_until_verified(admin_user, require_2fa):
    client = log_in("sjef")
    for url in ("/", "/admin/", "/api/v1/organisations/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{TWO_FACTOR}?next={url}"


def test_setup_shows_a_qr_code_and_a_right_code_confirms_the_device(admin_user, require_2fa):
    client = log_in("sjef")
    page = client.get(TWO_FACTOR, {"next": "/admin/"})
    assert page.status_code == 200 and page.context["setup"]
    assert b'src="data:image/svg+xml' in page.content and b'id="totp-secret"' in page.content
    assert b'class="nav"' not in page.content  # no menu: every link would lead back here
    device = TOTPDevice.objects.get(user=admin_user)
    assert not device.confirmed
    assert client.get(TWO_FACTOR).context["qr_data_uri"] == page.context["qr_data_uri"]

    response = client.post(TWO_FACTOR, {"code": "000000", "next": "/admin/"})
    assert response.status_code == 200 and response.context["error"]
    assert b'value="000000"' not in response.content
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    assert client.get("/").status_code == 302

    device.throttle_reset()  # django-otp waits a second after a failure
    response = client.post(TWO_FACTOR, {"code": code_for(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    for url in ("/", "/admin/", "/api/v1/organisations/"):
        assert client.get(url).status_code == 200, url
    assert b'class="nav"' in client.get("/").content  # verified: the menu is back
    # Verified: the page has nothing more to ask.
    assert client.get(TWO_FACTOR)["Location"] == reverse("actors:home")


def test_second_login_asks_for_the_code_only(admin_user, require_2fa):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    client = log_in("sjef")
    page = client.get(TWO_FACTOR)
    assert not page.context["setup"] and b"totp-qr" not in page.content
    assert b"totp-secret" not in page.content
    response = client.post(TWO_FACTOR, {"code": code_for(device, steps_ahead=1)})
    assert response["Location"] == reverse("actors:home")
    assert client.get("/").status_code == 200
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1

    # Logging out ends the verification.
    client.post(reverse("logout"))
    client = log_in("sjef")
    assert client.get("/")["Location"] == f"{TWO_FACTOR}?next=/"


def test_a_used_code_and_a_malformed_one_are_refused(admin_user, require_2fa):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    code = code_for(device)
    log_in("sjef").post(TWO_FACTOR, {"code": code})
    client = log_in("sjef")
    response = client.post(TWO_FACTOR, {"code": code})
    assert response.context["error"] and client.get("/").status_code == 302
    response = client.post(TWO_FACTOR, {"code": "12ab"})
    with translation.override("nb"):  # the language of every page
        assert response.context["error"] == translation.gettext("The code is six digits.")


def test_too_many_wrong_codes_tell_the_user_to_wait(admin_user, require_2fa, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first failure: never flaky
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    client = log_in("sjef")
    client.post(TWO_FACTOR, {"code": "000000"})
    response = client.post(TWO_FACTOR, {"code": code_for(device)})  # right, but too soon
    with translation.override("nb"):  # the language of every page
        wait = translation.ngettext(
            "Too many wrong codes. Wait %(seconds)s second and try again with a new code.",
            "Too many wrong codes. Wait %(seconds)s seconds and try again with a new code.",
            60,
        )
    assert response.context["error"] == wait % {"seconds": 60}
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_next_outside_the_site_is_ignored(admin_user, require_2fa, next_url):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    client = log_in("sjef")
    response = client.post(TWO_FACTOR, {"code": code_for(device), "next": next_url})
    assert response["Location"] == reverse("actors:home")


def test_coordinator_is_not_asked(local_user, require_2fa):
    client = log_in("kari")
    assert client.get("/").status_code == 200
    assert client.get(TWO_FACTOR)["Location"] == reverse("actors:home")
    assert not TOTPDevice.objects.exists()


def test_admin_signed_in_through_the_provider_is_not_asked(admin_user, require_2fa):
    client = Client()
    client.force_login(admin_user, backend="actors.oidc.OIDCBackend")
    assert client.get("/").status_code == 200
    assert client.get(TWO_FACTOR)["Location"] == reverse("actors:home")


def test_without_the_setting_admins_go_straight_in(admin_user, settings):
    settings.ADMIN_REQUIRE_2FA = False
    client = log_in("sjef")
    for url in ("/", "/admin/", "/api/v1/organisations/"):
        assert client.get(url).status_code == 200, url
    assert client.get(TWO_FACTOR)["Location"] == reverse("actors:home")
    assert not TOTPDevice.objects.exists()


def test_two_factor_page_needs_a_login(client):
    response = client.get(TWO_FACTOR)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
