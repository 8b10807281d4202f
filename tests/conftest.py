"""Shared fixtures: the reference structure loaded once, users per role, clients per role.

Tests marked `postgres` or `redis` skip locally when the service is not configured, and
fail instead when CI=true, so CI can never pass without really exercising them; `browser`
tests likewise need Debian's chromium (tests/browser/).
"""

import copy
import os
import shutil
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from actors.append_only import ALLOW_TRUNCATE
from actors.choices import Role
from tests.factories import OrganisationFactory, UserFactory
from tests.oidc_provider import oidc, oidc_provider, oidc_provider_expiring  # noqa: F401

IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(item, why: str) -> None:
    if IN_CI:
        pytest.fail(f"{item.nodeid} needs {why} in CI, but it is not reachable.", pytrace=False)
    pytest.skip(f"needs {why}")


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable(item, "PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis"):
        if not settings.REDIS_URL:
            _unavailable(item, "Redis (set REDIS_URL)")
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError:
            _unavailable(item, f"Redis at {settings.REDIS_URL}")
    if item.get_closest_marker("browser") and not chromium_path():
        _unavailable(item, "Debian's chromium (apt-get install chromium)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # pytest-xdist keeps a group in one process by suffixing node ids with "@group"; a
    # pytest it does not support ignores the suffix silently (pytest 9 did), and the tests
    # of the real worker then share the broker from two processes. Refuse to run so.
    if getattr(config.option, "loadgroup", False):
        lost = [
            i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        ]
        if lost:
            raise pytest.UsageError(
                f"--dist loadgroup did not group {lost[0]} (and {len(lost) - 1} more): "
                "this pytest-xdist does not support this pytest; pin versions that work together."
            )


def chromium_path() -> str | None:
    """The system chromium that Playwright drives (it never downloads its own browser)."""
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(autouse=True)
def _private_files_in_tmp(settings, tmp_path):
    # Uploaded and generated files of a test go to its own folder, never the project's.
    settings.MEDIA_ROOT = tmp_path / "private"


def celery_eager(value: bool) -> None:
    """Run tasks in-process (True) or through the broker. The app reads Django settings
    under the CELERY namespace, so the flag must be set under that name: setting
    `app.conf.task_always_eager` is silently ignored."""
    from config.celery import app

    app.conf.CELERY_TASK_ALWAYS_EAGER = value


@pytest.fixture(autouse=True)
def _celery_in_process():
    # Unit tests run task bodies in-process even when REDIS_URL is set (CI); the tests of
    # the real worker switch this off for their time.
    celery_eager(True)
    yield
    celery_eager(True)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test reads and writes the cache under a key prefix of its own. The cached
    figures (rollout.selectors.cached_figures, the matrix) are keyed by the query and a
    version that moves on commit; a test's transaction is rolled back, never committed, and
    the other xdist process shares the Redis database, so without this one test could be
    answered with figures another counted on other rows."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches  # Django's test signals reset the cache handlers


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; test users need no such cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    # The append-only tables refuse TRUNCATE unless the session opts in (actors/append_only.py);
    # the flush after each transactional test empties every table with TRUNCATE.
    from django.db import connections

    for alias in connections:
        db = connections[alias].settings_dict  # the dict every thread's connection reads
        if connections[alias].vendor == "postgresql":
            options = db.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c {ALLOW_TRUNCATE}=on".strip()
            connections[alias].close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends with a flush that empties every table: the rows the
    migrations made and the reference data too. Put them back, so the tests that follow in
    this process find the database as django_db_setup left it (whatever order xdist
    chooses)."""
    yield
    marker = item.get_closest_marker("django_db")
    if nextitem is None or marker is None or not marker.kwargs.get("transaction"):
        return  # after the last test the test database is gone: nothing to put back
    from pytest_django.plugin import blocking_manager_key

    from actors.models import Municipality, OrganisationType

    with item.config.stash[blocking_manager_key].unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents and not OrganisationType.objects.exists():
            connection.creation.deserialize_db_from_string(contents)
        if not Municipality.objects.exists():
            call_command("load_reference_data", verbosity=0)


ROLE_USERS = {
    "norole": {"role": ""},
    "contact": {"role": Role.MUNICIPALITY_CONTACT, "municipalities": ["4601"]},
    "coord_area": {"role": Role.COORDINATOR, "health_trusts": ["helse-bergen"]},
    "coord_nat": {"role": Role.COORDINATOR, "national_scope": True},
    "directorate": {"role": Role.DIRECTORATE},
    "admin": {"role": Role.ADMIN, "is_staff": True, "is_superuser": True},
}


@pytest.fixture(scope="session")
def production():
    """The production settings (config/settings_production.py) as read with a secret key
    and without SENTRY_DSN: a dict of the module's names."""
    import runpy

    environment = {"SECRET_KEY": "test-" + "x" * 60, "SENTRY_DSN": ""}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        return runpy.run_module("config.settings_production")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


@pytest.fixture
def make_user(db):
    def make(kind: str, **extra):
        return UserFactory(username=kind, **{**ROLE_USERS[kind], **extra})

    return make


@pytest.fixture
def users(make_user):
    return {kind: make_user(kind) for kind in ROLE_USERS}


@pytest.fixture
def contact(make_user):
    return make_user("contact")


@pytest.fixture
def coordinator(make_user):
    return make_user("coord_area")


@pytest.fixture
def directorate(make_user):
    return make_user("directorate")


@pytest.fixture
def org_bergen(db):
    return OrganisationFactory(municipality__number="4601", name="Bergen legesenter")


@pytest.fixture
def org_tromso(db):
    return OrganisationFactory(municipality__number="5501", name="Tromsø legesenter")


def client_for(user):
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
