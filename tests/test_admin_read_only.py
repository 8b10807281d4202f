"""The Django admin cannot write the records that change only through the services (which
check the user's scope and keep the history): not even a superuser adds, changes or
deletes an organisation, a status, an agreement or a report there."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from actors.models import AccessChange, Job, Organisation, OrganisationChange
from benefits.models import AgreementChange, BenefitReport, IntentAgreement
from rollout.models import AreaRollout, ReadinessReport, RolloutStatus, StatusChange
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

THROUGH_THE_SERVICES_ONLY = [
    Organisation,
    OrganisationChange,
    RolloutStatus,
    StatusChange,
    AreaRollout,
    ReadinessReport,
    IntentAgreement,
    AgreementChange,
    BenefitReport,
    AccessChange,
    Job,
]


@pytest.mark.parametrize("model", THROUGH_THE_SERVICES_ONLY, ids=lambda m: m.__name__)
def test_the_admin_may_look_but_not_write(model, make_user):
    request = RequestFactory().get("/admin/")
    request.user = make_user("admin")
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_superuser_cannot_add_change_or_delete_an_organisation_in_the_admin(
    make_user, org_bergen
):
    client = client_for(make_user("admin"))
    before = Organisation.objects.values().get(pk=org_bergen.pk)
    info = "admin:actors_organisation"
    assert client.get(reverse(f"{info}_change", args=[org_bergen.pk])).status_code == 200
    attempts = [
        (reverse(f"{info}_add"), {"name": "Ny", "orgnr": "974760673"}),
        (reverse(f"{info}_change", args=[org_bergen.pk]), {"name": "Overtatt", "is_synthetic": ""}),
        (reverse(f"{info}_delete", args=[org_bergen.pk]), {"post": "yes"}),
    ]
    for url, data in attempts:
        assert client.post(url, data).status_code == 403, url
    assert Organisation.objects.values().get(pk=org_bergen.pk) == before
    assert Organisation.objects.count() == 1
    assert not OrganisationChange.objects.filter(organisation=org_bergen, kind="change").exists()
