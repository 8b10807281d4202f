"""Append-only for real (issue 13): decisions get the row triggers, and every append-only
table of rollout refuses TRUNCATE on PostgreSQL (see actors/append_only.py)."""

from django.db import migrations

from actors.append_only import (
    create_triggers,
    create_truncate_triggers,
    drop_triggers,
    drop_truncate_triggers,
)

NEW = ["rollout_decision"]  # had no trigger at all
TRUNCATE = [
    "rollout_statuschange",
    "rollout_phasechange",
    "rollout_changelogentry",
    "rollout_decision",
]


def forwards(apps, schema_editor):
    create_triggers(schema_editor, NEW)
    create_truncate_triggers(schema_editor, TRUNCATE)


def backwards(apps, schema_editor):
    drop_truncate_triggers(schema_editor, TRUNCATE)
    drop_triggers(schema_editor, NEW)


class Migration(migrations.Migration):
    dependencies = [("rollout", "0005_governance_data")]

    operations = [migrations.RunPython(forwards, backwards)]
