"""Indexes for the API's keyset pages (issue 17, actors/api/pagination.py): each matches
the ordering of a list, within its usual filters, so a page (`next` at any depth) is an
index range rather than a sort.

Created in SQL, not in `Meta.indexes`: they serve only the API's orderings and filters and
need no model state. PostgreSQL keeps them when a column is altered (the collation of
0017); SQLite drops them when it rebuilds a table, which only makes its pages slower."""

from django.db import migrations

INDEXES = {
    # organisations: the default ordering (name, orgnr) within a municipality, area or type
    "organisation_municipality_name": ("actors_organisation", "municipality_id, name, orgnr"),
    "organisation_trust_name": ("actors_organisation", "health_trust_id, name, orgnr"),
    "organisation_type_name": ("actors_organisation", "type_id, name, orgnr"),
    # organisations ?ordering=updated / -updated
    "organisation_updated": ("actors_organisation", "updated_at, id"),
    # organisation-changes, newest first (changed_at alone leaves every tie to a sort)
    "organisationchange_recorded": ("actors_organisationchange", "changed_at, id"),
}


def sql(indexes: dict) -> tuple[list[str], list[str]]:
    create = [f"CREATE INDEX IF NOT EXISTS {name} ON {t} ({c})" for name, (t, c) in indexes.items()]
    drop = [f"DROP INDEX IF EXISTS {name}" for name in indexes]
    return create, drop


class Migration(migrations.Migration):
    dependencies = [("actors", "0017_norwegian_collation")]

    operations = [migrations.RunSQL(*sql(INDEXES))]
