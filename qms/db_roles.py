"""Two database roles (issue 15, item 7; 21 CFR 11.10(d), (e)).

Triggers make the append-only tables refuse UPDATE, DELETE and TRUNCATE, but the owner of a
table may switch its triggers off or drop them. So the application must not run as the owner:

- the **schema owner** (e.g. `qms_owner`) owns every table, sequence and function and runs the
  migrations; nothing else connects as it;
- the **runtime role** (e.g. `qms_app`, the one in web's, worker's and beat's DATABASE_URL)
  owns nothing, is no member of the owner, and may only SELECT and INSERT on the append-only
  tables (history, signatures, transitions, security events, verification results,
  escalations, communications, attachments...), SELECT/INSERT/UPDATE/DELETE on the others,
  SELECT on django_migrations, and USAGE on the sequences.

`manage.py db_roles setup` creates both and moves ownership (as a superuser, once);
`manage.py db_roles grant` re-applies the runtime role's privileges (as the owner, after every
migrate); `manage.py db_roles check` and the deploy check qms.W110 say what is wrong with the
connected role. PostgreSQL only. Every function takes a DB-API cursor (Django's or psycopg's).
"""

from __future__ import annotations

import re

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PRIVILEGES_REFUSED_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
READ_ONLY_TABLES = ("django_migrations",)  # written by migrate only, i.e. by the owner


def checked_role(name: str) -> str:
    if not ROLE_NAME.match(name or ""):
        raise ValueError(
            f"{name!r} is not a role name this command accepts (lower case letters, digits, _)."
        )
    return name


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def append_only_tables(cursor) -> list[str]:
    """The tables the database treats as append-only: those with the UPDATE-refusing trigger."""
    cursor.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname LIKE 'qms\\_append\\_only\\_update\\_%%' AND n.nspname = current_schema() ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def _role_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    return cursor.fetchone() is not None


def setup_statements(
    cursor, *, owner: str, runtime: str, owner_password: str = "", runtime_password: str = ""
) -> list[tuple[str, list]]:
    """Create both roles if missing and give every object of the current schema to the owner.
    Run as a superuser (or a role with CREATEROLE that owns the objects)."""
    owner, runtime = checked_role(owner), checked_role(runtime)
    statements = []
    for name, password in ((owner, owner_password), (runtime, runtime_password)):
        verb = "ALTER" if _role_exists(cursor, name) else "CREATE"
        sql = f"{verb} ROLE {quote(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
        statements.append(
            (sql + (" PASSWORD %s" if password else ""), [password] if password else [])
        )
    cursor.execute("SELECT current_database(), current_schema()")
    database, schema = cursor.fetchone()
    statements += [
        (f"GRANT CONNECT ON DATABASE {quote(database)} TO {quote(owner)}, {quote(runtime)}", []),
        (f"GRANT USAGE, CREATE ON SCHEMA {quote(schema)} TO {quote(owner)}", []),
        (f"REVOKE CREATE ON SCHEMA {quote(schema)} FROM PUBLIC", []),
        # A runtime role that is a member of the owner could SET ROLE to it.
        (f"REVOKE {quote(owner)} FROM {quote(runtime)}", []),
    ]
    cursor.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
        "AND pg_get_userbyid(c.relowner) <> %s "
        # sequences owned by a column follow their table
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) "
        "ORDER BY c.relkind, c.relname",
        [owner],
    )
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    for name, kind in cursor.fetchall():
        statements.append((f"ALTER {kinds[kind]} {quote(name)} OWNER TO {quote(owner)}", []))
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'qms\\_%%' AND pg_get_userbyid(p.proowner) <> %s",
        [owner],
    )
    for (signature,) in cursor.fetchall():
        statements.append((f"ALTER FUNCTION {signature} OWNER TO {quote(owner)}", []))
    return statements


def grant_statements(cursor, *, runtime: str, owner: str | None = None) -> list[tuple[str, list]]:
    """The runtime role's privileges, from nothing: run as the owner after every migrate (new
    tables), or as a superuser."""
    runtime = checked_role(runtime)
    cursor.execute("SELECT current_schema(), current_user")
    schema, current = cursor.fetchone()
    owner = checked_role(owner) if owner else current
    append_only = set(append_only_tables(cursor))
    statements = [
        (f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {quote(runtime)}", []),
        (f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote(schema)} FROM {quote(runtime)}", []),
        (f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(runtime)}", []),
    ]
    for table in schema_tables(cursor):
        if table in append_only or table in READ_ONLY_TABLES:
            privileges = "SELECT" if table in READ_ONLY_TABLES else "SELECT, INSERT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append((f"GRANT {privileges} ON {quote(table)} TO {quote(runtime)}", []))
    statements += [
        (f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {quote(runtime)}", []),
        # Tables a later migration creates: the narrow grant until `db_roles grant` runs again.
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {quote(schema)} GRANT SELECT, INSERT ON TABLES TO {quote(runtime)}",
            [],
        ),
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {quote(schema)} GRANT USAGE ON SEQUENCES TO {quote(runtime)}",
            [],
        ),
    ]
    return statements


def role_problems(cursor) -> list[str]:
    """What lets the connected role erase or rewrite history; [] for a proper runtime role."""
    problems = []
    cursor.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    user, is_superuser, bypasses_rls = cursor.fetchone()
    if is_superuser:
        problems.append(
            f"The application connects as {user}, a superuser: it can switch off or drop the append-only triggers."
        )
    cursor.execute(
        "SELECT count(*), min(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) = current_user"
    )
    owned, example = cursor.fetchone()
    if owned:
        problems.append(
            f"The application's role {user} owns {owned} table(s) (e.g. {example}): as owner it can disable or drop "
            "the append-only triggers. Run the app as a role that owns nothing (manage.py db_roles setup)."
        )
    cursor.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> current_user "
        "AND pg_has_role(current_user, c.relowner, 'MEMBER')"
    )
    for (owner,) in cursor.fetchall():
        problems.append(
            f"The application's role {user} is a member of {owner}, which owns tables: it can act as the owner (SET ROLE)."
        )
    tables = append_only_tables(cursor)
    if tables:
        checks = ", ".join(
            f"has_table_privilege(c.oid, '{p}')" for p in PRIVILEGES_REFUSED_ON_APPEND_ONLY
        )
        cursor.execute(
            f"SELECT c.relname, ARRAY[{checks}] FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "  # noqa: S608 (fixed privilege names)
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) ORDER BY 1",
            [tables],
        )
        for table, flags in cursor.fetchall():
            held = [
                p for p, flag in zip(PRIVILEGES_REFUSED_ON_APPEND_ONLY, flags, strict=True) if flag
            ]
            if held and not is_superuser and not owned:
                problems.append(
                    f"The application's role {user} holds {', '.join(held)} on the append-only table {table}."
                )
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname LIKE 'qms\\_append\\_only\\_truncate\\_%%')",
            [tables],
        )
        (unguarded,) = cursor.fetchone()
        if unguarded:
            problems.append(
                f"{unguarded} append-only table(s) have no BEFORE TRUNCATE trigger: run the migrations."
            )
    if bypasses_rls and not is_superuser:
        problems.append(f"The application's role {user} bypasses row-level security.")
    return problems
