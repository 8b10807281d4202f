"""POST /api/v1/statuses/bulk/ with `allowed_only` (issue 18): a dry run previews each
change and each refusal with its reason; without `dry_run` the allowed changes are saved
and the refused ones left as they are. Without `allowed_only` it stays all or nothing."""

import pytest
from django.urls import reverse

from rollout import services
from rollout.choices import Source, Status
from rollout.models import Solution, StatusChange
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def bulk(client, organisations, **extra):
    return client.post(
        reverse("rolloutstatus-bulk"),
        {
            "solution": "kjernejournal",
            "organisations": [o.orgnr for o in organisations],
            "status": Status.PLANNING,
            **extra,
        },
        format="json",
    )


def test_allowed_only_previews_then_saves_the_allowed(contact):
    orgs = OrganisationFactory.create_batch(3, municipality__number="4601")
    services.status_change(
        user=contact,
        organisation=orgs[2],
        solution=Solution.objects.get(code="kjernejournal"),
        to_status=Status.IN_USE,
    )
    history = StatusChange.objects.count()
    client = api_client_for(contact)

    preview = bulk(client, orgs, allowed_only=True, dry_run=True)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["changed"], body["unchanged"], body["dry_run"]) == (2, 0, True)
    assert sorted(c["orgnr"] for c in body["changes"]) == sorted(o.orgnr for o in orgs[:2])
    assert {c["from_status"] for c in body["changes"]} == {Status.NOT_STARTED}
    [refused] = body["refused"]
    assert (refused["orgnr"], refused["from_status"], refused["reason_code"]) == (
        orgs[2].orgnr,
        Status.IN_USE,
        "transition",
    )
    assert refused["message"]
    assert StatusChange.objects.count() == history

    done = bulk(client, orgs, allowed_only=True)
    assert done.status_code == 200 and done.json()["dry_run"] is False
    assert [r["orgnr"] for r in done.json()["refused"]] == [orgs[2].orgnr]
    saved = StatusChange.objects.filter(to_status=Status.PLANNING)
    assert saved.count() == 2 and {c.source for c in saved} == {Source.API}

    # Without allowed_only: all or nothing, as before.
    assert bulk(client, [orgs[2]]).status_code == 400


def test_allowed_only_still_refuses_organisations_outside_the_scope(
    contact, org_bergen, org_tromso
):
    response = bulk(api_client_for(contact), [org_bergen, org_tromso], allowed_only=True)
    assert response.status_code == 400
    assert response.json()["unknown"] == [org_tromso.orgnr]
    assert not StatusChange.objects.exists()


def test_the_schema_documents_allowed_only():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["components"]["schemas"]["StatusBulkRequest"]["properties"]
    assert "allowed_only" in request and "dry_run" in request
    result = schema["components"]["schemas"]["StatusBulkResult"]["properties"]
    assert {"changes", "refused"} <= set(result)
