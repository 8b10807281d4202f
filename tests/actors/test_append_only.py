"""Append-only for real (issue 13): every history table refuses UPDATE and DELETE (row
triggers, PostgreSQL and SQLite) and TRUNCATE (PostgreSQL, unless the session opts in), and
the application's role from `manage.py database_roles` can only read and add history."""

import datetime
import inspect
import uuid
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, ProgrammingError, connection, connections, transaction
from django.db.models import ProtectedError

from actors.append_only import ALLOW_TRUNCATE, append_only_models, append_only_tables
from actors.choices import Source
from actors.models import Organisation, ReminderSent
from rollout.choices import DecisionKind, Status
from rollout.models import Decision, DecisionPoint, RolloutStatus, Solution, StatusChange
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

TABLES = append_only_tables()


def _triggers() -> dict[str, set[str]]:
    """Trigger names per table, as the database has them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        found: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            found.setdefault(table, set()).add(name)
    return found


def _expected(table: str) -> set[str]:
    if connection.vendor == "postgresql":
        return {f"{table}_append_only", f"{table}_append_only_truncate"}
    return {f"{table}_no_update", f"{table}_no_delete"}


# --- the registry and the database agree ----------------------------------------------


def test_the_registry_names_the_history_tables():
    assert TABLES == [
        "actors_accesschange",
        "actors_organisationchange",
        "actors_organisationversion",
        "actors_remindersent",
        "actors_structurechange",
        "benefits_agreementchange",
        "rollout_changelogentry",
        "rollout_decision",
        "rollout_phasechange",
        "rollout_statuschange",
    ]


def test_every_append_only_model_has_its_triggers_and_no_other_table_has_them():
    found = _triggers()
    for table in TABLES:
        assert _expected(table) <= found.get(table, set()), table
    guarded = {
        table
        for table, names in found.items()
        if any(n.endswith(("_append_only", "_append_only_truncate", "_no_update")) for n in names)
    }
    assert guarded == set(TABLES)


def test_models_that_say_they_are_append_only_declare_it():
    from django.apps import apps

    saying = {
        m
        for m in apps.get_models()
        if "append-only" in (inspect.getdoc(m) or "").casefold()
        and m._meta.app_label in {"actors", "rollout", "benefits"}
    }
    assert saying <= set(append_only_models())


# --- rows: the tables that had no trigger before -----------------------------------------


def _decision():
    user = UserFactory()
    point = DecisionPoint.objects.create(title="Punkt 1", scheduled_for=datetime.date(2026, 3, 1))
    return Decision.objects.create(
        decision_point=point, kind=DecisionKind.OTHER, text="Vi venter", decided_by=user
    )


def _reminder():
    return ReminderSent.objects.create(user=UserFactory(), kind="review", items=[{"text": "x"}])


@pytest.mark.parametrize(
    ("make", "column"), [(_decision, "text"), (_reminder, "kind")], ids=["decision", "reminder"]
)
def test_decisions_and_sent_reminders_refuse_update_and_delete(make, column):
    row = make()
    model = type(row)
    table = model._meta.db_table
    for sql in (
        f"UPDATE {table} SET {column} = 'endret' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match=f"{table} is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{column: "endret"})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=row.pk).delete()
    assert getattr(model.objects.get(pk=row.pk), column) != "endret"


def test_a_reminded_user_cannot_be_deleted_with_the_reminders():
    reminder = _reminder()
    with pytest.raises(ProtectedError):
        reminder.user.delete()
    assert ReminderSent.objects.filter(pk=reminder.pk).exists()


# --- TRUNCATE (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("table", TABLES)
def test_truncate_is_refused_unless_the_session_opts_in(table):
    def truncate(setting: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {ALLOW_TRUNCATE} = %s", [setting])
            cursor.execute(f"TRUNCATE {table} CASCADE")
            raise _RolledBack  # never keep it: other tables went with the cascade

    for setting in ("", "off", "yes"):  # unset, or anything but 'on'
        with pytest.raises(DatabaseError, match=f"{table} is append-only: TRUNCATE refused"):
            truncate(setting)
    # The test suite's own flush (and `manage.py flush` for whoever opts in) still works.
    with pytest.raises(_RolledBack):
        truncate("on")


class _RolledBack(Exception):
    pass


@pytest.mark.postgres
def test_the_suite_opts_in_and_an_unknown_setting_reads_as_unset():
    # Only the test suite's connections carry the opt-in (tests/conftest.py); the setting
    # is unknown elsewhere, which the trigger reads as "refuse".
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [ALLOW_TRUNCATE])
        assert cursor.fetchone()[0] == "on"
        cursor.execute("SELECT current_setting('rollout.no_such_setting', true)")
        assert cursor.fetchone()[0] is None


# --- the application's role (PostgreSQL) --------------------------------------------------


@pytest.fixture
def app_role(db):
    """A role created in the test's transaction (gone with its rollback) holding exactly
    the grants of `manage.py database_roles`; the tables' owner is the test's own user."""
    name = f"test_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    call_command("database_roles", owner=owner, app=name, apply=True)
    return name


def _refused(sql: str, match: str) -> None:
    with (
        pytest.raises(ProgrammingError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@pytest.mark.postgres
def test_the_application_role_can_add_history_but_not_change_or_remove_it(app_role):
    organisation = OrganisationFactory()
    solution = Solution.objects.get(code="kjernejournal")
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {app_role}")
    try:
        # Normal application writes: an ordinary table, and history added and read.
        Organisation.objects.filter(pk=organisation.pk).update(name="Nytt navn")
        RolloutStatus.objects.create(
            organisation=organisation,
            solution=solution,
            status=Status.PLANNING,
            effective_date=datetime.date(2026, 1, 5),
        )
        change = StatusChange.objects.create(
            organisation=organisation,
            solution=solution,
            from_status=Status.NOT_STARTED,
            to_status=Status.PLANNING,
            effective_date=datetime.date(2026, 1, 5),
            source=Source.SYSTEM,
        )
        assert StatusChange.objects.filter(pk=change.pk).exists()
        with connection.cursor() as cursor:
            # Opting in to TRUNCATE does not help a role without the privilege.
            cursor.execute(f"SET LOCAL {ALLOW_TRUNCATE} = 'on'")
        for table in TABLES:
            _refused(f"UPDATE {table} SET id = id", f"permission denied for table {table}")
            _refused(f"DELETE FROM {table}", f"permission denied for table {table}")
            _refused(f"TRUNCATE {table} CASCADE", "permission denied for table")
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL", f"must be owner of table {table}")
            _refused(
                f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
                f"must be owner of table {table}",
            )
        _refused("SET session_replication_role = replica", "permission denied to set parameter")
        assert StatusChange.objects.filter(pk=change.pk).exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert Organisation.objects.get(pk=organisation.pk).name == "Nytt navn"


@pytest.mark.postgres
def test_the_grants_cover_tables_that_later_migrations_create(app_role):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_table (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        cursor.execute(
            "SELECT has_table_privilege(%s, 'later_table', 'INSERT, UPDATE, DELETE'), "
            "has_table_privilege(%s, 'later_table', 'TRUNCATE')",
            [app_role, app_role],
        )
        assert cursor.fetchone() == (True, False)


# --- the command ------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_command_prints_the_grants_with_select_and_insert_only_on_history(capsys):
    call_command("database_roles", owner="innforing_owner", app="innforing_app")
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "BEGIN;" and out.rstrip().endswith("COMMIT;")
    assert (
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "innforing_app";'
        in out
    )
    for table in TABLES:
        assert f'REVOKE UPDATE, DELETE ON "public"."{table}" FROM "innforing_app";' in out
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "innforing_owner" IN SCHEMA "public"' in out
    assert "TRUNCATE" not in out and "TRIGGER" not in out


def test_the_command_refuses_sqlite():
    with (
        mock.patch.object(connections["default"], "vendor", "sqlite"),
        pytest.raises(CommandError, match="needs PostgreSQL"),
    ):
        call_command("database_roles", owner="innforing_owner", app="innforing_app")


@pytest.mark.postgres
def test_the_command_refuses_one_role_for_both():
    with pytest.raises(CommandError, match="must be different roles"):
        call_command("database_roles", owner="innforing", app="innforing", apply=True)


@pytest.mark.postgres
def test_the_command_refuses_a_missing_role_a_superuser_or_a_member_of_the_owner():
    with pytest.raises(CommandError, match="does not exist"):
        call_command("database_roles", owner="postgres", app="no_such_role_here", apply=True)
    owner = f"test_owner_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {owner} NOLOGIN")
        cursor.execute("SELECT current_user")
        (superuser,) = cursor.fetchone()
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("database_roles", owner=owner, app=superuser, apply=True)
    member = f"test_member_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {member} NOLOGIN IN ROLE {owner}")
    with pytest.raises(CommandError, match="acts as the owner"):
        call_command("database_roles", owner=owner, app=member, apply=True)
