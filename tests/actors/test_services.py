import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from actors import services
from actors.concurrency import VersionConflict
from actors.models import HealthTrust, Municipality, Organisation, OrganisationType
from tests.factories import valid_orgnr

pytestmark = pytest.mark.django_db


def _fields(number, **extra):
    return {
        "name": "Ny virksomhet",
        "type": OrganisationType.objects.get(code="sykehjem"),
        "orgnr": valid_orgnr(5000),
        "municipality": Municipality.objects.get(number=number),
        **extra,
    }


def test_health_trust_is_derived_from_a_single_area_municipality(contact):
    organisation = services.organisation_create(user=contact, **_fields("4601"))
    assert organisation.health_trust.code == "helse-bergen"
    assert organisation.search_text.startswith("ny virksomhet")


def test_oslo_needs_an_explicit_area(make_user):
    coordinator = make_user("coord_nat")
    with pytest.raises(ValidationError) as exc:
        services.organisation_create(user=coordinator, **_fields("0301"))
    assert "mer enn ett helseforetaksområde" in str(exc.value.message_dict["health_trust"])
    organisation = services.organisation_create(
        user=coordinator,
        **_fields(
            "0301", health_trust=HealthTrust.objects.get(code="akershus-universitetssykehus")
        ),
    )
    assert organisation.health_trust.code == "akershus-universitetssykehus"


def test_area_must_cover_the_municipality(make_user):
    with pytest.raises(ValidationError, match="ikke i opptaksområdet"):
        services.organisation_create(
            user=make_user("coord_nat"),
            **_fields("4601", health_trust=HealthTrust.objects.get(code="unn")),
        )


def test_orgnr_is_compacted_and_checked(contact):
    organisation = services.organisation_create(
        user=contact, **_fields("4601", orgnr="974 760 673")
    )
    assert organisation.orgnr == "974760673"
    with pytest.raises(ValidationError, match="kontrollsiffer"):
        services.organisation_create(user=contact, **_fields("4601", orgnr="974760674"))


def test_contact_cannot_create_in_another_municipality(contact):
    with pytest.raises(ValidationError, match="ansvar for"):
        services.organisation_create(user=contact, **_fields("5501"))
    assert not Organisation.objects.filter(orgnr=valid_orgnr(5000)).exists()


def test_directorate_cannot_create(directorate):
    with pytest.raises(PermissionDenied):
        services.organisation_create(user=directorate, **_fields("4601"))


def test_update_bumps_version_and_refuses_a_stale_one(contact, org_bergen):
    updated = services.organisation_update(
        user=contact, organisation_id=org_bergen.pk, expected_version=1, name="Nytt navn"
    )
    assert updated.version == 2
    with pytest.raises(VersionConflict) as exc:
        services.organisation_update(
            user=contact, organisation_id=org_bergen.pk, expected_version=1, name="Eldre"
        )
    assert exc.value.current.name == "Nytt navn"
    assert Organisation.objects.get(pk=org_bergen.pk).name == "Nytt navn"


def test_moving_out_of_reach_is_refused_and_rolled_back(contact, org_bergen):
    with pytest.raises(ValidationError) as refused:
        services.organisation_update(
            user=contact,
            organisation_id=org_bergen.pk,
            expected_version=org_bergen.version,
            municipality=Municipality.objects.get(number="5501"),
        )
    assert refused.value.error_dict["municipality"][0].code == "move_refused"
    org_bergen.refresh_from_db()
    assert (org_bergen.municipality.number, org_bergen.version) == ("4601", 1)


def test_moving_rederives_the_area(make_user, org_bergen):
    updated = services.organisation_update(
        user=make_user("coord_nat"),
        organisation_id=org_bergen.pk,
        expected_version=1,
        municipality=Municipality.objects.get(number="5501"),
    )
    assert updated.health_trust.code == "unn"


def test_out_of_scope_update_is_not_found(contact, org_tromso):
    with pytest.raises(Organisation.DoesNotExist):
        services.organisation_update(
            user=contact, organisation_id=org_tromso.pk, expected_version=1, name="X"
        )


def test_factory_orgnrs_are_valid():
    from stdnum.no import orgnr

    assert all(orgnr.is_valid(valid_orgnr(n)) for n in range(200))


def test_a_registry_change_tells_the_layers_above_by_signal(
    contact, django_capture_on_commit_callbacks
):
    """actors imports nothing above it: benefits subscribes to the signal in its ready()
    and queues the recomputation (one job, written with the change)."""
    from actors.models import Job
    from actors.signals import coverage_inputs_changed
    from benefits.services import recompute_after_change

    heard = []

    def listener(sender, since, **kwargs):
        heard.append(since)

    sync_receivers, _async = coverage_inputs_changed._live_receivers(None)
    assert recompute_after_change in sync_receivers
    coverage_inputs_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks():
            services.organisation_create(user=contact, **_fields("4601"))
    finally:
        coverage_inputs_changed.disconnect(listener)
    assert heard == [None]  # today
    assert (
        Job.objects.filter(kind=Job.Kind.COVERAGE_RECOMPUTE, params__trigger="change").count() == 1
    )
