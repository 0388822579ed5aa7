import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from qms.demo import DEMO_PASSWORD, DEMO_USERS, fast_demo_passwords

# Each app contributes `<app>.demo.seed(log)`; they run in this order (later ones link to earlier).
SEEDERS = (
    "qms.demo.seed",
    "capa.demo_history.seed_records",  # two years back, before today's records (references in time order)
    "complaints.demo.seed",
    "documents.demo.seed",
    "training.demo.seed",
    "capa.demo.seed",
    "training.demo_history.seed_documents",
    "metrics.demo.seed",
    "service_quality.demo.seed",
)


class Command(BaseCommand):
    help = "Create demo users for each role and demo records in every app. Safe to run again."

    def handle(self, *args, **options):
        started = time.monotonic()
        with fast_demo_passwords():
            for dotted in SEEDERS:
                try:
                    seeder = import_string(dotted)
                except ImportError:
                    continue
                self.stdout.write(f"Seeding {dotted.rsplit('.', 2)[0]} ...")
                with transaction.atomic():
                    seeder(log=self.stdout.write)
        self.stdout.write(f"Demo data seeded in {time.monotonic() - started:.1f}s")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):"))
        for username, _first, _last, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role}")
