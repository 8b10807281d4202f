"""Drift detected and repaired through the history (issue 13): a status history row says
whether it is a change or a correction; an index for each pair's chain in history order;
the integrity check's runs.

Adding a NOT NULL column makes SQLite rebuild the table, which drops its triggers: they are
created again here (PostgreSQL adds the column in place and keeps them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from actors.append_only import sqlite_triggers_again


class Migration(migrations.Migration):
    dependencies = [
        ("rollout", "0006_append_only_everywhere"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="statuschange",
            name="kind",
            field=models.CharField(
                choices=[("endring", "Change"), ("korreksjon", "Correction")],
                default="endring",
                help_text=(
                    "A correction records drift found by the integrity check; it changes nothing."
                ),
                max_length=20,
                verbose_name="kind",
            ),
        ),
        sqlite_triggers_again(["rollout_statuschange"]),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                fields=["organisation", "solution", "effective_date", "id"],
                name="statuschange_chain",
            ),
        ),
        migrations.CreateModel(
            name="IntegrityCheckRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("schedule", "Nightly"),
                            ("command", "Command"),
                            ("page", "Page"),
                            ("repair", "After a repair"),
                        ],
                        max_length=10,
                        verbose_name="started by",
                    ),
                ),
                ("started_at", models.DateTimeField(auto_now_add=True, verbose_name="started")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished"),
                ),
                ("finding_count", models.PositiveIntegerField(default=0, verbose_name="findings")),
                (
                    "counts",
                    models.JSONField(blank=True, default=dict, verbose_name="findings by kind"),
                ),
                ("findings", models.JSONField(blank=True, default=list, verbose_name="findings")),
                (
                    "truncated",
                    models.BooleanField(
                        default=False,
                        help_text="More findings than are stored; the counts are complete.",
                        verbose_name="findings cut short",
                    ),
                ),
                (
                    "repaired",
                    models.PositiveIntegerField(default=0, verbose_name="corrections written"),
                ),
                (
                    "notified",
                    models.PositiveIntegerField(default=0, verbose_name="administrators e-mailed"),
                ),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "integrity check",
                "verbose_name_plural": "integrity checks",
                "ordering": ["-started_at", "-id"],
            },
        ),
    ]
