"""The Seeder: the generated rows of every table (bench/bulk.py), the order they are generated
in, their load (bench/seed/load.py) and the checks after it."""

from __future__ import annotations

import datetime as dt
import random

from bench.seed.capa import CapaSeeding
from bench.seed.complaints import ComplaintSeeding
from bench.seed.data import (
    BENCH_PASSWORD,
    MANAGER_USERNAME,
    UTC,
)
from bench.seed.organisation import OrganisationSeeding


class Seeder(OrganisationSeeding, ComplaintSeeding, CapaSeeding):
    def __init__(self, n, *, seed, log, now=None):
        from django.utils import timezone

        self.n = n
        self.rng = random.Random(seed)
        self.log = log
        self.now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
        self.start = self.now - dt.timedelta(days=3 * 365)
        self.f = n / 100_000
        self.counts = {}
        self.ids = {}
        self.tables = {}
        self.copy_seconds = {}
        self.index_seconds = {}

    # ----------------------------------------------------------------------- plumbing
    def rows(self, model):
        from bench.bulk import ChainedRows, Rows

        key = model._meta.label
        if key not in self.tables:
            names = {f.attname for f in model._meta.concrete_fields}
            self.tables[key] = ChainedRows(model) if {"prev_hash", "entry_hash"} <= names else Rows(model)
        return self.tables[key]

    def history(self, model):
        from bench.bulk import HistoryRows

        key = "history:" + model._meta.label
        if key not in self.tables:
            self.tables[key] = HistoryRows(model)
        return self.tables[key]

    def at(self, days_ago: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days_ago)

    def generate(self):
        """Every table's rows, in memory (bench/bulk.py); nothing is written yet."""
        self.users()
        self.log("users")
        self.documents()
        self.log("documents")
        self.training()
        self.log("training")
        self.complaints()
        self.log("complaints")
        self.capas()
        self.log("capas")
        self.metrics()
        self.log("metrics")
        self.notifications()
        self.log("notifications")

    def load(self, *, replica: bool = True) -> None:
        """Write every generated table (bench/seed/load.py): the largest first, each COPY in its
        own transaction, indexes built afterwards on other connections while the next tables load."""
        from bench.seed.load import load_tables
        from complaints.models import Complaint

        result = load_tables(self.tables, replica=replica, log=self.log)
        for name, count in result.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count
        self.copy_seconds = result.copy_seconds
        self.index_seconds = result.index_seconds
        self.index_wait_seconds = result.index_wait_seconds
        self.tables = {}
        assert Complaint.objects.count() >= self.n

    # ----------------------------------------------------------------------- checks
    def verify_chains(self):
        from django.apps import apps

        from bench.bulk import verify_sample

        checked = 0
        for model in apps.get_models():
            names = {f.attname for f in model._meta.concrete_fields}
            if {"prev_hash", "entry_hash"} <= names and model._base_manager.exists():
                checked += verify_sample(model, size=100)
        self.counts["chain_rows_rechecked"] = checked
        self.log("hash chains re-checked on samples")

    def summary(self) -> dict:
        from complaints.models import Complaint
        from qms.models import User

        manager = User.objects.get(username=MANAGER_USERNAME)
        samples = self.complaint_samples
        detail = Complaint.objects.filter(pk__in=samples["closed"]).order_by("pk").values_list("pk", flat=True)
        return {
            "complaints": self.n,
            "counts": self.counts,
            "copy_seconds": self.copy_seconds,
            "index_seconds": self.index_seconds,
            "index_wait_seconds": getattr(self, "index_wait_seconds", None),
            "manager": {"username": MANAGER_USERNAME, "password": BENCH_PASSWORD, "id": manager.pk},
            "detail_complaint": list(detail)[len(detail) // 2] if detail else None,
            "investigating_complaints": samples["investigating"][:20],
            "customer_id": Complaint.objects.order_by("pk").values_list("customer_id", flat=True).first(),
            "product_id": self.product_ids[0],
        }
