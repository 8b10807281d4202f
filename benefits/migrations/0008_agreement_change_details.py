"""Agreement coverage on a past day from the change history (issue 13): each change of an
agreement records the parties and solutions it added and removed. The history table is
append-only; SQLite rebuilds it for the new column, so its triggers are created again."""

from django.db import migrations, models

from actors.append_only import sqlite_triggers_again


class Migration(migrations.Migration):
    dependencies = [("benefits", "0007_append_only_everywhere")]

    operations = [
        migrations.AddField(
            model_name="agreementchange",
            name="details",
            field=models.JSONField(blank=True, default=dict),
        ),
        sqlite_triggers_again(["benefits_agreementchange"]),
    ]
