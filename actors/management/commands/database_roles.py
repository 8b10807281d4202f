"""Grants for the application's database role (PostgreSQL).

Production runs `migrate` as an owner role and the application (web, worker, beat) as a role
that owns nothing: it may read and write the ordinary tables but only read and add to the
append-only ones (actors/append_only.py), so the privilege system refuses UPDATE, DELETE and
TRUNCATE of history, and the role cannot disable the triggers (only an owner can).
"""

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from actors.append_only import append_only_tables


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str
    schema: str = "public"


def grant_statements(roles: Roles, append_only: list[str], quote) -> list[str]:
    """The statements that give `roles.app` exactly what the application needs, whatever
    it held before (idempotent). `quote` quotes an identifier."""
    owner, app, schema = quote(roles.owner), quote(roles.app), quote(roles.schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        # Start from nothing, so that re-running also takes back what it should not have.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app}",
    ]
    statements += [
        f"REVOKE UPDATE, DELETE ON {schema}.{quote(table)} FROM {app}" for table in append_only
    ]
    statements += [
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
        # Tables and sequences that later migrations create (as the owner). A new append-only
        # table gets UPDATE and DELETE this way until the command runs again after `migrate`;
        # its triggers refuse them meanwhile.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    return statements


class Command(BaseCommand):
    help = (
        "Print (and with --apply run) the SQL that grants the application's PostgreSQL role "
        "what it needs: USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on ordinary tables, "
        "only SELECT/INSERT on the append-only history tables, USAGE/SELECT on sequences, and "
        "the same for tables that later migrations create. Run it as the owner role after "
        "every `migrate`; it is idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--owner", required=True, help="The role that owns the tables and runs migrate."
        )
        parser.add_argument(
            "--app", required=True, help="The role the application connects as (owns nothing)."
        )
        parser.add_argument("--schema", default="public")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Run the statements (as the owner role) instead of only printing them.",
        )

    def handle(self, *args, owner, app, schema, database, apply=False, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                "database_roles needs PostgreSQL: the embedded SQLite database has no roles "
                "(whoever can write its file can change everything). Set DATABASE_URL."
            )
        if owner == app:
            raise CommandError(
                "--owner and --app must be different roles: the owner of a table can "
                "disable its triggers."
            )
        roles = Roles(owner=owner, app=app, schema=schema)
        statements = grant_statements(roles, append_only_tables(), connection.ops.quote_name)
        if not apply:
            self.stdout.write(
                "-- run as the owner role, after every migrate (or pass --apply)\nBEGIN;"
            )
            self.stdout.write("\n".join(f"{s};" for s in statements))
            self.stdout.write("COMMIT;")
            return
        with transaction.atomic(using=database), connection.cursor() as cursor:
            self._check_roles(cursor, roles)
            for statement in statements:
                cursor.execute(statement)
        for warning in self._warnings(connection, roles):
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(
            self.style.SUCCESS(
                f"Granted {app} the application's privileges in schema {schema} "
                f"({len(append_only_tables())} append-only tables: SELECT and INSERT only)."
            )
        )

    @staticmethod
    def _check_roles(cursor, roles: Roles) -> None:
        cursor.execute(
            "SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN (%s, %s)",
            [roles.owner, roles.app],
        )
        superuser = dict(cursor.fetchall())
        for name in (roles.owner, roles.app):
            if name not in superuser:
                raise CommandError(f"Role {name!r} does not exist: CREATE ROLE it first.")
        if superuser[roles.app]:
            raise CommandError(
                f"{roles.app!r} is a superuser: privileges do not bind it and it can switch "
                "the triggers off. Connect the application as an ordinary role."
            )
        cursor.execute("SELECT pg_has_role(%s, %s, 'USAGE')", [roles.app, roles.owner])
        if cursor.fetchone()[0]:
            raise CommandError(
                f"{roles.app!r} is a member of {roles.owner!r} and so acts as the owner "
                f"(it could disable the triggers): REVOKE {roles.owner} FROM {roles.app}."
            )
        cursor.execute(
            "SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND pg_get_userbyid(c.relowner) = %s",
            [roles.schema, roles.app],
        )
        owned = cursor.fetchone()[0]
        if owned:
            raise CommandError(
                f"{roles.app!r} owns {owned}: the application role must own nothing. "
                f"ALTER TABLE … OWNER TO {roles.owner} (or run migrate as the owner role)."
            )

    @staticmethod
    def _warnings(connection, roles: Roles) -> list[str]:
        warnings = []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
                "AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid "
                "AND t.tgname = c.relname || '_append_only_truncate')",
                [roles.schema],
            )
            guarded = {name for (name,) in cursor.fetchall()}
            cursor.execute(
                "SELECT has_schema_privilege(%s, %s, 'CREATE')", [roles.app, roles.schema]
            )
            can_create = cursor.fetchone()[0]
        missing = sorted(set(append_only_tables()) - guarded)
        if missing:
            warnings.append(
                "These append-only tables lack their triggers (run migrate first): "
                + ", ".join(missing)
            )
        if can_create:
            warnings.append(
                f"{roles.app!r} may still create tables in schema {roles.schema} (through "
                f"PUBLIC, the default before PostgreSQL 15): REVOKE CREATE ON SCHEMA "
                f"{roles.schema} FROM PUBLIC."
            )
        return warnings
