"""Error pages with DEBUG off: Norwegian, in the site's layout, with a way back; a 404 for
an object outside one's reach is the same page as for one that does not exist."""

import re

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path, reverse

from config.urls import urlpatterns as site_urls
from tests.conftest import api_client_for, client_for


def boom(request):
    raise RuntimeError("a bug")


def refuse(request):
    raise PermissionDenied


def refuse_saying_why(request):
    raise PermissionDenied("Avtalen har parter utenfor ansvarsområdet (Oslo).")


def bad(request):
    raise BadRequest


urlpatterns = [
    path("test-500/", boom),
    path("test-403/", refuse),
    path("test-403-why/", refuse_saying_why),
    path("test-400/", bad),
    *site_urls,
]

LAYOUT = ['class="topbar"', "css/app.css", "<footer>", "E-helseinnføring"]
WAY_BACK = ["Gå til startsiden", 'href="/"', "data-history-back"]


def assert_error_page(response, status, *texts):
    assert response.status_code == status
    body = response.content.decode()
    assert '<html lang="nb">' in body
    for text in [*LAYOUT, *WAY_BACK, f"Feil {status}", *texts]:
        assert text in body, text
    return body


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


@pytest.mark.urls(__name__)
def test_500(anonymous, contact):
    assert_error_page(anonymous.get("/test-500/"), 500, "Noe gikk galt hos oss")
    logged_in = client_for(contact)
    logged_in.raise_request_exception = False
    body = assert_error_page(logged_in.get("/test-500/"), 500)
    assert "a bug" not in body


def test_500_renders_without_a_request_or_the_database():
    # No `db` fixture: any query would fail this test. Django renders 500.html without
    # a request or context processors.
    body = render_to_string("500.html")
    assert "Noe gikk galt hos oss" in body and "Gå til startsiden" in body


@pytest.mark.urls(__name__)
def test_403_and_400(contact):
    client = client_for(contact)
    assert_error_page(client.get("/test-403/"), 403, "Du har ikke tilgang til dette")
    assert_error_page(client.get("/test-400/"), 400, "Forespørselen kunne ikke behandles")


@pytest.mark.urls(__name__)
def test_a_403_with_a_reason_gives_that_reason_alone(contact):
    """A refusal about scope says so, without the general text about one's role (which
    told the person to ask an administrator, who cannot change an agreement's parties)."""
    client = client_for(contact)
    general = "Rollen din gir ikke tilgang"
    assert general in assert_error_page(client.get("/test-403/"), 403)
    body = assert_error_page(client.get("/test-403-why/"), 403, "utenfor ansvarsområdet (Oslo)")
    assert general not in body


def test_403_from_a_page_the_role_may_not_use(make_user):
    # The directorate does not import organisations.
    client = client_for(make_user("directorate"))
    response = client.get(reverse("actors:organisation_import"))
    assert_error_page(response, 403)


def test_csrf_failure(contact):
    client = Client(enforce_csrf_checks=True)
    client.force_login(contact)
    response = client.post(reverse("logout"))
    assert_error_page(response, 403, "Skjemaet kunne ikke sendes")


def test_404_looks_the_same_outside_ones_reach_and_for_nothing(contact, org_tromso):
    client = client_for(contact)
    url = reverse("actors:organisation_detail", args=[org_tromso.pk])
    outside = client.get(url)
    missing = client.get(reverse("actors:organisation_detail", args=[org_tromso.pk + 1000]))
    body = assert_error_page(outside, 404, "Vi fant ikke denne siden")
    assert url not in body and org_tromso.name not in body

    def without_csrf_token(response):  # the log-out form's token is masked anew each time
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert missing.status_code == 404
    assert without_csrf_token(outside) == without_csrf_token(missing)

    api = api_client_for(contact)
    outside = api.get(reverse("organisation-detail", args=[org_tromso.pk]))
    missing = api.get(reverse("organisation-detail", args=[org_tromso.pk + 1000]))
    assert outside.status_code == missing.status_code == 404
    assert outside.content == missing.content


def test_404_for_a_visitor(db):
    body = assert_error_page(Client().get("/finnes-ikke/"), 404, "logg inn")
    assert "ansvarsområdet ditt" not in body  # a visitor has none
