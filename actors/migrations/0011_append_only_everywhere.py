"""Append-only for real (issue 13): sent reminders get the row triggers, and every
append-only table of actors refuses TRUNCATE on PostgreSQL (see actors/append_only.py).
A user who was reminded can no longer be deleted with the reminders (PROTECT): deactivate."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from actors.append_only import (
    create_triggers,
    create_truncate_triggers,
    drop_triggers,
    drop_truncate_triggers,
)

NEW = ["actors_remindersent"]  # had no trigger at all
TRUNCATE = ["actors_organisationchange", "actors_remindersent"]


def forwards(apps, schema_editor):
    create_triggers(schema_editor, NEW)
    create_truncate_triggers(schema_editor, TRUNCATE)


def backwards(apps, schema_editor):
    drop_truncate_triggers(schema_editor, TRUNCATE)
    drop_triggers(schema_editor, NEW)


class Migration(migrations.Migration):
    dependencies = [("actors", "0010_job_outbox_heartbeat")]

    operations = [
        migrations.AlterField(
            model_name="remindersent",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reminders",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
