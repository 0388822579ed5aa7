"""`manage.py verify_audit_trail`: re-compute every hash chain of the audit trail (each history
table, the signatures), store the result (the audit trail page shows it) and report the first
break with its table, record and time. Exits with status 1 when a chain is broken.

Incremental by default once a run has stored anchors: each chain from its last anchor onwards
(decision 0050); `--full` re-hashes every chain from its first row."""

from django.core.management.base import BaseCommand, CommandError

from qms.audit.models import AuditVerification
from qms.audit.verify import verify_audit_trail


class Command(BaseCommand):
    help = "Verify the hash chains of every history table and of the signatures (tamper evidence)."

    def add_arguments(self, parser):
        parser.add_argument("--no-store", action="store_true", help="Do not record this run (a dry check).")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Re-hash every chain from its first row (default: from the last anchors, when a run stored them).",
        )

    def handle(self, *args, no_store=False, full=False, **options):
        result = verify_audit_trail(triggered_by=AuditVerification.Trigger.COMMAND, store=not no_store, incremental=not full)
        if result.kind == AuditVerification.Kind.INCREMENTAL:
            self.stdout.write(
                f"Incremental: checked {result.rows_checked} entries from the last anchors on in {result.tables_checked} chained tables "
                f"({result.rows_in_chains} in all; `--full` re-hashes every one)."
            )
        else:
            self.stdout.write(f"Full: checked {result.rows_checked} entries in {result.tables_checked} chained tables.")
        if result.is_intact:
            self.stdout.write(self.style.SUCCESS("Audit trail intact: every hash chain verified."))
            return
        for item in result.breaks:
            self.stdout.write(
                self.style.ERROR(
                    f"BROKEN {item['table']}: row {item['row_id']}, record {item['record_model']} #{item['record_id']}, "
                    f"entry of {item['at'] or 'unknown time'}: {item['message']}"
                )
            )
        first = result.first_break
        raise CommandError(f"Audit trail broken: first break in {first['table']} (record {first['record_model']} #{first['record_id']}, {first['at']}).")
