"""A real OpenID Connect provider for the tests: oidc-provider-mock in a process of its own.

`oidc_provider` answers with tokens valid for an hour, `oidc_provider_expiring` with
tokens valid for one second (--token-max-age 1: with 0 the mock fails with a 500 because
authlib leaves out `expires_in`, which its save_token asserts). Each pytest process (each
xdist worker) starts its own on a free port, once per session. A provider that does not
start fails the tests that need it, with its stderr: it is never skipped.

The provider accepts any client id, secret and redirect URI; `PUT /users/<sub>` sets the
claims it gives for a subject, and its authorization form posts `sub`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

START_TIMEOUT = 20  # seconds
CLIENT_ID = "rollout-test"
CLIENT_SECRET = "rollout-test-secret"


@dataclass
class Provider:
    url: str

    def set_user(self, sub: str, **claims) -> None:
        """The claims the provider gives for `sub` from now on (replacing earlier ones)."""
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign in as `sub` on the provider's form; the redirect back to the client."""
        response = requests.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def id_token(self, sub: str, *, client_id: str = CLIENT_ID, nonce: str = "n-1") -> str:
        """A real ID token for `sub`, issued to `client_id`, straight from the provider."""
        redirect_uri = "http://client.invalid/callback"
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": "s-1",
            "nonce": nonce,
        }
        authorize = requests.Request("GET", f"{self.url}/oauth2/authorize", params=query)
        back = self.authorize(authorize.prepare().url, sub)
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = requests.post(
            f"{self.url}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": CLIENT_SECRET,
            },
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["id_token"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_provider(*args: str):
    """Start the provider, wait until its discovery document answers, yield it, stop it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )

        def output() -> str:
            stderr.seek(0)
            return stderr.read().decode(errors="replace")[-4000:]

        try:
            _wait_for(url, process, output)
            yield Provider(url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(url: str, process: subprocess.Popen, output) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider-mock exited ({process.returncode}):\n{output()}")
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"oidc-provider-mock did not answer in {START_TIMEOUT} s:\n{output()}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def oidc_provider():
    yield from run_provider()


@pytest.fixture(scope="session")
def oidc_provider_expiring():
    yield from run_provider("--token-max-age", "1")


def configure(settings, provider: Provider, **extra) -> None:
    """Point the application at `provider` (pytest-django's `settings` fixture)."""
    settings.OIDC_ISSUER = provider.url
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    for name, value in extra.items():
        setattr(settings, name, value)


@pytest.fixture
def oidc(settings, oidc_provider) -> Provider:
    """The application signs in through `oidc_provider` for this test."""
    configure(settings, oidc_provider)
    return oidc_provider
