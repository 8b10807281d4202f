"""Playwright driving Debian's chromium against pytest-django's live server.

Playwright's own browser download is never used: the browser is the system's chromium
(`executable_path`), which `.ci/run` installs. Every journey saves a full-page screenshot of
each step under $TEST_ARTIFACTS (default test-artifacts/browser/), and one named FAILED-…
when a test fails. JavaScript errors and server errors seen by the browser fail the test.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import chromium_path

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's default
ROOT = Path(__file__).resolve().parents[2]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts" / "browser")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the journey fixture knows whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@dataclass
class Journey:
    """One browser tab on the live server, with the helpers every journey needs."""

    page: "Page"
    base_url: str
    artifacts: Path
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("main button[type=submit]")  # the header has a logout button too
        self.page.wait_for_url(lambda url: "login" not in url)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot of this step; fail on errors the browser saw so far."""
        path = self.artifacts / f"{name}.png"
        # Scrolled to the end, the sticky bar at the bottom (.bulkbar) sits where it belongs
        # instead of over the rows that happened to be at the bottom of the window.
        self.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        self.page.screenshot(path=path, full_page=True)
        self.assert_clean()
        return path

    def message(self) -> str:
        """The text of the flash messages at the top of the page."""
        return " ".join(self.page.locator("ul.messages li").all_inner_texts())

    def assert_clean(self) -> None:
        assert not self.problems, "The browser saw errors:\n" + "\n".join(self.problems)


@pytest.fixture
def journey(live_server, request, monkeypatch):
    """A fresh browser for one test, started after the database is ready and stopped before
    it is flushed.

    Playwright's sync API keeps an asyncio loop running in this thread. Django then takes
    the test for async code: it refuses ORM calls (allowed again below; the test's own
    queries are plain synchronous ones) and hands out separate, context-local database
    connections. Those are closed before the browser stops, so the connection that
    pytest-django flushes and restores (serialized_rollback) is never confused with them.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="nb-NO",
            timezone_id="Europe/Oslo",
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        j = Journey(page=page, base_url=live_server.url, artifacts=artifacts_dir())
        page.on("pageerror", lambda exc: j.problems.append(f"JavaScript error: {exc}"))
        page.on(
            "console",
            lambda msg: msg.type == "error" and j.problems.append(f"console: {msg.text}"),
        )
        page.on(
            "response",
            lambda r: r.status >= 500 and j.problems.append(f"HTTP {r.status} for {r.url}"),
        )
        try:
            yield j
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                page.screenshot(path=j.artifacts / f"FAILED-{name}.png", full_page=True)
            connections.close_all()  # the context-local ones opened while the loop ran
            browser.close()
