"""`manage.py db_roles setup|grant|check`: the schema owner and the runtime role (issue 15,
item 7; qms/db_roles.py says why).

    # once, as a superuser: create both roles, give every object to the owner
    manage.py db_roles setup --owner qms_owner --runtime qms_app
    # after every migrate, as the owner: the runtime role's privileges on new tables
    manage.py db_roles grant --runtime qms_app
    # as the runtime role (web, worker, beat): exit status 1 if it can erase history
    manage.py db_roles check

Passwords come from QMS_DB_OWNER_PASSWORD and QMS_DB_RUNTIME_PASSWORD (none: trust or
certificate authentication), never from the command line."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from qms import db_roles


class Command(BaseCommand):
    help = "Create and check the schema-owner and runtime database roles (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["setup", "grant", "check"])
        parser.add_argument("--owner", default=os.environ.get("QMS_DB_OWNER_ROLE", "qms_owner"))
        parser.add_argument("--runtime", default=os.environ.get("QMS_DB_RUNTIME_ROLE", "qms_app"))
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the statements, run none."
        )

    def handle(self, *args, action, owner, runtime, database, dry_run=False, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                "Database roles are a PostgreSQL matter; this database is "
                + connection.vendor
                + "."
            )
        try:
            if action == "check":
                return self.check_roles(connection)
            with transaction.atomic(using=database), connection.cursor() as cursor:
                if action == "setup":
                    statements = db_roles.setup_statements(
                        cursor,
                        owner=owner,
                        runtime=runtime,
                        owner_password=os.environ.get("QMS_DB_OWNER_PASSWORD", ""),
                        runtime_password=os.environ.get("QMS_DB_RUNTIME_PASSWORD", ""),
                    )
                    statements += db_roles.grant_statements(cursor, runtime=runtime, owner=owner)
                else:
                    statements = db_roles.grant_statements(cursor, runtime=runtime)
                for sql, params in statements:
                    shown = sql.replace("PASSWORD %s", "PASSWORD '***'")
                    self.stdout.write(shown if dry_run else f"  {shown}")
                    if not dry_run:
                        cursor.execute(sql, params or None)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{action}: done ({len(statements)} statements)."))

    def check_roles(self, connection):
        with connection.cursor() as cursor:
            problems = db_roles.role_problems(cursor)
            cursor.execute("SELECT current_user")
            (user,) = cursor.fetchone()
        if not problems:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{user} owns nothing and cannot change or erase the append-only tables."
                )
            )
            return
        for problem in problems:
            self.stdout.write(self.style.ERROR(problem))
        raise CommandError(
            f"The database role {user} can erase or rewrite history ({len(problems)} problem(s))."
        )
