"""Health checks: `/helse/` for the load balancer, `/helse/detaljer/` for administrators."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from health_check.exceptions import ServiceUnavailable

from actors.models import Job, ScheduledTaskRun
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from benefits.tasks import purge_report_files
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_health_is_ok_without_login_and_tells_nothing_more(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


def test_health_is_not_ok_when_the_database_check_fails(client):
    failure = ServiceUnavailable("connection refused to db.internal:5432")
    with mock.patch("health_check.checks.Database.run", side_effect=failure):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.content == b"not ok\n"


def test_health_is_not_ok_while_a_migration_is_pending(client):
    with mock.patch(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        return_value=[("a migration", False)],
    ):
        response = client.get(reverse("health"))
    assert response.status_code == 503


def test_health_checks_the_broker_only_when_redis_is_configured(settings, client):
    from config.health import load_balancer_checks

    settings.REDIS_URL = ""  # the embedded default (CI runs with REDIS_URL set)
    assert "Redis" not in {type(check).__name__ for check in load_balancer_checks()}
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing there
    assert "Redis" in {type(check).__name__ for check in load_balancer_checks()}
    assert client.get(reverse("health")).status_code == 503


@pytest.mark.parametrize("kind, expected", [("contact", 404), ("directorate", 404)])
def test_the_detail_page_is_for_administrators_only(make_user, kind, expected, client):
    assert client_for(make_user(kind)).get(reverse("health_detail")).status_code == expected
    anonymous = client.get(reverse("health_detail"))
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]


def snapshot(computed_at):
    row = CoverageSnapshot.objects.create(
        target=CoverageTarget.objects.first(),
        day=computed_at.date(),
        level=Level.NATION,
        numerator=1,
        denominator=2,
    )
    CoverageSnapshot.objects.filter(pk=row.pk).update(computed_at=computed_at)


def rows_of(response):
    return {(row["check"], row["name"]): row for row in response.context["rows"]}


def test_the_detail_page_shows_fresh_ages_unflagged(make_user):
    now = timezone.now()
    snapshot(now - datetime.timedelta(hours=3))
    purge_report_files.delay()  # through Celery (in-process here): its run is recorded
    assert ScheduledTaskRun.objects.get(task="benefits.tasks.purge_report_files")

    response = client_for(make_user("admin")).get(reverse("health_detail"))
    assert response.status_code == 200
    rows = rows_of(response)
    newest = rows[("CoverageSnapshotAge", "")]
    assert newest["ok"] and newest["since"] < now - datetime.timedelta(hours=2)
    purge = rows[("BeatTaskAge", "report-files-purge")]
    assert purge["ok"] and purge["since"] is not None
    never = rows[("BeatTaskAge", "coverage-nightly")]
    assert never["warning"] and never["message"] == "har ikke kjørt ennå"  # in Norwegian
    assert rows[("Database", "")]["ok"]
    assert response.context["healthy"]
    assert "3\xa0timer" in response.content.decode()


def test_the_detail_page_flags_ages_over_a_day_but_the_site_stays_healthy(make_user, client):
    long_ago = timezone.now() - datetime.timedelta(days=2)
    snapshot(long_ago)
    ScheduledTaskRun.objects.create(task="benefits.tasks.purge_report_files", finished_at=long_ago)

    response = client_for(make_user("admin")).get(reverse("health_detail"))
    rows = rows_of(response)
    assert rows[("CoverageSnapshotAge", "")]["warning"]
    assert rows[("BeatTaskAge", "report-files-purge")]["warning"]
    assert response.context["healthy"]
    assert client.get(reverse("health")).status_code == 200


def test_the_detail_page_flags_stalled_and_long_queued_jobs(make_user, settings):
    response = client_for(make_user("admin")).get(reverse("health_detail"))
    assert rows_of(response)[("JobBacklog", "")]["ok"]
    silent = timezone.now() - datetime.timedelta(seconds=settings.JOB_STALLED_AFTER_SECONDS + 5)
    Job.objects.create(
        kind=Job.Kind.COVERAGE_RECOMPUTE, state=Job.State.RUNNING, heartbeat_at=silent
    )
    response = client_for(make_user("admin")).get(reverse("health_detail"))
    backlog = rows_of(response)[("JobBacklog", "")]
    assert backlog["warning"] and "1 stoppet, 0 i køen i mer enn" in backlog["message"]
    assert response.context["healthy"]  # a warning for the operator, not an outage
    assert "Bakgrunnsjobber" in response.content.decode()


def test_health_is_not_ok_when_the_cache_fails(client):
    failure = ServiceUnavailable("cache unreachable")
    with mock.patch("health_check.checks.Cache.run", side_effect=failure):
        response = client.get(reverse("health"))
    assert (response.status_code, response.content) == (503, b"not ok\n")


def test_the_load_balancer_probes_over_plain_http_in_production(settings, client, production):
    """Production redirects everything to HTTPS, except the health check: a load balancer
    probing the application straight over HTTP would read a 301 as unhealthy."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = production["SECURE_REDIRECT_EXEMPT"]
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("health_detail")).status_code == 301
