"""Append-only for real (issue 13): the agreement history refuses TRUNCATE on PostgreSQL
(see actors/append_only.py); its row triggers come from migration 0002."""

from django.db import migrations

from actors.append_only import create_truncate_triggers, drop_truncate_triggers

TRUNCATE = ["benefits_agreementchange"]


class Migration(migrations.Migration):
    dependencies = [("benefits", "0006_agreement_documents")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: create_truncate_triggers(editor, TRUNCATE),
            lambda apps, editor: drop_truncate_triggers(editor, TRUNCATE),
        )
    ]
