"""Every operation of the published OpenAPI schema, fuzzed with schemathesis as a national
coordinator and as a kommunekontakt: no answer may be a server error, and every answer
must match the schema it is published with. Seeded and bounded so it runs the same way
every time in a few minutes (CI runs it on PostgreSQL)."""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ROLE_USERS
from tests.factories import UserFactory

EXAMPLES = 15
# No server error; every answer's status, body, content type and headers as published.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]

# Examples from the schema and a bounded, seeded fuzzing phase; the coverage phase (every
# boundary and method combination, unbounded) and stateful runs are left out.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261202,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
)
schema.app = get_wsgi_application()

ROLES = ("coord_nat", "contact")

# One test process runs the whole module, so the demo is seeded once. It runs on whatever
# database the suite has: SQLite locally, PostgreSQL in CI (where the postgres-marked
# tests fail without it).
pytestmark = pytest.mark.xdist_group("fuzz")


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The synthetic demo (registry, statuses and history, agreements, reports, targets,
    decision points), so that answers carry real records with their empty fields; made
    once for the module and rolled back after it."""
    # Requests go straight to the WSGI handler, which would close the connection (and
    # with it this transaction) after each one; Django's test client holds it open alike.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
            # Check the deferred foreign keys of the seeded rows now, once, not again at
            # the end of every test.
            connection.check_constraints()
            yield
            transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(demo_data, db, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.COVERAGE_BACKFILL_MAX_DAYS = 31
    return {
        kind: Token.objects.create(user=UserFactory(username=kind, **ROLE_USERS[kind])).key
        for kind in ROLES
    }


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_operations(case, role, fuzz_data):
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_data[role]}"},
        checks=CHECKS,
    )
