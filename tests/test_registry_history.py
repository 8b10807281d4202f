"""The registry that remembers (issue 15): every write of an organisation's type, place or
active flag records a version (actors.registry), the registry answers its state on any
day, as-of reads select organisations by the place of that day, and the migration fills
the history of a database from before."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from actors import registry, services
from actors.models import (
    HealthTrust,
    Municipality,
    Organisation,
    OrganisationChange,
    OrganisationType,
    OrganisationVersion,
)
from actors.scoping import SYSTEM_USER
from tests.factories import OrganisationFactory, valid_orgnr

pytestmark = pytest.mark.django_db

D = datetime.date


def municipality(number: str) -> Municipality:
    return Municipality.objects.get(number=number)


def versions(organisation) -> list[tuple]:
    return list(
        OrganisationVersion.objects.filter(organisation=organisation).values_list(
            "valid_from", "municipality__number", "type__code", "is_active"
        )
    )


def test_every_service_write_of_a_tracked_value_records_a_version(users):
    admin = users["admin"]
    today = timezone.localdate()
    organisation = services.organisation_create(
        user=admin,
        name="Bergen sykehjem",
        type=OrganisationType.objects.get(code="sykehjem"),
        orgnr=valid_orgnr(7001),
        municipality=municipality("4601"),
    )
    assert versions(organisation) == [(today, "4601", "sykehjem", True)]
    # A new name is no registry version: only type, place and the active flag are.
    organisation = services.organisation_update(
        user=admin, organisation_id=organisation.pk, expected_version=1, name="Nytt navn"
    )
    assert len(versions(organisation)) == 1
    organisation = services.organisation_update(
        user=admin,
        organisation_id=organisation.pk,
        expected_version=2,
        municipality=municipality("5501"),
    )
    organisation = services.organisation_update(
        user=admin, organisation_id=organisation.pk, expected_version=3, is_active=False
    )
    assert versions(organisation) == [
        (today, "4601", "sykehjem", True),
        (today, "5501", "sykehjem", True),
        (today, "5501", "sykehjem", False),
    ]
    assert OrganisationVersion.objects.get(
        organisation=organisation, is_active=False
    ).health_trust == HealthTrust.objects.get(code="unn")


def test_an_import_records_versions_for_new_and_changed_rows():
    existing = OrganisationFactory(municipality=municipality("4601"))
    write = services.OrganisationWrite.start(existing)
    existing.municipality = municipality("5501")
    existing.health_trust = HealthTrust.objects.get(code="unn")
    new = Organisation(
        name="Ny",
        orgnr=valid_orgnr(7002),
        type=OrganisationType.objects.get(code="apotek"),
        municipality=municipality("0301"),
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
    )
    services.organisations_write_import(user=SYSTEM_USER, new=[new], changed=[write])
    assert [v[1] for v in versions(existing)] == ["5501"]
    assert [v[1] for v in versions(new)] == ["0301"]


@pytest.fixture
def moved():
    """A GP office in Bergen from 1.1.2023, moved to Tromsø on 1.6.2024 and closed on
    1.3.2025 (versions written as the services would have written them then)."""
    organisation = OrganisationFactory(municipality=municipality("4601"))
    registry.record_versions([organisation], valid_from=D(2023, 1, 1))
    organisation.municipality = municipality("5501")
    organisation.health_trust = HealthTrust.objects.get(code="unn")
    organisation.save()
    registry.record_versions([organisation], valid_from=D(2024, 6, 1))
    organisation.is_active = False
    organisation.save()
    registry.record_versions([organisation], valid_from=D(2025, 3, 1))
    return organisation


def test_the_state_on_a_day(moved):
    bergen, tromso = municipality("4601").pk, municipality("5501").pk
    unversioned = OrganisationFactory(municipality=municipality("1580"))
    # Before its first version an organisation stood as in its first version.
    assert registry.states_on(D(2020, 5, 1))[moved.pk].municipality_id == bergen
    assert registry.states_on(D(2024, 5, 31), [moved.pk])[moved.pk] == registry.State(
        moved.type_id, bergen, HealthTrust.objects.get(code="helse-bergen").pk, True
    )
    on_day = registry.states_on(D(2024, 6, 1), [moved.pk, unversioned.pk])
    assert (on_day[moved.pk].municipality_id, on_day[moved.pk].is_active) == (tromso, True)
    # Without a version (written before the registry kept history): today's values.
    assert on_day[unversioned.pk] == registry.State.of(unversioned)
    assert registry.states_on(D(2026, 1, 1))[moved.pk].is_active is False


def test_changed_after_leaves_out_the_first_version(moved):
    OrganisationFactory()  # no versions: never changed
    fresh = OrganisationFactory()
    registry.record_versions([fresh], valid_from=D(2025, 1, 1))  # only its first version
    assert registry.changed_after(D(2022, 1, 1)) == {moved.pk}
    assert registry.changed_after(D(2024, 12, 31)) == {moved.pk}
    assert registry.changed_after(D(2025, 3, 1)) == set()


def test_organisations_on_a_day_are_selected_by_the_place_of_that_day(moved):
    bergen, tromso = municipality("4601").pk, municipality("5501").pk
    stayed = OrganisationFactory(municipality=municipality("4601"))

    def ids(day, **lookups):
        return set(registry.organisations_on(day, **lookups).values_list("pk", flat=True))

    assert ids(D(2024, 1, 1), municipality_ids=[bergen]) == {moved.pk, stayed.pk}
    assert ids(D(2024, 1, 1), municipality_ids=[tromso]) == set()
    assert ids(D(2024, 7, 1), municipality_ids=[tromso], active=True) == {moved.pk}
    assert ids(D(2025, 7, 1), municipality_ids=[tromso], active=True) == set()
    assert ids(None, municipality_ids=[bergen]) == {stayed.pk}
    # Within a given set (e.g. those a user sees), with the type of the day.
    visible = Organisation.objects.filter(pk=moved.pk)
    assert set(registry.organisations_on(D(2024, 1, 1), visible, type_ids=[moved.type_id])) == {
        moved
    }


def test_the_migration_fills_the_history_from_the_registry_changes():
    """0013's data step on a database from before: the current values from the day each
    organisation was created, earlier ones read back from OrganisationChange's texts."""
    migration = importlib.import_module("actors.migrations.0013_organisation_version")
    nursing, home = (OrganisationType.objects.get(code=c) for c in ("sykehjem", "hjemmetjeneste"))
    organisation = OrganisationFactory(municipality=municipality("5501"), type=home)
    untouched = OrganisationFactory(municipality=municipality("1580"))
    Organisation.objects.filter(pk__in=[organisation.pk, untouched.pk]).update(
        created_at=timezone.make_aware(datetime.datetime(2022, 1, 3, 12))
    )

    def change(field, old, new, day):
        OrganisationChange.objects.create(
            organisation=organisation,
            kind=OrganisationChange.Kind.CHANGE,
            field=field,
            old_value=old,
            new_value=new,
            source="ui",
            changed_at=timezone.make_aware(datetime.datetime(*day, 12)),
        )

    # 5401 is Tromsø's 2023 number; "Helse Bergen HF" the area's name.
    change("municipality", "4601 Bergen", "5401 Tromsø", (2023, 4, 1))
    change("health_trust", str(HealthTrust.objects.get(code="helse-bergen")), "UNN", (2023, 4, 1))
    change("type", nursing.name, home.name, (2024, 2, 1))
    change("is_active", "false", "true", (2024, 9, 1))
    change("type", "not a type", home.name, (2024, 10, 1))  # unreadable: today's value

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.backfill(apps, editor)
    assert versions(organisation) == [
        (D(2022, 1, 3), "4601", "sykehjem", False),
        (D(2023, 4, 1), "5501", "sykehjem", False),
        (D(2024, 2, 1), "5501", "hjemmetjeneste", False),
        (D(2024, 9, 1), "5501", "hjemmetjeneste", True),
    ]
    first = OrganisationVersion.objects.filter(organisation=organisation).first()
    assert first.health_trust.code == "helse-bergen"
    assert versions(untouched) == [(D(2022, 1, 3), "1580", "fastlegekontor", True)]


def test_status_counts_over_time_count_the_organisations_applicable_that_day(moved):
    """The GP office was open until 1.3.2025: it counts in 2024 though it is closed today,
    when the chart is drawn among the organisations the user sees."""
    from rollout import selectors
    from rollout.models import Solution

    solution = Solution.objects.get(code="e-multidose")
    stayed = OrganisationFactory(municipality=municipality("4601"))
    visible = Organisation.objects.all()
    days = [D(2024, 12, 31), D(2025, 6, 30)]
    series = selectors.status_counts_over_time(
        solution, days, selectors.applicable(visible, solution), among=visible
    )
    assert series["ikke_startet"] == [2, 1]
    # Without the set it was drawn from, today's applicable ones only.
    series = selectors.status_counts_over_time(
        solution, days, selectors.applicable(visible, solution)
    )
    assert series["ikke_startet"] == [1, 1]
    assert stayed.is_active
