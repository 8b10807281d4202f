"""One rule for registry writes (scoping.check_organisation_write) and the append-only
registry history (OrganisationChange): services, API, pages."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from actors import scoping, services
from actors.choices import Role, Source
from actors.models import HealthTrust, Municipality, Organisation, OrganisationChange
from actors.scoping import SYSTEM_USER
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory, UserFactory, valid_orgnr

pytestmark = pytest.mark.django_db
Kind = OrganisationChange.Kind


def municipality(number):
    return Municipality.objects.get(number=number)


def coordinator_for(*codes, username="coord"):
    return UserFactory(username=username, role=Role.COORDINATOR, health_trusts=list(codes))


def move(user, organisation, number, **extra):
    return services.organisation_update(
        user=user,
        organisation_id=organisation.pk,
        expected_version=organisation.version,
        municipality=municipality(number),
        **extra,
    )


def refusal_code(exc_info, field="municipality"):
    return exc_info.value.error_dict[field][0].code


# --- moves (flytt) --------------------------------------------------------------------


def test_a_municipality_contact_never_moves_even_between_their_own_municipalities(make_user):
    contact = make_user("contact", municipalities=["4601", "4624"])  # both Helse Bergen
    organisation = OrganisationFactory(municipality__number="4601")
    with pytest.raises(ValidationError) as refused:
        move(contact, organisation, "4624")
    assert refusal_code(refused) == "move_refused"
    assert "Municipality contacts" in str(refused.value) or "Kommunekontakter" in str(refused.value)
    organisation.refresh_from_db()
    assert (organisation.municipality.number, organisation.version) == ("4601", 1)
    assert not OrganisationChange.objects.exists()


def test_a_coordinator_covering_both_sides_moves_and_the_move_is_recorded():
    coordinator = coordinator_for("helse-bergen", "helse-stavanger")
    organisation = OrganisationFactory(municipality__number="4601")
    moved = move(coordinator, organisation, "1103", reason="Flyttet kontor")
    assert moved.health_trust.code == "helse-stavanger"
    rows = {c.field: c for c in OrganisationChange.objects.filter(organisation=organisation)}
    assert set(rows) == {"municipality", "health_trust"}
    assert {c.kind for c in rows.values()} == {Kind.MOVE}
    assert (rows["municipality"].old_value, rows["municipality"].new_value) == (
        "4601 Bergen",
        "1103 Stavanger",
    )
    assert rows["health_trust"].new_value == "Helse Stavanger HF"
    assert rows["municipality"].changed_by == coordinator
    assert rows["municipality"].reason == "Flyttet kontor"
    assert rows["municipality"].source == Source.UI


def test_a_coordinator_covering_only_one_side_cannot_move_either_way():
    bergen_only = coordinator_for("helse-bergen")
    organisation = OrganisationFactory(municipality__number="4601")
    with pytest.raises(ValidationError) as refused:
        move(bergen_only, organisation, "1103")
    assert refusal_code(refused) == "move_refused"
    stavanger_only = coordinator_for("helse-stavanger", username="coord2")
    with pytest.raises(Organisation.DoesNotExist):  # not theirs before the move
        move(stavanger_only, organisation, "1103")
    organisation.refresh_from_db()
    assert organisation.municipality.number == "4601"
    assert not OrganisationChange.objects.exists()


def test_changing_the_area_within_oslo_is_a_move(make_user):
    coordinator = coordinator_for("oslo-universitetssykehus")
    organisation = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
    )
    with pytest.raises(ValidationError) as refused:
        services.organisation_update(
            user=coordinator,
            organisation_id=organisation.pk,
            expected_version=1,
            health_trust=HealthTrust.objects.get(code="akershus-universitetssykehus"),
        )
    assert refusal_code(refused) == "move_refused"
    services.organisation_update(
        user=make_user("coord_nat"),
        organisation_id=organisation.pk,
        expected_version=1,
        health_trust=HealthTrust.objects.get(code="akershus-universitetssykehus"),
    )
    change = OrganisationChange.objects.get(organisation=organisation)
    assert (change.kind, change.field) == (Kind.MOVE, "health_trust")


def test_the_rule_is_the_same_for_the_import_and_the_services():
    # The import and the services call the one function; here it is on its own.
    scope = scoping.scope_for(coordinator_for("helse-bergen"))
    bergen = OrganisationFactory(municipality__number="4601")
    oslo = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
    )
    with pytest.raises(ValidationError) as refused:
        scoping.check_organisation_write(scope, scoping.Place.of(oslo), bergen)
    assert refusal_code(refused, "orgnr") == "not_in_reach"
    assert refused.value.error_dict["orgnr"][0].message == scoping.not_in_reach_message(oslo.orgnr)
    scoping.check_organisation_write(scope, scoping.Place.of(bergen), bergen)
    scoping.check_organisation_write(scope, None, bergen)
    with pytest.raises(ValidationError) as refused:
        scoping.check_organisation_write(scope, None, oslo)
    assert refusal_code(refused) == "outside_reach"


# --- no existence oracle on creation ----------------------------------------------------


def test_creating_with_an_orgnr_taken_outside_reach_answers_not_in_your_area(coordinator):
    oslo = OrganisationFactory(
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
    )
    response = api_client_for(coordinator).post(
        reverse("organisation-list"),
        {"name": "Overtatt", "type": "sykehjem", "orgnr": oslo.orgnr, "municipality": "4601"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"orgnr": [scoping.not_in_reach_message(oslo.orgnr)]}
    form = client_for(coordinator).post(
        reverse("actors:organisation_create"),
        {
            "name": "Overtatt",
            "type": oslo.type_id,
            "orgnr": oslo.orgnr,
            "municipality": municipality("4601").pk,
        },
    )
    assert form.status_code == 200
    assert form.context["form"].errors["orgnr"] == [scoping.not_in_reach_message(oslo.orgnr)]
    oslo.refresh_from_db()
    assert (oslo.name, oslo.municipality.number) != ("Overtatt", "4601")
    assert not OrganisationChange.objects.exists()


def test_an_orgnr_taken_inside_reach_still_says_it_exists(contact, org_bergen):
    with pytest.raises(ValidationError) as refused:
        services.organisation_create(
            user=contact,
            name="Dobbel",
            type=org_bergen.type,
            orgnr=org_bergen.orgnr,
            municipality=municipality("4601"),
        )
    assert refusal_code(refused, "orgnr") == "unique"


# --- history through the services ---------------------------------------------------------


def test_create_change_deactivate_and_reactivate_are_recorded(contact):
    organisation = services.organisation_create(
        user=contact,
        name="Fjellsiden legesenter",
        type=OrganisationFactory.build().type,
        orgnr=valid_orgnr(5001),
        municipality=municipality("4601"),
        reason="Ny virksomhet",
    )
    created = OrganisationChange.objects.get(organisation=organisation)
    assert (created.kind, created.field, created.changed_by, created.source) == (
        Kind.CREATE,
        "",
        contact,
        Source.UI,
    )
    assert "Fjellsiden legesenter" in created.new_value and created.reason == "Ny virksomhet"

    def update(**changes):
        nonlocal organisation
        organisation = services.organisation_update(
            user=contact,
            organisation_id=organisation.pk,
            expected_version=organisation.version,
            **changes,
        )

    update(name="Fjellsiden legekontor", her_id=4711)
    update(is_active=False, reason="Lagt ned")
    update(is_active=True)
    rows = list(
        OrganisationChange.objects.filter(organisation=organisation)
        .order_by("id")
        .values_list("kind", "field", "old_value", "new_value", "reason")
    )
    assert rows[1:] == [
        (Kind.CHANGE, "name", "Fjellsiden legesenter", "Fjellsiden legekontor", ""),
        (Kind.CHANGE, "her_id", "", "4711", ""),
        (Kind.DEACTIVATE, "is_active", "true", "false", "Lagt ned"),
        (Kind.REACTIVATE, "is_active", "false", "true", ""),
    ]


def test_an_update_that_changes_nothing_records_nothing(contact, org_bergen):
    services.organisation_update(
        user=contact, organisation_id=org_bergen.pk, expected_version=1, name=org_bergen.name
    )
    assert not OrganisationChange.objects.exists()


def test_a_refused_change_leaves_no_history(contact, org_bergen):
    with pytest.raises(ValidationError):
        move(contact, org_bergen, "5501")
    assert not OrganisationChange.objects.exists()


def test_system_changes_have_no_person(org_bergen):
    services.organisation_update(
        user=SYSTEM_USER,
        organisation_id=org_bergen.pk,
        expected_version=1,
        source=Source.SYSTEM,
        name="Omdøpt",
    )
    change = OrganisationChange.objects.get()
    assert (change.changed_by, change.source) == (None, Source.SYSTEM)


# --- append-only in the database ----------------------------------------------------------


def _assert_append_only():
    organisation = OrganisationFactory()
    services.organisation_update(
        user=SYSTEM_USER, organisation_id=organisation.pk, expected_version=1, name="Nytt"
    )
    row = OrganisationChange.objects.get()
    table = OrganisationChange._meta.db_table
    for sql in (
        f"UPDATE {table} SET new_value = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        OrganisationChange.objects.filter(pk=row.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        OrganisationChange.objects.filter(pk=row.pk).delete()
    assert OrganisationChange.objects.get(pk=row.pk).new_value == "Nytt"


def test_registry_history_refuses_update_and_delete_in_the_database():
    _assert_append_only()


@pytest.mark.postgres
def test_registry_history_refuses_update_and_delete_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'actors_organisationchange_append_only'"
        )
        assert cursor.fetchone()[0] == 1
    _assert_append_only()


# --- API ----------------------------------------------------------------------------------


def test_api_writes_are_recorded_with_their_source_and_reason(contact, org_bergen):
    client = api_client_for(contact)
    url = reverse("organisation-detail", args=[org_bergen.pk])
    response = client.patch(
        url,
        {"name": "Nytt navn", "reason": "Navneendring i Enhetsregisteret"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.content
    assert "reason" not in response.json()
    change = OrganisationChange.objects.get()
    assert (change.source, change.field, change.reason, change.changed_by) == (
        Source.API,
        "name",
        "Navneendring i Enhetsregisteret",
        contact,
    )
    response = client.post(
        reverse("organisation-list"),
        {
            "name": "Ny",
            "type": "fastlegekontor",
            "orgnr": valid_orgnr(5002),
            "municipality": "4601",
        },
        format="json",
    )
    assert response.status_code == 201
    created = OrganisationChange.objects.get(organisation_id=response.json()["id"])
    assert (created.kind, created.source) == (Kind.CREATE, Source.API)


def test_api_history_of_one_organisation_is_scoped(contact, org_bergen, org_tromso):
    for organisation in (org_bergen, org_tromso):
        for version, name in ((1, "A"), (2, "B")):
            services.organisation_update(
                user=SYSTEM_USER,
                organisation_id=organisation.pk,
                expected_version=version,
                source=Source.SYSTEM,
                name=name,
            )
    client = api_client_for(contact)
    response = client.get(reverse("organisation-history", args=[org_bergen.pk]))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["old_value"], r["new_value"]) for r in results] == [
        ("A", "B"),
        ("Bergen legesenter", "A"),
    ]  # newest first
    assert results[0]["changed_by"] is None and results[0]["source"] == "system"
    assert results[0]["kind"] == "change" and results[0]["field"] == "name"
    response = client.get(reverse("organisation-history", args=[org_tromso.pk]))
    assert response.status_code == 404


def test_api_change_feed_lists_only_visible_organisations_and_filters(
    contact, org_bergen, org_tromso
):
    services.organisation_update(
        user=SYSTEM_USER, organisation_id=org_bergen.pk, expected_version=1, name="A"
    )
    services.organisation_update(
        user=SYSTEM_USER, organisation_id=org_bergen.pk, expected_version=2, is_active=False
    )
    services.organisation_update(
        user=SYSTEM_USER, organisation_id=org_tromso.pk, expected_version=1, name="T"
    )
    client = api_client_for(contact)
    url = reverse("organisationchange-list")

    def ids(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return [(r["orgnr"], r["kind"]) for r in response.json()["results"]]

    assert ids() == [(org_bergen.orgnr, "deactivate"), (org_bergen.orgnr, "change")]
    assert ids(kind="deactivate") == [(org_bergen.orgnr, "deactivate")]
    assert ids(field="name") == [(org_bergen.orgnr, "change")]
    assert ids(organisation=org_bergen.orgnr, source="ui") == ids()
    assert ids(organisation_id=org_tromso.pk) == []
    assert ids(source="api") == []
    assert ids(changed_before="2000-01-01T00:00:00Z") == []
    assert len(ids(changed_after="2000-01-01T00:00:00Z")) == 2
    assert client.get(url, {"kind": "nonsense"}).status_code == 400
    national = api_client_for(UserFactory(username="n", role=Role.DIRECTORATE))
    assert len(national.get(url).json()["results"]) == 3

    def orgnrs(**params):
        response = national.get(url, params)
        assert response.status_code == 200, response.content
        return [r["orgnr"] for r in response.json()["results"]]

    # By the organisations now in a place: today's number, an earlier one, a health trust.
    assert orgnrs(municipality="4601") == [org_bergen.orgnr] * 2
    assert orgnrs(municipality="5401") == [org_tromso.orgnr]  # Tromsø's number 2020-2023
    assert orgnrs(health_trust=org_tromso.health_trust.code) == [org_tromso.orgnr]
    assert orgnrs(municipality="4601", kind="change") == [org_bergen.orgnr]
    assert orgnrs(health_trust="no-such-trust") == []
    refused = national.get(url, {"municipality": "9999"})
    assert refused.status_code == 400 and "9999" in refused.content.decode()
    assert ids(municipality="5501") == []  # outside the contact's reach


# --- pages --------------------------------------------------------------------------------


def test_organisation_page_shows_its_history_newest_first(contact, org_bergen):
    client = client_for(contact)
    response = client.post(
        reverse("actors:organisation_edit", args=[org_bergen.pk]),
        {
            "name": "Bergen legekontor",
            "type": org_bergen.type_id,
            "orgnr": org_bergen.orgnr,
            "municipality": org_bergen.municipality_id,
            "health_trust": org_bergen.health_trust_id,
            "is_active": "on",
            "version": 1,
            "reason": "Nytt navn fra 1. mars",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    change = OrganisationChange.objects.get()
    assert (change.source, change.changed_by, change.reason) == (
        Source.UI,
        contact,
        "Nytt navn fra 1. mars",
    )
    page = client.get(reverse("actors:organisation_detail", args=[org_bergen.pk]))
    history = page.content.decode().split('id="registry-history"')[1]
    assert "Bergen legesenter" in history and "Bergen legekontor" in history
    assert "Nytt navn fra 1. mars" in history and str(contact) in history
    assert list(page.context["registry_page"]) == [change]


def test_organisation_page_pages_a_long_history(contact, org_bergen):
    for n in range(25):
        services.organisation_update(
            user=SYSTEM_USER, organisation_id=org_bergen.pk, expected_version=n + 1, name=f"N{n}"
        )
    client = client_for(contact)
    page = client.get(reverse("actors:organisation_detail", args=[org_bergen.pk]))
    shown = list(page.context["registry_page"])
    assert len(shown) == 20 and shown[0].new_value == "N24"
    older = client.get(
        reverse("actors:organisation_detail", args=[org_bergen.pk]), {"registry_page": 2}
    )
    assert [c.new_value for c in older.context["registry_page"]][-1] == "N0"
