"""PostgreSQL for the test suite: Django's backend, except that flushing the database between
transactional tests (`TRUNCATE` of every table) runs with `session_replication_role = replica`,
which only a superuser may set and which keeps the append-only tables' BEFORE TRUNCATE
triggers (qms.db, issue 15 item 7) from refusing it. Nothing else is changed: every test still
meets the triggers as production does."""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        # Django runs these in one transaction: SET LOCAL ends with it.
        return ["SET LOCAL session_replication_role = replica", *statements]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
