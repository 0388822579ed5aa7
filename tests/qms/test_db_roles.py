"""The application's database role cannot erase history (issue 15, item 7).

`db_roles setup` makes a schema owner and a runtime role in this test database; the test then
connects as the runtime role (trust authentication on 127.0.0.1) and tries, on every append-only
table, what the issue saw succeed: UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER and DROP TRIGGER.
Role names are cluster-wide, so they carry the test database's name, and are dropped after."""

import re

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qms.checks import check_database_role
from qms.db import trigger_name
from qms.db_roles import append_only_tables, role_problems

STATEMENTS = {
    "update": 'UPDATE "{table}" SET {column} = {column}',
    "delete": 'DELETE FROM "{table}"',
    "truncate": 'TRUNCATE "{table}"',
    "disable trigger": 'ALTER TABLE "{table}" DISABLE TRIGGER USER',
    "drop trigger": 'DROP TRIGGER "{trigger}" ON "{table}"',
}


def role_name(kind: str) -> str:
    database = re.sub(r"[^a-z0-9_]", "_", connection.settings_dict["NAME"].lower())
    return f"qms_{kind}_{database}"[:63]


def drop_role(cursor, name: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    if cursor.fetchone():
        # Give back what it owns (the tables, to the suite's own user) before dropping it.
        cursor.execute(f'REASSIGN OWNED BY "{name}" TO CURRENT_USER')
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


@pytest.fixture
def split_roles(transactional_db):
    owner, runtime = role_name("owner"), role_name("app")
    with connection.cursor() as cursor:
        for name in (runtime, owner):
            drop_role(cursor, name)  # left over from an interrupted run
    call_command("db_roles", "setup", "--owner", owner, "--runtime", runtime)
    yield owner, runtime
    with connection.cursor() as cursor:
        for name in (runtime, owner):
            drop_role(cursor, name)


def connect_as(role: str):
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        autocommit=True,
    )


def first_column(cursor, table: str) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s "
        "ORDER BY ordinal_position OFFSET 1 LIMIT 1",
        [table],
    )
    return cursor.fetchone()[0]


def test_the_runtime_role_cannot_change_or_erase_any_append_only_table(split_roles):
    owner, runtime = split_roles
    with connection.cursor() as cursor:
        tables = append_only_tables(cursor)
        columns = {table: first_column(cursor, table) for table in tables}
    assert (
        len(tables) >= 40
        and "qms_signature" in tables
        and "complaints_historicalcomplaint" in tables
    )
    allowed = []
    with connect_as(runtime) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == runtime
        for table in tables:
            for what, statement in STATEMENTS.items():
                sql = statement.format(
                    table=table, column=f'"{columns[table]}"', trigger=trigger_name(table, "update")
                )
                try:
                    cursor.execute(sql)
                except psycopg.errors.InsufficientPrivilege:
                    continue
                allowed.append(f"{what} on {table}")
            # what it may do: read and append
            cursor.execute(
                "SELECT has_table_privilege(%s, 'SELECT'), has_table_privilege(%s, 'INSERT')",
                [table, table],
            )
            assert cursor.fetchone() == (True, True), table
    assert allowed == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'qms_append_only_%%' AND tgenabled = 'O'"
        )
        assert cursor.fetchone()[0] == 3 * len(tables)  # every trigger still there, still enabled


def test_the_runtime_role_owns_nothing_and_keeps_its_ordinary_privileges(split_roles):
    owner, runtime = split_roles
    with connect_as(runtime) as conn, conn.cursor() as cursor:
        assert role_problems(cursor) == []
        cursor.execute(
            "SELECT has_table_privilege('qms_notification', 'UPDATE'), has_table_privilege('qms_notification', 'DELETE'), "
            "has_table_privilege('django_migrations', 'INSERT'), has_sequence_privilege('qms_notification_id_seq', 'USAGE')"
        )
        assert cursor.fetchone() == (True, True, False, True)
        cursor.execute(
            "SELECT count(*) FROM pg_class c WHERE pg_get_userbyid(c.relowner) = current_user"
        )
        assert cursor.fetchone()[0] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind = 'r'"
        )
        assert [row[0] for row in cursor.fetchall()] == [owner]


def test_even_the_owner_cannot_truncate_an_append_only_table(split_roles):
    owner, _ = split_roles
    with connect_as(owner) as conn, conn.cursor() as cursor:
        with pytest.raises(
            psycopg.errors.InsufficientPrivilege,
            match="TRUNCATE on append-only table qms_securityevent",
        ):
            cursor.execute('TRUNCATE "qms_securityevent"')
        # the owner is warned about too: it is not the role to run the application as
        assert any("owns" in problem for problem in role_problems(cursor))


def test_the_check_command_and_the_deploy_check_name_an_owning_role(split_roles):
    # the suite's own connection is a superuser owning nothing now, but a superuser all the same
    with pytest.raises(CommandError, match="can erase or rewrite history"):
        call_command("db_roles", "check")
    warnings = check_database_role(None, databases=["default"])
    assert {warning.id for warning in warnings} == {"qms.W110"}
    assert any("superuser" in warning.msg for warning in warnings)
    assert (
        check_database_role(None, databases=None) == []
    )  # plain `check` does not touch the database


def test_grant_is_idempotent_and_refuses_odd_role_names(split_roles):
    owner, runtime = split_roles
    call_command("db_roles", "grant", "--runtime", runtime)
    with connect_as(runtime) as conn, conn.cursor() as cursor:
        assert role_problems(cursor) == []
    with pytest.raises(CommandError, match="not a role name"):
        call_command("db_roles", "grant", "--runtime", 'x"; DROP TABLE qms_signature; --')
