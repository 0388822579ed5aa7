"""`manage.py verify_audit_trail`: re-compute every hash chain of the audit trail (each history
table, the signatures), store the result (the audit trail page shows it) and report the first
break with its table, record and time. Exits with status 1 when a chain is broken."""

from django.core.management.base import BaseCommand, CommandError

from qms.audit.models import AuditVerification
from qms.audit.verify import verify_audit_trail


class Command(BaseCommand):
    help = "Verify the hash chains of every history table and of the signatures (tamper evidence)."

    def add_arguments(self, parser):
        parser.add_argument("--no-store", action="store_true", help="Do not record this run (a dry check).")

    def handle(self, *args, no_store=False, **options):
        result = verify_audit_trail(triggered_by=AuditVerification.Trigger.COMMAND, store=not no_store)
        self.stdout.write(f"Checked {result.rows_checked} entries in {result.tables_checked} chained tables.")
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
