"""The production stack's own pieces: static files collected the way production collects them."""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_the_production_storage_is_the_one_tested(production):
    assert production["STORAGES"]["staticfiles"]["BACKEND"] == PRODUCTION_STATIC_STORAGE


@pytest.fixture
def collected_static(settings, tmp_path):
    """collectstatic with the production storage into a fresh STATIC_ROOT.

    Every reference inside the bundles (source maps, CSS url()s) must resolve, otherwise
    the manifest storage stops with MissingFileError, as it did for Chart.js's source map.
    """
    settings.STATIC_ROOT = tmp_path / "static"
    settings.WHITENOISE_USE_FINDERS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE},
    }
    # Compressing every bundle takes a minute and a half; the stylesheets show it works.
    settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["js", "map", "md", "png", "svg", "ico"]
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


@pytest.mark.django_db
def test_collectstatic_with_the_production_storage_hashes_and_compresses(collected_static, client):
    chartjs = collected_static / "vendor" / "chartjs"
    names = {p.name for p in chartjs.iterdir()}
    assert any(n.startswith("chart.umd.min.") and n.count(".") == 3 for n in names), names
    assert any(n.startswith("chart.umd.min.js.") and n.endswith(".map") for n in names)
    css = {p.name for p in (collected_static / "css").iterdir()}
    assert any(n.startswith("app.") and n.endswith(".css.gz") and n.count(".") == 3 for n in css)
    assert (collected_static / "staticfiles.json").exists()

    # A page then links the hashed names (no "Missing staticfiles manifest entry").
    page = client.get(reverse("login")).content.decode()
    assert "/static/css/app.css" not in page
    assert "/static/css/app." in page
    assert "/static/vendor/htmx/htmx.min." in page


@pytest.fixture
def json_log(settings):
    """Production's request logging and JSON lines, captured."""
    import io
    import logging

    from config.logging import REQUEST_LOGGER, JsonFormatter

    settings.MIDDLEWARE = ["config.logging.RequestLogMiddleware", *settings.MIDDLEWARE]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    # Whatever configured logging before in this process (an in-process Celery worker of
    # another test reconfigures it), the request logger logs at INFO for this test.
    before = REQUEST_LOGGER.level, REQUEST_LOGGER.disabled
    REQUEST_LOGGER.setLevel(logging.INFO)
    REQUEST_LOGGER.disabled = False
    REQUEST_LOGGER.addHandler(handler)
    yield stream
    REQUEST_LOGGER.removeHandler(handler)
    REQUEST_LOGGER.setLevel(before[0])
    REQUEST_LOGGER.disabled = before[1]


@pytest.mark.django_db
def test_a_request_logs_one_json_line_without_query_string_or_secrets(json_log, make_user):
    import json

    user = make_user("contact", password="hemmelig-passord-123")
    from django.test import Client

    client = Client()
    response = client.post(
        reverse("login") + "?next=/&token=abc123",
        {"username": "contact", "password": "hemmelig-passord-123"},
    )
    assert response.status_code == 302

    lines = json_log.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["method"] == "POST"
    assert line["path"] == reverse("login")
    assert line["status"] == 302
    assert isinstance(line["duration_ms"], float)
    assert line["user_id"] == user.pk
    assert "abc123" not in lines[0] and "hemmelig" not in lines[0]
    assert "contact" not in lines[0]


def test_task_log_lines_name_the_job(monkeypatch):
    import json
    import logging

    from benefits.tasks import run_job
    from config.logging import JsonFormatter

    seen = {}

    def fake_run(job_id):
        record = logging.LogRecord("benefits", logging.INFO, __file__, 1, "working", None, None)
        seen["line"] = JsonFormatter().format(record)
        return job_id

    monkeypatch.setattr(run_job, "run", fake_run)
    run_job.apply(args=[42], task_id="t-1")
    line = json.loads(seen["line"])
    assert (line["task"], line["task_id"], line["job_id"]) == ("benefits.tasks.run_job", "t-1", 42)


def test_gunicorn_reads_its_settings_from_the_environment(monkeypatch):
    import runpy

    path = str(django_settings.BASE_DIR / "config" / "gunicorn.conf.py")
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    defaults = runpy.run_path(path)
    assert defaults["bind"] == "127.0.0.1:8000"
    assert 3 <= defaults["workers"] <= 12
    assert defaults["timeout"] >= 120  # the PDF reports are rendered during the request
    assert defaults["accesslog"] == "-"

    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    configured = runpy.run_path(path)
    assert (configured["bind"], configured["workers"]) == ("0.0.0.0:9000", 4)


SECRET = "k3Jx9-hemmelig-lenke"


@pytest.mark.django_db
def test_links_that_carry_a_secret_are_logged_without_it(json_log, client):
    import json
    import logging

    from config.logging import JsonFormatter

    client.get(reverse("users:accept", args=[SECRET]))
    client.get(reverse("password_reset_confirm", args=["MTIz", SECRET]))
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert [line["path"] for line in lines] == ["/invitasjon/…/", "/passord/ny/…/…/"]

    # Django's own warnings ("Not Found: /invitasjon/<token>/") pass the same way.
    link = f"/invitasjon/{SECRET}/"
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (link,), None
    )
    assert json.loads(JsonFormatter().format(record))["message"] == "Not Found: /invitasjon/…/"
    # Other paths keep their ids; a path that is not ours stays as it is.
    record.args = ("/organisasjoner/42/",)
    assert json.loads(JsonFormatter().format(record))["message"] == "Not Found: /organisasjoner/42/"


@pytest.mark.django_db
def test_gunicorns_access_log_leaves_the_secret_out():
    import datetime
    import runpy
    from types import SimpleNamespace

    from gunicorn.config import Config

    from config.logging import GunicornLogger

    path = str(django_settings.BASE_DIR / "config" / "gunicorn.conf.py")
    assert runpy.run_path(path)["logger_class"] == "config.logging.GunicornLogger"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/invitasjon/{SECRET}/?neste=/",
        "PATH_INFO": f"/invitasjon/{SECRET}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://innforing.example.org/invitasjon/{SECRET}/",
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=512)
    atoms = GunicornLogger(Config()).atoms(
        response, SimpleNamespace(headers=[]), environ, datetime.timedelta(milliseconds=30)
    )
    assert atoms["U"] == "/invitasjon/…/"
    assert atoms["r"] == "GET /invitasjon/…/?neste=/ HTTP/1.1"
    assert atoms["f"] == "https://innforing.example.org/invitasjon/…/"
    assert SECRET not in repr(atoms)


@pytest.mark.parametrize("dsn", ["", "https://public@127.0.0.1:9/1"])
def test_errors_go_to_sentry_only_with_a_dsn_and_without_personal_data_or_secrets(dsn):
    """Production settings in a process of their own (sentry_sdk.init is process-wide)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, sys, django; django.setup(); import sentry_sdk; "
        "c = sentry_sdk.get_client(); "
        "event = {'request': {'url': 'https://h/invitasjon/' + sys.argv[1] + '/'}}; "
        "send = c.options.get('before_send') if c.is_active() else None; "
        "print(json.dumps({'active': c.is_active(), 'pii': c.options.get('send_default_pii'), "
        "'url': send(event, {})['request']['url'] if send else None}))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "SECRET_KEY": "test-" + "x" * 60,
        "SENTRY_DSN": dsn,
    }
    done = subprocess.run(
        [sys.executable, "-c", script, SECRET],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    if dsn:
        assert seen == {"active": True, "pii": False, "url": "https://h/invitasjon/…/"}
    else:
        assert seen["active"] is False
