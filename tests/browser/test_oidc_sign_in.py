"""Issue 19 in a real browser: sign-in through the identity provider (oidc-provider-mock in
its own process, tests/oidc_provider.py). A coordinator granted access in the application
clicks "Log in with …", types their subject on the provider's page and lands on their start
page; logging out ends the provider's session too and comes back to the login page; a
person nobody has given access sees the no-access page and nothing else. The live server
runs in this process, so the `settings` fixture reaches it. Screenshots: oidc-*.png."""

import copy

import pytest

from tests.browser import test_journeys
from tests.factories import UserFactory
from tests.oidc_provider import configure

bergen_organisations = test_journeys.bergen_organisations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def provider(settings, oidc_provider):
    configure(settings, oidc_provider, OIDC_PROVIDER_NAME="HelseID")
    # What config/settings.py does when OIDC_ISSUER is set at start: the logout form's
    # redirect to the provider is a form action.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [
        *policy["DIRECTIVES"]["form-action"],
        oidc_provider.url,
    ]
    settings.CONTENT_SECURITY_POLICY = policy
    return oidc_provider


@pytest.fixture
def journey_offline(journey):
    # The provider's pages take their stylesheet from a CDN; the machines are offline.
    journey.page.route(
        "https://cdn.jsdelivr.net/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    return journey


def forget_the_no_access_status(journey) -> None:
    """The no-access page answers 403 (on purpose), which chromium reports on its console."""
    forbidden = "console: Failed to load resource: the server responded with a status of 403"
    journey.problems[:] = [p for p in journey.problems if not p.startswith(forbidden)]


def sign_in_at_provider(journey, provider, sub: str) -> None:
    page = journey.page
    page.click("#oidc-login")
    page.wait_for_url(f"{provider.url}/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.click("form:has(input[name=sub]) button[type=submit]")
    page.wait_for_url(f"{journey.base_url}/**")


def test_a_coordinator_signs_in_with_the_provider_and_out_again(
    provider, bergen_organisations, journey_offline
):
    journey, page = journey_offline, journey_offline.page
    UserFactory(
        username="koordinator",
        first_name="Kari",
        last_name="Koordinator",
        role="coordinator",
        health_trusts=["helse-bergen"],
        oidc_subject="helseid-koordinator",
    )
    provider.set_user("helseid-koordinator", email="kari@helse-bergen.no", name="Kari Koordinator")
    journey.goto("/login/")
    assert page.locator("main a.btn#oidc-login").is_visible()
    assert page.locator("#emergency-login").count() == 0
    journey.shot("oidc-01-login")

    sign_in_at_provider(journey, provider, "helseid-koordinator")
    assert page.url == journey.base_url + "/"
    assert page.locator("header .who").inner_text().startswith("Kari Koordinator")
    journey.shot("oidc-02-start-page")

    page.click("header .who button[type=submit]")  # log out: the provider's session too
    page.wait_for_url(f"{provider.url}/oauth2/end_session**")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{journey.base_url}/login/")
    assert page.locator("#oidc-login").is_visible()


def test_a_person_without_access_sees_only_the_no_access_page(provider, settings, journey_offline):
    journey, page = journey_offline, journey_offline.page
    settings.LOCAL_LOGIN = "admins"
    provider.set_user("helseid-ny", email="ny.person@bergen.kommune.no", name="Ny Person")
    journey.goto("/login/")
    assert not page.locator("#local-login").is_visible()  # folded away
    journey.shot("oidc-03-login-admins-only")

    sign_in_at_provider(journey, provider, "helseid-ny")
    page.wait_for_url(f"{journey.base_url}/ingen-tilgang/")
    forget_the_no_access_status(journey)
    journey.shot("oidc-04-no-access")
    journey.goto("/virksomheter/")
    assert page.url == journey.base_url + "/ingen-tilgang/"
    forget_the_no_access_status(journey)
    journey.assert_clean()
