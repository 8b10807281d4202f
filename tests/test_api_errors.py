"""Answers the OpenAPI fuzzer once got as server errors or off-schema bodies: each is now
a 4xx that says what to fix, and the schema says what the answers really hold."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import api_client_for


@pytest.fixture
def api(make_user):
    return api_client_for(make_user("coord_nat"))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organisations/?type_id=3.4e38",
        "/api/v1/organisations/?county_id=-3.6e120",
        "/api/v1/organisations/?municipality_id=99999999999999999999999",
        "/api/v1/health-trusts/?regional_health_authority_id=1e400",
        "/api/v1/readiness-reports/?municipality_id=-1.7976931348623157e%2B308",
        "/api/v1/coverage-snapshots/?target_id=-1.9778741791757143e%2B125",
        "/api/v1/cut-list/what-if/?item=52390379066536765685760",
        "/api/v1/cut-list/what-if/?item=abc",
    ],
)
def test_numbers_out_of_range_are_refused_with_a_message(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content
    (messages,) = response.json().values()
    assert messages and all(isinstance(m, str) for m in messages)


def test_an_id_filter_in_range_still_filters(api, org_bergen, org_tromso):
    response = api.get(f"/api/v1/organisations/?municipality_id={org_bergen.municipality_id}")
    assert response.status_code == 200
    assert [o["orgnr"] for o in response.json()["results"]] == [org_bergen.orgnr]


@pytest.mark.parametrize("job_id", ["abc", "null,null", "1.5"])
def test_a_job_id_that_is_not_a_number_is_not_found(api, job_id):
    assert api.get(f"/api/v1/jobs/{job_id}/download/").status_code == 404


def test_who_fields_are_nullable_in_the_schema():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for name, field in [
        ("DecisionPoint", "decided_by"),
        ("Decision", "decided_by"),
        ("ChangeLogEntry", "recorded_by"),
        ("Job", "created_by"),
        ("StatusChange", "changed_by"),
        ("OrganisationChange", "changed_by"),
        ("BenefitReport", "organisation"),
    ]:
        assert components[name]["properties"][field].get("nullable") is True, (name, field)


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_text_with_the_nul_character_is_refused_before_the_database(make_user, fmt):
    api = api_client_for(make_user("coord_nat"))
    response = api.post(
        "/api/v1/cut-list/",
        {"title": "Kutt", "justification": "x", "solution": "pll\x00", "health_trust": None}
        if fmt == "json"
        else {"title": "Kutt\x00", "justification": "x", "solution": "pll"},
        format=fmt,
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_an_empty_contact_email_matches_the_published_schema():
    import jsonschema

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    field = components["IntentAgreement"]["properties"]["contact_email"]
    checker = jsonschema.FormatChecker()
    jsonschema.validate("", field, format_checker=checker)
    jsonschema.validate("kontakt@bergen.kommune.no", field, format_checker=checker)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("ikke en adresse", field, format_checker=checker)


@pytest.mark.parametrize(
    "path", ["/api/v1/agreements/1.6563084197145168e-164/", "/api/v1/finnes-ikke/", "/api/v2/"]
)
def test_an_api_path_that_matches_nothing_answers_the_apis_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    # The same answer as for a record that does not exist.
    assert response.json() == api.get("/api/v1/agreements/999999/").json()


def test_a_page_that_matches_nothing_is_still_the_sites_page(client):
    response = client.get("/finnes-ikke/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_every_operation_declares_the_error_answers_with_their_shape():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = {"400", "401", "403", "404"}
            if method in {"post", "put", "patch", "delete"}:
                codes |= {"412", "428"}
            for code in codes:
                answer = operation["responses"][code]
                assert answer["content"]["application/json"]["schema"], (method, path, code)
    assert schema["components"]["schemas"]["VersionConflict"]["properties"]["current_version"]
