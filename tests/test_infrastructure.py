"""The real services we ship against. In CI (CI=true) these fail when the service is
unreachable; locally without DATABASE_URL / REDIS_URL they skip."""

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction

from actors.models import Organisation
from config.celery import app as celery_app
from tests.factories import OrganisationFactory


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_enforces_unique_orgnr_and_rolls_back_whole_transactions(org_bergen):
    assert connection.vendor == "postgresql"
    before = Organisation.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(municipality__number="5501")
        Organisation.objects.bulk_create(
            [
                Organisation(
                    **{
                        f.attname: getattr(org_bergen, f.attname)
                        for f in Organisation._meta.concrete_fields
                        if f.attname != "id"
                    }
                )
            ]
        )
    assert Organisation.objects.count() == before


@pytest.mark.redis
def test_cache_and_celery_broker_use_redis():
    from django.conf import settings

    assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
    cache.set("infrastructure-check", {"ø": 1}, 30)
    assert cache.get("infrastructure-check") == {"ø": 1}
    # Configured for a real broker (tests/conftest.py runs unit tests' tasks in-process).
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.transport.driver_type == "redis"


def test_unit_tests_run_tasks_in_process_even_with_a_broker(db):
    """tests/conftest.py runs task bodies here, also in CI where REDIS_URL is set; a flag
    set under the wrong name would send them to Redis, where no worker is (or the wrong
    test process's worker takes them)."""
    from celery.result import EagerResult

    from benefits.tasks import purge_report_files

    assert isinstance(purge_report_files.delay(), EagerResult)


def test_each_test_has_a_cache_namespace_of_its_own():
    """tests/conftest.py gives every test its own cache key prefix (see _own_cache_namespace)."""
    from django.core.cache import cache

    assert cache.key_prefix.startswith("test-")
    cache.set("figures", 1)
    assert cache.get("figures") == 1
