"""Norwegian sort order on PostgreSQL (issue 17): … X, Y, Z, Æ, Ø, Å, by the ICU collation
set on the name columns in migration actors 0017. (SQLite keeps its own order.)"""

import importlib

import pytest
from django.db import connection

from actors.models import Municipality, Organisation
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MIGRATION = importlib.import_module("actors.migrations.0017_norwegian_collation")


def test_every_name_column_has_the_norwegian_collation():
    with connection.cursor() as cursor:
        for table, column in MIGRATION.COLUMNS:
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = %s",
                [table, column],
            )
            assert cursor.fetchone() == (MIGRATION.COLLATION,), (table, column)


def test_organisations_and_municipalities_sort_the_norwegian_way():
    names = ["Åsane legesenter", "Zeta legesenter", "Østre legesenter", "Alfa legesenter",
             "Ærø legesenter", "Øvre legesenter", "Ulv legesenter"]  # fmt: skip
    made = [OrganisationFactory(name=n).pk for n in names]
    ordered = list(Organisation.objects.filter(pk__in=made).values_list("name", flat=True))
    assert ordered == [
        "Alfa legesenter",
        "Ulv legesenter",
        "Zeta legesenter",
        "Ærø legesenter",
        "Østre legesenter",
        "Øvre legesenter",
        "Åsane legesenter",
    ]
    # Today's municipalities: the last ones begin with Å (Åfjord … Åsnes), after Ø.
    last = list(Municipality.objects.current().order_by("name").values_list("name", flat=True))
    assert last[-1].startswith("Å") and last[-1] == "Åsnes"
    assert [n[0] for n in last].index("Å") > [n[0] for n in last].index("Ø")
