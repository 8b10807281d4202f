"""Append-only tables: the one place for their trigger SQL and for the list of them.

A model whose rows are history (written once, never changed or removed) declares it with
the `@append_only` decorator; `append_only_models()` / `append_only_tables()` list them for
the `database_roles` command and the tests. The database enforces it three ways:

- row triggers refuse UPDATE and DELETE (PostgreSQL and SQLite), `create_triggers`;
- on PostgreSQL a statement trigger refuses TRUNCATE (`create_truncate_triggers`) unless
  the session has opted in with `SET rollout.allow_truncate = 'on'` (for Django's test
  flush and `manage.py flush`, which empty every table with TRUNCATE; SQLite has no
  TRUNCATE). Any session may set that variable, so the trigger guards against accidents;
- in production the application connects as a role that owns nothing and holds only
  SELECT and INSERT on these tables (`manage.py database_roles`), so the privilege system
  refuses UPDATE, DELETE and TRUNCATE too, and the role cannot disable the triggers.

Migrations name their tables literally (a migration must not change when models do) and
call the functions below; a test checks that every declared model has its triggers.
"""

from django.apps import apps

ALLOW_TRUNCATE = "rollout.allow_truncate"


def append_only(model):
    """Class decorator: the model's table is append-only. Its app's migrations must create
    the triggers (`create_triggers` and `create_truncate_triggers`)."""
    model.is_append_only = True
    return model


def append_only_models() -> list:
    """Every installed model that declares itself append-only (not inherited)."""
    return [m for m in apps.get_models() if m.__dict__.get("is_append_only")]


def append_only_tables() -> list[str]:
    return sorted(m._meta.db_table for m in append_only_models())


def create_triggers(schema_editor, tables: list[str]) -> None:
    """Row triggers that refuse UPDATE and DELETE."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP;
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
                """,
                params=None,  # no placeholders: the % is PL/pgSQL's own
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END;"
                )
        else:
            raise NotImplementedError(f"append-only trigger for {vendor}")


def drop_triggers(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only();")
        else:
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


def create_truncate_triggers(schema_editor, tables: list[str]) -> None:
    """PostgreSQL: a statement trigger that refuses TRUNCATE unless the session set
    rollout.allow_truncate to 'on'. Nothing on SQLite, which has no TRUNCATE."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only_truncate() RETURNS trigger AS $$
            BEGIN
                IF coalesce(current_setting('{ALLOW_TRUNCATE}', true), '') <> 'on' THEN
                    RAISE EXCEPTION '{table} is append-only: TRUNCATE refused'
                        USING HINT = 'A test or a deliberate reset of the whole database '
                            || 'sets {ALLOW_TRUNCATE} = ''on'' first.';
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only_truncate();
            """,
            params=None,
        )


def drop_truncate_triggers(schema_editor, tables: list[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table};")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only_truncate();")


def protect(schema_editor, tables: list[str]) -> None:
    """Everything a new append-only table needs: row and TRUNCATE triggers."""
    create_triggers(schema_editor, tables)
    create_truncate_triggers(schema_editor, tables)


def unprotect(schema_editor, tables: list[str]) -> None:
    drop_truncate_triggers(schema_editor, tables)
    drop_triggers(schema_editor, tables)


def sqlite_triggers_again(tables: list[str]):
    """A migration operation for after a column is added to append-only tables: SQLite
    rebuilds a table for most new columns, which drops its triggers, so they are created
    again there (PostgreSQL adds the column in place and keeps them)."""
    from django.db import migrations

    def again(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            drop_triggers(schema_editor, tables)
            create_triggers(schema_editor, tables)

    return migrations.RunPython(again, again)
