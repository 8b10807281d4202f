"""Names sort the Norwegian way on PostgreSQL (issue 17): … X, Y, Z, Æ, Ø, Å.

The name columns get ICU's collation for Norwegian bokmål, which PostgreSQL ships when it
is built with ICU (Debian's packages are). Done in SQL rather than with `db_collation` on
the fields, because SQLite (the embedded default) has no such collation and keeps its own
order. A later migration that alters one of these columns must set the collation again:
`tests/actors/test_collation.py` checks every column listed here."""

from django.db import migrations

COLLATION = "nb-NO-x-icu"
COLUMNS = [
    ("actors_organisation", "name"),
    ("actors_municipality", "name"),
    ("actors_municipalityversion", "name"),
    ("actors_county", "name"),
    ("actors_healthtrust", "name"),
    ("actors_regionalhealthauthority", "name"),
]


def _set(schema_editor, collation: str | None) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(
                "SELECT character_maximum_length FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = %s",
                [table, column],
            )
            (length,) = cursor.fetchone()
            collate = f' COLLATE "{collation}"' if collation else ' COLLATE "default"'
            schema_editor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" '
                f"TYPE varchar({int(length)}){collate}"
            )


def forwards(apps, schema_editor):
    _set(schema_editor, COLLATION)


def backwards(apps, schema_editor):
    _set(schema_editor, None)


class Migration(migrations.Migration):
    dependencies = [("actors", "0016_list_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
