"""The status and phase histories refuse UPDATE and DELETE at the database level."""

from django.db import migrations

from actors.append_only import create_triggers, drop_triggers

TABLES = ["rollout_statuschange", "rollout_phasechange"]


class Migration(migrations.Migration):
    dependencies = [("rollout", "0001_initial")]
    operations = [
        migrations.RunPython(
            lambda apps, editor: create_triggers(editor, TABLES),
            lambda apps, editor: drop_triggers(editor, TABLES),
        )
    ]
