"""Sessions and log-in: the inactivity limit, throttling by username and address together
(the address read from the trusted proxy's header only when TRUSTED_PROXY_COUNT says so),
and 401 with WWW-Authenticate for anonymous API calls."""

import datetime
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from actors.security import client_ip
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # tests/factories.py
LOCKED = 429
LOGGED_IN = 302
WRONG = 200  # the form again, with its error


# --- inactivity -------------------------------------------------------------------------


def test_a_session_idle_longer_than_the_limit_is_logged_out(contact, settings):
    assert settings.SESSION_IDLE_SECONDS == 8 * 60 * 60  # the default
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_SECONDS
    start = timezone.now()

    def at(delta):
        return patch("django.utils.timezone.now", return_value=start + delta)

    with at(datetime.timedelta(0)):
        client = client_for(contact)
    home = reverse("actors:home")
    with at(datetime.timedelta(hours=7, minutes=50)):
        assert client.get(home).status_code == 200
    with at(datetime.timedelta(hours=15, minutes=40)):  # each request renews the limit
        assert client.get(home).status_code == 200
    with at(datetime.timedelta(hours=23, minutes=41)):  # 8 h 1 min since the last request
        response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_session_is_written_at_most_once_a_minute(contact):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = timezone.now()
    with patch("django.utils.timezone.now", return_value=start):
        client = client_for(contact)
    home = reverse("actors:home")

    def session_writes(delta) -> int:
        with (
            patch("django.utils.timezone.now", return_value=start + delta),
            CaptureQueriesContext(connection) as queries,
        ):
            assert client.get(home).status_code == 200
        return sum('UPDATE "django_session"' in q["sql"] for q in queries)

    assert session_writes(datetime.timedelta(seconds=61)) == 1  # renewed
    assert session_writes(datetime.timedelta(seconds=90)) == 0  # within the minute
    assert session_writes(datetime.timedelta(seconds=125)) == 1  # a minute later


# --- login throttling -------------------------------------------------------------------


def log_in(username, password, ip, forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    data = {"username": username, "password": password}
    return Client().post(reverse("login"), data, **extra).status_code


def fail_five_times(username, ip, forwarded=None):
    statuses = [log_in(username, "wrong", ip, forwarded) for _ in range(5)]
    assert statuses == [WRONG] * 4 + [LOCKED]  # the fifth failure locks


@pytest.fixture
def alice_and_bob(db):
    return UserFactory(username="alice"), UserFactory(username="bob")


def test_lockout_is_by_username_and_address_together(alice_and_bob):
    fail_five_times("alice", "10.0.0.1")
    assert log_in("alice", PASSWORD, "10.0.0.1") == LOCKED
    assert log_in("bob", PASSWORD, "10.0.0.1") == LOGGED_IN  # another user, same address
    assert log_in("alice", PASSWORD, "10.0.0.2") == LOGGED_IN  # same user, another address
    assert log_in("alice", PASSWORD, "10.0.0.1") == LOCKED


def test_the_forwarded_header_is_ignored_without_trusted_proxies(alice_and_bob, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0  # the default
    # A client cannot dodge the lock by inventing addresses.
    statuses = [log_in("alice", "wrong", "10.0.0.1", f"198.51.100.{n}") for n in range(5)]
    assert statuses == [WRONG] * 4 + [LOCKED]
    assert log_in("alice", PASSWORD, "10.0.0.1", "198.51.100.99") == LOCKED


def test_behind_a_trusted_proxy_its_header_names_the_client(alice_and_bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"  # every request comes from the proxy
    fail_five_times("alice", proxy, "198.51.100.7")
    assert log_in("alice", PASSWORD, proxy, "198.51.100.7") == LOCKED
    assert log_in("alice", PASSWORD, proxy, "203.0.113.5") == LOGGED_IN  # someone else
    # What the client wrote into the header itself (left of the proxy's entry) is not used.
    assert log_in("alice", PASSWORD, proxy, "203.0.113.9, 198.51.100.7") == LOCKED


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.1"),  # fewer entries than proxies: misconfigured
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_ip(SimpleNamespace(META=meta)) == expected


# --- API authentication -----------------------------------------------------------------


def test_anonymous_api_calls_get_401_with_www_authenticate(org_bergen):
    client = APIClient()
    for response in (
        client.get(reverse("organisation-list")),
        client.get(reverse("organisation-detail", args=[org_bergen.pk])),
        client.patch(reverse("organisation-detail", args=[org_bergen.pk]), {}, format="json"),
        client.get(reverse("api-schema")),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    wrong = client.get(reverse("organisation-list"), HTTP_AUTHORIZATION="Token nonsense")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == "Token"


def test_tokens_and_browser_sessions_still_authenticate(make_user, org_bergen):
    user = make_user("coord_nat")
    token = Token.objects.create(user=user)
    url = reverse("organisation-detail", args=[org_bergen.pk])
    scripted = APIClient().get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert scripted.status_code == 200

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get(url).status_code == 200
    etag = browser.get(url)["ETag"]
    body, json = '{"name": "Nytt navn"}', "application/json"
    refused = browser.patch(url, body, content_type=json, HTTP_IF_MATCH=etag)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.get(reverse("actors:home"))  # a page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    saved = browser.patch(url, body, content_type=json, HTTP_IF_MATCH=etag, HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 200 and saved.json()["name"] == "Nytt navn"
