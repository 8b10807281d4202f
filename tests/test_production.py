"""The production stack's own pieces: static files collected the way production collects them."""

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_the_production_storage_is_the_one_tested():
    # settings_production refuses to import without SECRET_KEY, so read its source instead.
    source = (django_settings.BASE_DIR / "config" / "settings_production.py").read_text()
    assert PRODUCTION_STATIC_STORAGE in source


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
