"""Corrections of a wrong status (issue 18): a status history entry can point at the wrong
entry it corrects (rollout/corrections.py); only a correction may.

Adding a column and a constraint makes SQLite rebuild the table, which drops its triggers:
they are created again here (PostgreSQL changes the table in place and keeps them)."""

import django.db.models.deletion
from django.db import migrations, models

from actors.append_only import sqlite_triggers_again


class Migration(migrations.Migration):
    dependencies = [
        ("rollout", "0011_readiness_items_from_status"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statuschange",
            name="kind",
            field=models.CharField(
                choices=[("endring", "Change"), ("korreksjon", "Correction")],
                default="endring",
                help_text=(
                    "A correction either records drift found by the integrity check (it "
                    "changes nothing) or corrects a wrong entry (see “corrects”)."
                ),
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="statuschange",
            name="corrects",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "The wrong entry this correction replaces from its date on "
                    "(rollout/corrections.py)."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="corrections",
                to="rollout.statuschange",
                verbose_name="corrects",
            ),
        ),
        migrations.AddConstraint(
            model_name="statuschange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("corrects__isnull", True), ("kind", "korreksjon"), _connector="OR"
                ),
                name="statuschange_corrects_is_a_correction",
            ),
        ),
        sqlite_triggers_again(["rollout_statuschange"]),
    ]
