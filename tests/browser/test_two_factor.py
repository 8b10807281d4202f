"""Local accounts in a real browser: an administrator sets up the second factor (TOTP) when
ADMIN_REQUIRE_2FA is on, and a user resets a forgotten password by e-mail. The live server
runs in this process, so the `settings` fixture reaches it and `mailoutbox` catches its mail.
Screenshots: 2fa-*.png and password-reset-*.png in the artifacts folder."""

import re
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.actors.test_account import code_for
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
NEW_PASSWORD = "Fjordhest-Tromsø-2026"


@pytest.fixture
def admin_user(db, settings):
    settings.ADMIN_REQUIRE_2FA = True
    return UserFactory(username="sjef", role="admin", is_staff=True, is_superuser=True)


def test_admin_sets_up_the_second_factor_and_lands_on_the_start_page(admin_user, journey):
    page = journey.page
    journey.login("sjef")
    assert "/to-faktor/" in page.url
    assert page.locator("#two-factor").get_attribute("data-step") == "setup"
    qr = page.locator("#totp-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")  # the QR code drew
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{4}", secret)
    journey.shot("2fa-01-setup")

    page.fill("input[name=code]", "000000")
    page.click("#two-factor form.stacked button[type=submit]")
    assert page.locator("#code-error").is_visible()
    assert page.input_value("input[name=code]") == ""
    journey.shot("2fa-02-wrong-code")

    time.sleep(1.2)  # django-otp waits a second after a wrong code
    device = TOTPDevice.objects.get(user=admin_user)
    page.fill("input[name=code]", code_for(device))
    page.click("#two-factor form.stacked button[type=submit]")
    page.wait_for_url(journey.base_url + "/")
    assert TOTPDevice.objects.get(user=admin_user).confirmed
    journey.shot("2fa-03-start-page")

    # The next sign-in asks for a code only.
    page.click("header .who button[type=submit]")
    journey.login("sjef")
    assert page.locator("#two-factor").get_attribute("data-step") == "code"
    assert page.locator("#totp-qr").count() == 0
    journey.shot("2fa-04-code-only")


def test_forgotten_password_is_reset_by_email(journey, mailoutbox):
    UserFactory(username="kari", email="kari@example.no", role="coordinator")
    page = journey.page
    journey.goto("/passord/glemt/")
    journey.shot("password-reset-01-ask")
    page.fill("input[name=email]", "kari@example.no")
    page.click("main form.stacked button[type=submit]")
    page.wait_for_url("**/passord/glemt/sendt/")
    assert page.locator("#password-reset-sent").is_visible()
    journey.shot("password-reset-02-sent")

    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/passord/ny/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    page.fill("input[name=new_password1]", "12345678")
    page.fill("input[name=new_password2]", "12345678")
    page.click("#set-password button[type=submit]")
    assert page.locator("#set-password .errorlist").count() >= 1
    journey.shot("password-reset-03-refused")

    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("#set-password button[type=submit]")
    page.wait_for_url("**/passord/ny/ferdig/")
    journey.shot("password-reset-04-done")

    journey.login("kari", NEW_PASSWORD)
    assert page.url == journey.base_url + "/"

    page.click("header .who button[type=submit]")
    page.goto(link)
    assert page.locator("#invalid-link").is_visible()
    journey.shot("password-reset-05-used-link")
