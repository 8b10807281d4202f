"""Indexes for the API's keyset pages (issue 17): the status history newest first within
one solution. Created in SQL like actors 0018_api_keyset_indexes (see there)."""

from django.db import migrations

INDEXES = {
    # status-history?solution=…, newest recorded first
    "statuschange_solution_recorded": ("rollout_statuschange", "solution_id, changed_at, id"),
}


class Migration(migrations.Migration):
    dependencies = [("rollout", "0008_list_indexes")]

    operations = [
        migrations.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {n} ON {t} ({c})" for n, (t, c) in INDEXES.items()],
            [f"DROP INDEX IF EXISTS {n}" for n in INDEXES],
        )
    ]
