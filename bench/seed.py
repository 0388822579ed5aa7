"""Seed a benchmark database in bulk (COPY), migrations first.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_100k \
        python -m bench.seed --scale 100k --out bench/results/raw/100k/seed.json

At 100k: 100,000 complaints received over 3 years, in every state, with their transitions,
history, communications, escalations, surveys (some answered) and closure signatures;
10,000 CAPAs with root cause analyses, actions and effectiveness checks; 2,000 documents with 3
versions each; 500 users; 60,000 training assignments; 2 years of KPI snapshots. Other scales
shrink the volume records in proportion; the organisation (users, training) is the same from
10k up (see bench/README.md).

Every history table gets a valid hash chain (see bench/bulk.py); the seeder re-checks samples
of every chain with qms.history itself before it reports success.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal

import django

UTC = dt.UTC
BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 (a throwaway benchmark database)
MANAGER_USERNAME = "bench_manager"

SCALES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}


def parse_scale(text: str) -> int:
    if text in SCALES:
        return SCALES[text]
    return int(text.lower().replace("k", "000"))


class Log:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.steps = {}
        self._last = self.t0

    def __call__(self, message: str):
        now = time.perf_counter()
        print(f"[{now - self.t0:7.1f}s +{now - self._last:6.1f}s] {message}", flush=True)
        self.steps[message] = round(now - self._last, 2)
        self._last = now


def weighted(rng, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


WORDS_PROBLEM = [
    "label misprinted", "seal leaking", "cracked housing", "battery drains early", "display flickers",
    "wrong quantity delivered", "late delivery", "missing instructions for use", "sterile barrier torn",
    "alarm does not sound", "connector loose", "calibration drift", "invoice wrong", "rude phone call",
    "certificate missing", "damaged in transit", "incorrect lot on box", "software freezes", "strap broke",
    "noise during operation",
]
# Where the problem was found: written only into complaint descriptions, one in 16 complaints each
# (by id, so the random stream and every other seeded value stay as they were), for the list
# search's benchmark (bench/endpoints.py COMPLAINT_SEARCH: a word no title holds).
FOUND_DURING = [
    "incoming inspection", "installation", "sterilisation", "unpacking", "commissioning", "routine maintenance",
    "a ward round", "cleaning", "calibration check", "stock rotation", "night shift", "home use", "a service visit",
    "a clinical trial", "an internal audit", "the training session",
]
FUNCTIONS = [
    "Assembly operator", "Warehouse operator", "Lab technician", "Service engineer", "Customer service agent",
    "Production supervisor", "Design engineer", "Purchasing officer", "Sales representative", "Regulatory specialist",
]
FIRST = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Morgan", "Taylor", "Jamie", "Drew", "Casey", "Ari", "Noa"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Green", "Hall", "Wood", "Clarke", "Evans"]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="10k")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", default="")
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    from django.core.management import call_command

    log = Log()
    if not args.skip_migrate:
        call_command("migrate", verbosity=0)
        log("migrations")
    summary = seed(parse_scale(args.scale), seed=args.seed, log=log)
    summary["scale"] = args.scale
    summary["seconds_total"] = round(time.perf_counter() - log.t0, 1)
    summary["steps"] = log.steps
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}, indent=1, default=str))
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1, default=str)


def seed(n: int, *, seed: int = 20261123, log=print, now=None, fast_load: bool = True) -> dict:
    """Seed `n` complaints and everything around them into the default database (which must be
    migrated and hold no earlier benchmark data). Returns the counts and the ids the measuring
    scripts need."""
    from django.db import connection, transaction

    s = Seeder(n, seed=seed, log=log, now=now)
    with transaction.atomic():
        if fast_load:
            # The generated rows are consistent by construction: skip the per-row foreign-key
            # triggers during the load (superuser only; the setting ends with the transaction).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        s.run()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log("ANALYZE")
    s.verify_chains()
    return s.summary()


class Seeder:
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

    def flush(self, *labels):
        """COPY the named tables (live tables before history; order matters for FKs)."""
        for label in labels:
            table = self.tables.get(label)
            if table is None:
                continue
            started = time.perf_counter()
            count = table.copy()
            name = table.model._meta.db_table
            self.counts[name] = self.counts.get(name, 0) + count
            self.copy_seconds[name] = round(time.perf_counter() - started, 2)

    def at(self, days_ago: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days_ago)

    def run(self):
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
        self.write_all()
        self.log("COPY")

    def write_all(self):
        from complaints.models import Complaint

        order = [
            "qms.Department", "qms.User", "qms.User_groups", "complaints.Customer", "complaints.Product",
            "documents.Document", "documents.DocumentVersion", "training.TrainingRequirement", "training.RevisionImpact",
            "training.TrainingAssignment", "qms.Signature", "complaints.FailureMode", "complaints.Complaint", "complaints.Communication",
            "complaints.Escalation", "complaints.Survey", "qms.Transition", "capa.Capa", "capa.Capa_complaints",
            "capa.RootCauseAnalysis", "capa.CapaAction", "capa.EffectivenessCheck", "metrics.KpiTarget",
            "metrics.KpiSnapshot", "metrics.ShippedUnits", "qms.Notification", "qms.ReferenceCounter",
        ]
        self.flush(*order)
        self.flush(*[k for k in self.tables if k not in order and not k.startswith("history:")])
        self.flush(*[k for k in self.tables if k.startswith("history:")])
        assert Complaint.objects.count() >= self.n

    # ----------------------------------------------------------------------- users
    def users(self):
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from qms import roles
        from qms.models import Department, User
        from qms.services import system_user

        self.system = system_user()
        groups = {g.name: g.pk for g in Group.objects.all()}
        self.groups = groups
        departments = self.rows(Department)
        dept_history = self.history(Department)
        self.department_ids = []
        for name in ["Quality", "Production", "Warehouse", "Laboratory", "Service", "Customer service", "Engineering", "Purchasing"]:
            pk = departments.add(name=name)
            dept_history.snapshot({"id": pk, "name": name}, at=self.at(3 * 365 + 30), user_id=self.system.pk, kind="+", reason="Organisation set up", action="create")
            self.department_ids.append(pk)
        password = make_password(BENCH_PASSWORD)
        users = self.rows(User)
        user_history = self.history(User)
        through = self.rows(User.groups.through)
        n_users = 500 if self.n >= 10_000 else 60
        plan = (
            [("bench_manager", roles.MANAGER, "Head of Quality")]
            + [(f"mgr{i:02d}", roles.MANAGER, "Quality manager") for i in range(1, 5)]
            + [(f"qs{i:02d}", roles.STAFF, "Quality engineer") for i in range(1, 21 if n_users >= 100 else 9)]
            + [(f"aud{i:02d}", roles.AUDITOR, "Auditor") for i in range(1, 4)]
            + [(f"adm{i:02d}", roles.ADMINISTRATOR, "IT administrator") for i in range(1, 3)]
        )
        plan += [(f"emp{i:03d}", roles.EMPLOYEE, FUNCTIONS[i % len(FUNCTIONS)]) for i in range(1, n_users - len(plan) + 1)]
        self.by_role = defaultdict(list)
        self.function_of = {}
        head = None
        for i, (username, role, function) in enumerate(plan):
            joined = self.at(3 * 365 + 20 - i * 0.5)
            state = {
                "password": password,
                "last_login": None,
                "is_superuser": False,
                "username": username,
                "first_name": FIRST[i % len(FIRST)],
                "last_name": f"{LAST[(i // len(FIRST)) % len(LAST)]}-{i:03d}",
                "email": f"{username}@bench.example.org",
                "is_staff": role in roles.ADMIN_SITE_ROLES,
                "is_active": True,
                "date_joined": joined,
                "department_id": self.department_ids[0] if role in (roles.MANAGER, roles.STAFF, roles.AUDITOR) else self.department_ids[1 + i % 7],
                "job_function": function,
                "manager_id": head,
            }
            pk = users.add(**state)
            state["id"] = pk
            if head is None:
                head = pk
                self.manager_id = pk
            through.add(user_id=pk, group_id=groups[role])
            user_history.snapshot(state, at=joined, user_id=self.system.pk, kind="+", reason="Account created", action="create")
            self.by_role[role].append(pk)
            self.function_of[pk] = function
        self.quality = self.by_role[roles.STAFF] + self.by_role[roles.MANAGER]
        self.staff = self.by_role[roles.STAFF]
        self.managers = self.by_role[roles.MANAGER]
        self.counts["users"] = len(plan)

    # ----------------------------------------------------------------------- documents
    def documents(self):
        from documents.models import NUMBER_PREFIXES, Document, DocumentType, DocumentVersion
        from qms.models import ReferenceCounter
        from training.models import RevisionImpact

        rng = self.rng
        n_docs = max(int(2000 * self.f), 300 if self.n >= 10_000 else 60)
        docs = self.rows(Document)
        doc_history = self.history(Document)
        versions = self.rows(DocumentVersion)
        version_history = self.history(DocumentVersion)
        impacts = self.rows(RevisionImpact)
        impact_history = self.history(RevisionImpact)
        counters = defaultdict(int)
        types = [(DocumentType.SOP, 40), (DocumentType.WORK_INSTRUCTION, 30), (DocumentType.FORM, 15), (DocumentType.SPECIFICATION, 8), (DocumentType.POLICY, 4), (DocumentType.OTHER, 3)]
        self.doc_ids = []
        self.doc_versions = {}  # doc id -> [(version id, revision_index, status, effective_at)]
        self.effective_index = {}
        for i in range(n_docs):
            doc_type = weighted(rng, types)
            prefix = NUMBER_PREFIXES[doc_type]
            counters[prefix] += 1
            number = f"{prefix}-{counters[prefix]:03d}"
            created = self.at(3 * 365 + 10 - rng.random() * 200)
            owner = rng.choice(self.quality)
            doc = {
                "version": 1, "number": number, "title": f"{rng.choice(['Control of', 'Handling of', 'Inspection of', 'Procedure for'])} {rng.choice(WORDS_PROBLEM)} {i}",
                "doc_type": doc_type, "owner_id": owner, "department_id": rng.choice(self.department_ids),
                "review_period_months": 24, "next_review_due": (self.now + dt.timedelta(days=rng.randint(-30, 700))).date(),
                "effective_version_id": None, "created_by_id": owner, "created_at": created,
            }
            pk = docs.new_id()
            doc["id"] = pk
            doc_history.snapshot(doc, at=created, user_id=owner, kind="+", reason="Document created", action="create")
            # Three revisions, released about a year apart; 10 % have the third still in review.
            in_review = rng.random() < 0.10
            released_times = [created + dt.timedelta(days=20), created + dt.timedelta(days=20 + rng.randint(250, 400)), created + dt.timedelta(days=20 + rng.randint(650, 900))]
            released_times = [min(t, self.now - dt.timedelta(days=3 - k)) for k, t in enumerate(released_times)]
            rows = []
            for index in (1, 2, 3):
                eff = released_times[index - 1]
                is_last_released = index == 3 or (index == 2 and in_review)
                if index == 3 and in_review:
                    status = "in_review"
                elif is_last_released:
                    status = "effective"
                else:
                    status = "superseded"
                author = rng.choice(self.quality)
                v = {
                    "version": 1, "document_id": pk, "revision_index": index, "revision": str(index), "status": "draft",
                    "change_summary": "First issue" if index == 1 else f"Revision {index}: clarified {rng.choice(WORDS_PROBLEM)}",
                    "file": "", "file_name": "", "file_kind": "md", "file_size": None, "file_sha256": "",
                    "content_text": f"# {doc['title']}\n\nRevision {index}.\n\n1. Purpose\n2. Scope\n3. Procedure\n",
                    "effective_from": None, "author_id": author, "created_at": eff - dt.timedelta(days=14),
                    "review_round": 0, "submitted_at": None, "approved_at": None, "effective_at": None,
                    "superseded_at": None, "obsoleted_at": None, "superseded_by_id": None,
                }
                vid = versions.new_id()
                v["id"] = vid
                version_history.snapshot(v, at=v["created_at"], user_id=author, kind="+", reason="New revision", action="create")
                v.update(status="in_review", review_round=1, submitted_at=eff - dt.timedelta(days=7), version=2)
                version_history.snapshot(v, at=v["submitted_at"], user_id=author, action="submit")
                if status != "in_review":
                    approver = rng.choice(self.managers)
                    v.update(status="approved", approved_at=eff - dt.timedelta(days=2), effective_from=eff.date(), version=3)
                    version_history.snapshot(v, at=v["approved_at"], user_id=approver, action="approve", reason="Approved")
                    v.update(status="effective", effective_at=eff, version=4)
                    version_history.snapshot(v, at=eff, user_id=self.system.pk, action="make_effective")
                rows.append(v)
                if index >= 2:
                    impacts.add(version=1, document_version_id=vid, is_major=rng.random() < 0.7, decided_by_id=author, decided_at=v["created_at"])
            # Supersede the older released ones.
            for k, v in enumerate(rows):
                if v["status"] == "effective" and k + 1 < len(rows) and rows[k + 1]["status"] == "effective":
                    nxt = rows[k + 1]
                    v.update(status="superseded", superseded_at=nxt["effective_at"], superseded_by_id=nxt["id"], version=v["version"] + 1)
                    version_history.snapshot(v, at=nxt["effective_at"], user_id=self.system.pk, action="supersede")
            for v in rows:
                versions.add(**v)
            effective = [v for v in rows if v["status"] == "effective"][-1]
            doc["effective_version_id"] = effective["id"]
            doc["version"] = 2
            doc_history.snapshot(doc, at=effective["effective_at"], user_id=self.system.pk, reason="Effective revision changed", action="")
            docs.add(**doc)  # FKs are deferred to commit: the version rows may come later
            self.doc_ids.append(pk)
            self.doc_versions[pk] = [(v["id"], v["revision_index"], v["status"], v["effective_at"]) for v in rows]
            self.effective_index[pk] = effective["revision_index"]
        for prefix, last in counters.items():
            self.rows(ReferenceCounter).add(prefix=prefix, year=0, last=last)
        del impact_history
        self.counts["documents"] = n_docs

    # ----------------------------------------------------------------------- training
    def training(self):
        from training.models import TrainingAssignment, TrainingRequirement

        rng = self.rng
        reqs = self.rows(TrainingRequirement)
        req_history = self.history(TrainingRequirement)
        docs = self.doc_ids
        core = docs[:20] if len(docs) >= 220 else docs[: max(4, len(docs) // 11)]
        per_function = 20 if len(docs) >= 220 else max(2, len(docs) // 11)
        required = defaultdict(set)  # user -> doc ids
        created = self.at(3 * 365)
        for role in (self.groups["Employee"], self.groups["Quality Staff"]):
            for doc in core:
                state = {"version": 1, "role_id": role, "job_function": "", "document_id": doc, "only_major_revisions": False,
                         "due_days": 30, "is_active": True, "created_by_id": self.manager_id, "created_at": created}
                state["id"] = reqs.add(**state)
                req_history.snapshot(state, at=created, user_id=self.manager_id, kind="+", reason="Training need", action="create")
        for k, function in enumerate(FUNCTIONS):
            chosen = docs[len(core) + k * per_function: len(core) + (k + 1) * per_function]
            for doc in chosen:
                state = {"version": 1, "role_id": None, "job_function": function, "document_id": doc,
                         "only_major_revisions": rng.random() < 0.3, "due_days": 30, "is_active": True,
                         "created_by_id": self.manager_id, "created_at": created}
                state["id"] = reqs.add(**state)
                req_history.snapshot(state, at=created, user_id=self.manager_id, kind="+", reason="Training need", action="create")
            for user in self.by_role["Employee"]:
                if self.function_of[user] == function:
                    required[user].update(chosen)
        for user in self.by_role["Employee"] + self.by_role["Quality Staff"]:
            required[user].update(core)
        assignments = self.rows(TrainingAssignment)
        history = self.history(TrainingAssignment)
        today = self.now.date()
        total = 0
        for user, doc_ids in required.items():
            for doc in sorted(doc_ids):
                previous = None
                for vid, index, _status, effective_at in self.doc_versions[doc]:
                    if effective_at is None:
                        continue
                    assigned_at = effective_at - dt.timedelta(days=1)
                    due = (effective_at + dt.timedelta(days=30)).date()
                    last = index == self.effective_index[doc]
                    roll = rng.random()
                    done = roll < (0.75 if last else 0.93)
                    completed_at = min(assigned_at + dt.timedelta(days=rng.uniform(1, 40)), self.now - dt.timedelta(hours=1))
                    state = {"version": 1, "user_id": user, "document_version_id": vid, "document_id": doc, "status": "assigned",
                             "source": "version_effective", "assigned_at": assigned_at, "due_date": due, "completed_at": None,
                             "closed_at": None, "completion_method": "", "session_id": None, "superseded_by_id": None}
                    pk = assignments.new_id()
                    state["id"] = pk
                    history.snapshot(state, at=assigned_at, user_id=self.system.pk, kind="+", reason="New revision effective", action="create")
                    if done:
                        state.update(status="completed", completed_at=completed_at, closed_at=completed_at, completion_method="read", version=2)
                        history.snapshot(state, at=completed_at, user_id=user, reason="Read and understood", action="complete")
                    elif not last:
                        state.update(status="superseded", closed_at=effective_at + dt.timedelta(days=400), version=2)
                        history.snapshot(state, at=state["closed_at"], user_id=self.system.pk, reason="Superseded by a new revision", action="supersede")
                    assignments.add(**state)
                    previous = pk
                    total += 1
                del previous
        del today
        self.counts["training_assignments"] = total

    # ----------------------------------------------------------------------- complaints
    def complaints(self):
        from django.contrib.contenttypes.models import ContentType

        from bench.business_time import FastCalendar
        from complaints import services as complaint_services
        from complaints.models import (
            Category,
            Communication,
            Complaint,
            Customer,
            Escalation,
            Product,
            SlaPolicy,
            Survey,
        )
        from qms.models import ReferenceCounter, Signature, Transition
        from qms.signatures import content_hash

        rng = self.rng
        n = self.n
        # The defaults come with migration 0003; a database emptied by a flush (as pytest's
        # transactional tests do to the template) lacks them, so create what is missing.
        from importlib import import_module

        from django.apps import apps as django_apps

        import_module("complaints.migrations.0003_default_sla").create_defaults(django_apps, None)
        policies = {p.severity: p for p in SlaPolicy.objects.select_related("calendar")}
        cache = {}
        fast = {}
        for severity, policy in policies.items():
            calendar = complaint_services.calendar_for(policy, cache)
            fast[severity] = FastCalendar(calendar, self.start.date() - dt.timedelta(days=5), self.now.date())
        self.policies = policies
        from complaints import sla as complaint_sla

        self.terms = {severity: complaint_sla.Terms.from_policy(policy).to_json() for severity, policy in policies.items()}
        # Same arithmetic as the app (checked on a sample).
        for severity, policy in policies.items():
            calendar = complaint_services.calendar_for(policy, cache)
            for k in range(30):
                t = self.start + dt.timedelta(hours=k * 37.3)
                from complaints import sla

                assert fast[severity].add_hours(t, policy.resolution_hours) == sla.add_hours(t, policy.resolution_hours, calendar), severity
        categories = list(Category.objects.values_list("pk", flat=True))
        modes_of = self.failure_modes(categories)
        products = self.rows(Product)
        product_history = self.history(Product)
        product_ids = []
        for i in range(60):
            state = {"version": 1, "code": f"P-{1000 + i}", "name": f"{rng.choice(['Infusion pump', 'Blood pressure cuff', 'Wound dressing', 'Thermometer', 'Glucose meter', 'Catheter', 'Nebuliser', 'Pulse oximeter'])} model {i}", "is_active": True}
            state["id"] = products.add(**state)
            product_history.snapshot(state, at=self.at(3 * 365 + 15), user_id=self.manager_id, kind="+", reason="Product list", action="create")
            product_ids.append(state["id"])
        self.product_ids = product_ids
        customers = self.rows(Customer)
        customer_history = self.history(Customer)
        customer_ids = []
        customer_email = {}
        for i in range(max(n // 5, 50)):
            created = self.at(3 * 365 + 5 - 1095 * (i / max(n // 5, 50)))
            state = {"version": 1, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "organisation": f"{rng.choice(['St', 'North', 'City', 'Royal', 'Valley'])} {rng.choice(['Clinic', 'Hospital', 'Pharmacy', 'Care Home', 'Practice'])} {i}",
                     "email": f"customer{i:06d}@example.org", "phone": f"+44 20 7946 {i % 10000:04d}", "address": "", "created_at": created}
            state["id"] = customers.add(**state)
            customer_history.snapshot(state, at=created, user_id=rng.choice(self.quality), kind="+", reason="Customer added", action="create")
            customer_ids.append(state["id"])
            customer_email[state["id"]] = state["email"]

        complaint_ct = ContentType.objects.get_for_model(Complaint).pk
        complaints = self.rows(Complaint)
        history = self.history(Complaint)
        transitions = self.rows(Transition)
        signatures = self.rows(Signature)
        communications = self.rows(Communication)
        communication_history = self.history(Communication)
        escalations = self.rows(Escalation)
        surveys = self.rows(Survey)

        def log_communication(**values):
            # With its creation row, as complaints.services.communication_add writes it, so the
            # trail (and its free-text search) holds the communication log too (issue 15).
            entry_id = communications.add(**values)
            communication_history.snapshot({**values, "id": entry_id}, at=values["recorded_at"], user_id=values["author_id"], kind="+",
                                           reason=f"Logged a {values['channel'].replace('_', ' ')} communication with the customer")

        steps_of = {p.severity: p.escalation_steps for p in policies.values()}

        # Received times over 3 years, more of them recent; ids follow time.
        ages = sorted((1095 * (rng.random() ** 1.25) for _ in range(n)), reverse=True)
        per_year = defaultdict(int)
        last_seen = {}
        recurring = 0
        status_counts = defaultdict(int)
        survey_answers = 0
        escalation_count = 0
        open_ids = []
        self.complaint_samples = defaultdict(list)
        system = self.system.pk
        sev_table = [("low", 30), ("medium", 45), ("high", 20), ("critical", 5)]
        channel_table = [("email", 45), ("phone", 25), ("web_form", 20), ("social_media", 3), ("in_person", 4), ("other", 3)]
        from zoneinfo import ZoneInfo

        local = ZoneInfo("Europe/London")
        for age in ages:
            received = self.now - dt.timedelta(days=max(age, 0.003))
            received = received.replace(microsecond=0)
            pk = complaints.new_id()
            year = received.astimezone(local).year
            per_year[year] += 1
            reference = f"CMP-{year}-{per_year[year]:05d}"
            severity = weighted(rng, sev_table)
            policy = policies.get(severity)
            cal = fast[severity]
            creator = rng.choice(self.quality)
            product = rng.choice(product_ids) if rng.random() < 0.92 else None
            category = rng.choice(categories) if rng.random() < 0.95 else None
            failure_mode = rng.choice(modes_of[category]) if category and rng.random() < 0.97 else None
            customer = rng.choice(customer_ids)
            words = rng.choice(WORDS_PROBLEM)
            state = {
                "version": 1, "id": pk, "reference": reference, "title": f"{words.capitalize()} ({reference[-5:]})",
                "description": (
                    f"Customer reports: {words}. Noticed on {received:%d %b %Y} during {FOUND_DURING[pk % len(FOUND_DURING)]}. "
                    "Batch and serial on the box; photos to follow. "
                ) * 2,
                "channel": weighted(rng, channel_table), "customer_id": customer, "product_id": product,
                "lot_number": f"L{rng.randint(10000, 99999)}" if product else "", "udi": "", "category_id": category,
                "failure_mode_id": failure_mode, "recurrence_key": f"product={product}|failure_mode={failure_mode}" if product and failure_mode else "",
                "severity": severity, "status": "new", "assignee_id": None, "created_by_id": creator,
                "created_at": received + dt.timedelta(minutes=rng.randint(1, 90)), "received_at": received,
                "acknowledged_at": None, "resolved_at": None, "closed_at": None, "sla_policy_id": policy.pk if policy else None,
                "sla_terms": self.terms[severity] if policy else {},
                "first_response_due": cal.add_hours(received, policy.first_response_hours) if policy else None,
                "resolution_due": cal.add_hours(received, policy.resolution_hours) if policy else None,
                "sla_paused_at": None, "sla_paused_hours": Decimal("0.00"), "escalation_level": 0, "next_escalation_at": None,
                "is_recurring": False, "recurrence_of_id": None, "investigation_required": None, "no_investigation_reason": "",
                "investigation_decided_by_id": None, "is_reportable": None, "reportability_reason": "",
                "reportability_decided_by_id": None, "resolution": "",
            }
            if state["created_at"] > self.now:
                state["created_at"] = self.now
            # Recurrence as the app computes it (complaints.selectors.recurrence_counted, decision
            # 0023): the same product and failure mode within 90 days; a complaint that ends
            # rejected or closed as "not a product problem" neither repeats nor is repeated.
            key = state["recurrence_key"]
            target = self.final_status(age)
            not_product = target == "closed" and rng.random() < 0.1
            counted = target != "rejected" and not not_product
            if key and counted:
                seen = last_seen.get(key)
                if seen and (received - seen[0]).days < 90:
                    state["is_recurring"] = True
                    state["recurrence_of_id"] = seen[1]
                    recurring += 1
                last_seen[key] = (received, pk)
            history.snapshot(state, at=state["created_at"], user_id=creator, kind="+", reason="Complaint received", action="create")
            log_communication(complaint_id=pk, at=received, direction="inbound", channel=state["channel"], summary=f"Customer: {words}.", author_id=creator, recorded_at=state["created_at"])

            # The path to the target state: (time, action) events.
            start_at = state["created_at"]
            room = max((self.now - dt.timedelta(minutes=5) - start_at).total_seconds() / 3600, 0.02)
            plan = []
            if target == "rejected":
                if rng.random() < 0.5:
                    plan.append(("acknowledge", rng.lognormvariate(1.0, 0.8)))
                plan.append(("reject", rng.lognormvariate(1.5, 0.8)))
            elif target != "new":
                plan.append(("acknowledge", rng.lognormvariate(1.0, 0.9)))
                if target != "acknowledged":
                    plan.append(("investigate", rng.lognormvariate(1.5, 1.0)))
                    if target == "awaiting_customer" or rng.random() < 0.25:
                        plan.append(("wait_for_customer", rng.lognormvariate(3.0, 1.0)))
                        if target != "awaiting_customer":
                            plan.append(("resume", rng.lognormvariate(3.5, 1.0)))
                    if target in ("resolved", "closed"):
                        plan.append(("resolve", rng.lognormvariate(4.5, 0.8)))
                    if target == "closed":
                        plan.append(("close", rng.lognormvariate(3.5, 0.8)))
                        if rng.random() < 0.02:
                            plan += [("reopen", rng.lognormvariate(5, 0.7)), ("resolve", rng.lognormvariate(4, 0.7)), ("close", rng.lognormvariate(3, 0.7))]
            scale = min(1.0, room * 0.95 / (sum(h for _a, h in plan) or 1))
            events = []
            t = start_at
            for action, hours in plan:
                t = t + dt.timedelta(hours=hours * scale)
                events.append((t.replace(microsecond=0), 1, action))
            actor = rng.choice(self.quality)
            signer = rng.choice(self.managers)
            # When each deadline was met (or "not yet"), and the paused time, for the escalations.
            first_met = next((w for w, _o, a in events if a in ("acknowledge", "reject")), None)
            last_resolve = [w for w, _o, a in events if a in ("resolve", "reject")]
            resolution_met = last_resolve[-1] if last_resolve else None
            paused_hours = Decimal("0.00")
            pause_start = None
            for when, _o, action in events:
                if action == "wait_for_customer":
                    pause_start = when
                elif action == "resume" and pause_start is not None:
                    paused_hours += cal.hours_between(pause_start, when)
                    pause_start = None
            thresholds = {}  # (kind, level) -> when the step falls due (deadlines as the app computes them)
            if policy and policy.escalation_steps:
                for kind, hours, paused, met in (("first_response", policy.first_response_hours, Decimal(0), first_met),
                                                 ("resolution", policy.resolution_hours, paused_hours, resolution_met)):
                    for step in steps_of[severity]:
                        due_at = cal.add_hours(received, Decimal(hours) * Decimal(step["percent"]) / 100 + paused)
                        thresholds[(kind, int(step["level"]))] = due_at
                        if target == "rejected":
                            continue
                        at = (due_at + dt.timedelta(seconds=rng.randint(5, 60))).replace(microsecond=0)
                        if (met is None or due_at < met) and at < self.now and not (pause_start and due_at > pause_start):
                            events.append((at, 0, ("escalate", kind, int(step["level"]), int(step["percent"]), due_at)))
            events.sort(key=lambda e: (e[0], e[1]))
            done_steps = set()
            for when, _order, action in events:
                if isinstance(action, tuple):
                    _name, kind, level, percent, due_at = action
                    if (kind, level) in done_steps:
                        continue
                    done_steps.add((kind, level))
                    escalations.add(complaint_id=pk, kind=kind, level=level, percent=percent, due_at=due_at, at=when,
                                    notified=[f"qs{rng.randint(1, 20):02d}"])
                    escalation_count += 1
                    state["escalation_level"] = max(state["escalation_level"], level)
                    state["version"] += 1
                    history.snapshot(state, at=when, user_id=system, reason=f"SLA escalation: {kind} level {level} ({percent}%)", action="escalate")
                    continue
                from_state = state["status"]
                reason = ""
                signature_id = None
                if action == "acknowledge":
                    state["assignee_id"] = rng.choice(self.quality) if rng.random() < 0.5 else actor
                    state["acknowledged_at"] = when
                    state["status"] = "acknowledged"
                    log_communication(complaint_id=pk, at=when, direction="outbound", channel="email", summary="Acknowledged: we are looking into it.", author_id=actor, recorded_at=when)
                elif action == "investigate":
                    state["status"] = "investigating"
                elif action == "wait_for_customer":
                    state["status"] = "awaiting_customer"
                    state["sla_paused_at"] = when
                elif action == "resume":
                    state["sla_paused_hours"] = state["sla_paused_hours"] + cal.hours_between(state["sla_paused_at"], when)
                    state["sla_paused_at"] = None
                    if policy:
                        state["resolution_due"] = cal.add_hours(received, policy.resolution_hours + state["sla_paused_hours"])
                    state["status"] = "investigating"
                elif action == "resolve":
                    state["resolution"] = f"Root cause found ({words}); replacement sent and process corrected."
                    state["resolved_at"] = when
                    state["status"] = "resolved"
                    log_communication(complaint_id=pk, at=when, direction="outbound", channel="email", summary="Resolution sent to the customer.", author_id=actor, recorded_at=when)
                    survey = {"complaint_id": pk, "email": customer_email[customer],
                              "token_hash": hashlib.sha256(f"bench-survey-{pk}-{when.isoformat()}".encode()).hexdigest(),
                              "sent_at": when, "expires_at": when + dt.timedelta(days=30), "answered_at": None,
                              "csat": None, "ces": None, "nps": None, "comment": ""}
                    if rng.random() < 0.45 and when + dt.timedelta(days=1) < self.now:
                        survey.update(answered_at=min(when + dt.timedelta(days=rng.uniform(0.2, 10)), self.now - dt.timedelta(minutes=10)),
                                      csat=weighted(rng, [(1, 5), (2, 7), (3, 15), (4, 38), (5, 35)]),
                                      ces=weighted(rng, [(1, 4), (2, 6), (3, 10), (4, 15), (5, 25), (6, 25), (7, 15)]),
                                      nps=weighted(rng, list(zip(range(11), [2, 1, 2, 3, 3, 6, 7, 14, 22, 20, 20], strict=True))),
                                      comment=rng.choice(["", "", "Quick and friendly.", "Took too long.", "Thanks for the replacement."]))
                        survey_answers += 1
                    surveys.add(**survey)
                elif action == "close":
                    state["is_reportable"] = rng.random() < 0.03
                    # 21 CFR 820.198(d): a reportable complaint is always investigated.
                    state["investigation_required"] = state["is_reportable"] or rng.random() < 0.7
                    state["no_investigation_reason"] = "" if state["investigation_required"] else "Known issue, investigated under an earlier complaint."
                    state["no_investigation_basis"] = "" if state["investigation_required"] else "justification"
                    state["investigation_decided_by_id"] = signer
                    state["is_product_problem"] = not not_product
                    state["reportability_reason"] = "Potential for serious injury." if state["is_reportable"] else "No injury and no potential for serious injury."
                    state["reportability_decided_by_id"] = signer
                    state["closed_at"] = when
                    state["status"] = "closed"
                elif action == "reopen":
                    reason = "Customer reports the problem again."
                    state["resolved_at"] = None
                    state["closed_at"] = None
                    state["status"] = "investigating"
                elif action == "reject":
                    reason = "Not a complaint: a request for information."
                    state["status"] = "rejected"
                who = signer if action == "close" else actor
                state["version"] += 1
                if action == "close":
                    fields = {k: (v if v is None or isinstance(v, bool | int | float | str) else str(v)) for k, v in state.items() if k != "version"}
                    content = {"model": "complaints.complaint", "fields": dict(sorted(fields.items()))}
                    signature_id = signatures.add(content_type_id=complaint_ct, object_id=pk, record_repr=reference, signer_id=who,
                                                  signer_name=f"Manager {who}", meaning="Approved for closure", reason="", signed_at=when,
                                                  content_hash=content_hash(content), content=content, prev_hash="", entry_hash="")
                history.snapshot(state, at=when, user_id=who, reason=reason, action=action)
                transitions.add(content_type_id=complaint_ct, object_id=pk, action=action, from_state=from_state, to_state=state["status"],
                                actor_id=who, reason=reason, at=when, signature_id=signature_id)
            # The next step the sweep will take (what schedule_next_escalation stores).
            if policy and policy.escalation_steps and state["status"] in ("new", "acknowledged", "investigating"):
                pending = [
                    due_at for (kind, level), due_at in thresholds.items()
                    if (kind, level) not in done_steps and (kind == "resolution" or state["status"] == "new")
                ]
                state["next_escalation_at"] = min(pending) if pending else None
            complaints.add(**state)
            status_counts[state["status"]] += 1
            if state["status"] in ("new", "acknowledged", "investigating", "awaiting_customer"):
                open_ids.append(pk)
            samples = self.complaint_samples[state["status"]]
            if len(samples) < 50:
                samples.append(pk)
        for year, last in per_year.items():
            self.rows(ReferenceCounter).add(prefix="CMP", year=year, last=last)
        self.counts.update(
            complaints=n, complaint_status=dict(status_counts), recurring=recurring, survey_answers=survey_answers,
            complaint_escalations=escalation_count, customers=len(customer_ids),
        )
        self.open_complaint_ids = open_ids

    def failure_modes(self, categories: list[int]) -> dict[int, list[int]]:
        """The failure modes of each category: the defaults of migration 0011, plus synthetic
        ones so the catalogue grows with the data (about n / 500 per category): a large shop
        with many complaints also tells many more problems apart. Keeps the share of recurring
        complaints realistic (about 10 %) at every scale."""
        from complaints.models import FailureMode

        modes_of: dict[int, list[int]] = {pk: [] for pk in categories}
        for pk, category_id in FailureMode.objects.filter(category_id__in=categories).values_list("pk", "category_id"):
            modes_of[category_id].append(pk)
        rows = self.rows(FailureMode)
        history = self.history(FailureMode)
        wanted = max(4, round(self.n / 500))
        for category_id, modes in modes_of.items():
            for j in range(len(modes), wanted):
                state = {"version": 1, "category_id": category_id, "name": f"Failure mode {j + 1:03d}", "description": "", "is_active": True}
                state["id"] = rows.add(**state)
                history.snapshot(state, at=self.at(3 * 365 + 15), user_id=self.manager_id, kind="+", reason="Failure mode list", action="create")
                modes.append(state["id"])
        return modes_of

    def final_status(self, age: float) -> str:
        rng = self.rng
        if age < 7:
            table = [("new", 30), ("acknowledged", 25), ("investigating", 30), ("awaiting_customer", 8), ("resolved", 5), ("rejected", 2)]
        elif age < 30:
            table = [("new", 3), ("acknowledged", 7), ("investigating", 35), ("awaiting_customer", 10), ("resolved", 30), ("closed", 12), ("rejected", 3)]
        elif age < 120:
            table = [("investigating", 8), ("awaiting_customer", 3), ("resolved", 12), ("closed", 73), ("rejected", 4)]
        else:
            table = [("investigating", 0.5), ("awaiting_customer", 0.3), ("resolved", 2), ("closed", 93.2), ("rejected", 4)]
        return weighted(rng, table)

    # ----------------------------------------------------------------------- CAPA
    def capas(self):
        from django.contrib.contenttypes.models import ContentType

        from capa.models import (
            Capa,
            CapaAction,
            EffectivenessCheck,
            RootCauseAnalysis,
            risk_level_for,
        )
        from qms.models import ReferenceCounter, Signature, Transition
        from qms.signatures import content_hash

        rng = self.rng
        n = max(self.n // 10, 20)
        capas = self.rows(Capa)
        history = self.history(Capa)
        links = self.rows(Capa.complaints.through)
        rcas = self.rows(RootCauseAnalysis)
        rca_history = self.history(RootCauseAnalysis)
        actions = self.rows(CapaAction)
        action_history = self.history(CapaAction)
        checks = self.rows(EffectivenessCheck)
        check_history = self.history(EffectivenessCheck)
        transitions = self.rows(Transition)
        signatures = self.rows(Signature)
        ct = ContentType.objects.get_for_model(Capa).pk
        ages = sorted((1095 * (rng.random() ** 1.2) for _ in range(n)), reverse=True)
        per_year = defaultdict(int)
        status_counts = defaultdict(int)
        total_actions = 0
        path = ["start_investigation", "plan_actions", "implement", "verify", "close"]
        states = ["open", "investigation", "action_planning", "implementation", "effectiveness_check", "closed"]
        n_complaints = self.n
        for age in ages:
            created = (self.now - dt.timedelta(days=max(age, 0.01))).replace(microsecond=0)
            pk = capas.new_id()
            year = created.year
            per_year[year] += 1
            owner = rng.choice(self.quality)
            severity, occurrence = rng.randint(1, 5), rng.randint(1, 5)
            source = weighted(rng, [("complaint", 45), ("internal_audit", 20), ("nonconformance", 25), ("kpi_trend", 5), ("other", 5)])
            state = {
                "version": 1, "id": pk, "reference": f"CAPA-{year}-{per_year[year]:04d}", "title": f"{rng.choice(WORDS_PROBLEM).capitalize()} recurring",
                "kind": "corrective" if rng.random() < 0.85 else "preventive", "source": source,
                "problem_statement": "Several complaints report the same failure; containment and root cause needed.",
                "severity": severity, "occurrence": occurrence, "risk_level": risk_level_for(severity, occurrence),
                "containment_action": "Quarantined affected lots.", "containment_by_id": owner, "containment_at": created + dt.timedelta(hours=4),
                "owner_id": owner, "due_date": (created + dt.timedelta(days=90)).date(), "status": "open", "created_by_id": owner,
                "created_at": created, "implemented_at": None, "closed_at": None, "reopen_count": 0,
            }
            if state["containment_at"] > self.now:
                state["containment_at"] = created
            history.snapshot(state, at=created, user_id=owner, kind="+", reason="CAPA opened", action="create")
            if source == "complaint":
                first = max(1, int(n_complaints * (1 - age / 1095)) - rng.randint(0, 50))
                for cid in {min(first, n_complaints), min(first + rng.randint(1, 40), n_complaints)}:
                    links.add(capa_id=pk, complaint_id=cid + self.complaint_offset())
            # Target stage by age.
            if age > 200:
                stage = 5 if rng.random() < 0.93 else rng.choice([-1, 4])
            elif age > 60:
                stage = weighted(rng, [(2, 15), (3, 35), (4, 30), (5, 15), (-1, 5)])
            else:
                stage = weighted(rng, [(0, 30), (1, 40), (2, 25), (-1, 5)])
            span = min(age, 200) * 0.9
            t = created
            if stage >= 1 or stage == -1:
                rca_state = {"version": 1, "capa_id": pk, "method": "both", "whys": [{"why": "Why did it fail?", "because": "Seal temperature too low"}, {"why": "Why too low?", "because": "Controller drift"}],
                             "fishbone": {"machine": ["Controller drift"], "method": ["No periodic check"]}, "conclusion": "Controller drift, no periodic check.",
                             "analysed_by_id": owner, "analysed_at": t + dt.timedelta(days=span * 0.15)}
                rca_state["id"] = rcas.add(**rca_state)
                rca_history.snapshot(rca_state, at=rca_state["analysed_at"], user_id=owner, kind="+", reason="Analysis recorded", action="create")
            n_actions = rng.randint(1, 4) if stage >= 2 else 0
            for number in range(1, n_actions + 1):
                a_created = t + dt.timedelta(days=span * 0.3)
                a_state = {"version": 1, "capa_id": pk, "number": number, "action_type": rng.choice(["fix", "process_change", "retraining", "other"]),
                           "description": f"Action {number}: {rng.choice(['recalibrate', 'update the SOP', 'retrain operators', 'replace tooling'])}.",
                           "owner_id": rng.choice(self.quality), "due_date": (a_created + dt.timedelta(days=30)).date(), "status": "planned",
                           "evidence": "", "completed_at": None, "document_id": None, "baseline_revision": "", "baseline_revision_index": 0,
                           "role_id": None, "escalation_level": 0, "created_by_id": owner, "created_at": a_created}
                a_state["id"] = actions.new_id()
                action_history.snapshot(a_state, at=a_created, user_id=owner, kind="+", reason="Action planned", action="create")
                if stage >= 4 or (stage == 3 and rng.random() < 0.5):
                    done_at = a_created + dt.timedelta(days=span * 0.2)
                    a_state.update(status="done", completed_at=done_at, evidence="Done; records attached.", version=2)
                    action_history.snapshot(a_state, at=done_at, user_id=a_state["owner_id"], reason="Completed", action="complete")
                actions.add(**a_state)
                total_actions += 1
            if stage >= 2:
                c_state = {"version": 1, "capa_id": pk, "criteria": "No repeat complaint for this failure within 90 days.",
                           "due_date": (created + dt.timedelta(days=span * 0.8 + 90)).date() if stage >= 4 else None, "verifier_id": rng.choice(self.managers),
                           "result": "pending", "evidence": "", "verified_by_id": None, "verified_at": None, "created_by_id": owner,
                           "created_at": t + dt.timedelta(days=span * 0.35)}
                c_state["id"] = checks.new_id()
                check_history.snapshot(c_state, at=c_state["created_at"], user_id=owner, kind="+", reason="Check planned", action="create")
                if stage >= 5:
                    c_state.update(result="effective", evidence="No repeat in 90 days.", verified_by_id=c_state["verifier_id"], verified_at=created + dt.timedelta(days=span * 0.95), version=2)
                    check_history.snapshot(c_state, at=c_state["verified_at"], user_id=c_state["verifier_id"], reason="Verified effective", action="verify")
                checks.add(**c_state)
            # The CAPA's own transitions.
            steps = path[: stage] if stage >= 0 else path[: rng.randint(0, 3)] + ["cancel"]
            for k, action in enumerate(steps):
                when = (created + dt.timedelta(days=span * (k + 1) / (len(steps) + 0.5))).replace(microsecond=0)
                from_state = state["status"]
                to_state = "cancelled" if action == "cancel" else states[path.index(action) + 1]
                reason = "Duplicate of another CAPA." if action == "cancel" else ""
                state["status"] = to_state
                state["version"] += 1
                actor = owner
                signature_id = None
                if action == "implement":
                    pass
                if action == "verify":
                    state["implemented_at"] = when
                if action in ("close", "cancel"):
                    actor = rng.choice(self.managers)
                    state["closed_at"] = when
                    fields = {k2: (v if v is None or isinstance(v, bool | int | float | str) else str(v)) for k2, v in state.items() if k2 != "version"}
                    content = {"model": "capa.capa", "fields": dict(sorted(fields.items()))}
                    signature_id = signatures.add(content_type_id=ct, object_id=pk, record_repr=state["reference"], signer_id=actor,
                                                  signer_name=f"Manager {actor}", meaning="Approved for closure" if action == "close" else "Cancelled",
                                                  reason=reason, signed_at=when, content_hash=content_hash(content), content=content, prev_hash="", entry_hash="")
                history.snapshot(state, at=when, user_id=actor, reason=reason, action=action)
                transitions.add(content_type_id=ct, object_id=pk, action=action, from_state=from_state, to_state=to_state,
                                actor_id=actor, reason=reason, at=when, signature_id=signature_id)
            capas.add(**state)
            status_counts[state["status"]] += 1
        for year, last in per_year.items():
            self.rows(ReferenceCounter).add(prefix="CAPA", year=year, last=last)
        self.counts.update(capas=n, capa_status=dict(status_counts), capa_actions=total_actions)

    def complaint_offset(self) -> int:
        """Complaint ids start after whatever the table held before seeding (normally nothing)."""
        if not hasattr(self, "_complaint_offset"):
            from complaints.models import Complaint

            rows = self.tables["complaints.Complaint"].rows
            first_id = rows[0][self.tables["complaints.Complaint"].index["id"]] if rows else 1
            self._complaint_offset = first_id - 1
            del Complaint
        return self._complaint_offset

    # ----------------------------------------------------------------------- metrics
    def metrics(self):
        try:
            from metrics.kpis import KPIS
            from metrics.models import KpiSnapshot, KpiTarget, ShippedUnits
        except ImportError:
            self.counts["kpi_snapshots"] = 0
            return
        rng = self.rng
        snapshots = self.rows(KpiSnapshot)
        kpis = list(KPIS.values()) if isinstance(KPIS, dict) else list(KPIS)
        computed = self.now.replace(hour=1, minute=0, second=0)
        count = 0
        for day in range(730, 0, -1):
            date = (self.now - dt.timedelta(days=day)).date()
            for kpi in kpis:
                denominator = rng.randint(50, 200)
                numerator = rng.randint(0, denominator)
                snapshots.add(date=date, kpi=kpi.code, value=round(100 * numerator / denominator, 2), numerator=numerator,
                              denominator=denominator, computed_at=computed - dt.timedelta(days=day - 1))
                count += 1
        targets = self.rows(KpiTarget)
        target_history = self.history(KpiTarget)
        for kpi in kpis:
            if KpiTarget.objects.filter(kpi=kpi.code).exists():
                continue
            state = {"version": 1, "kpi": kpi.code, "target": Decimal("90.00"), "threshold": Decimal("80.00"), "window_days": 30,
                     "is_active": True, "updated_by_id": self.manager_id, "updated_at": self.at(730)}
            state["id"] = targets.add(**state)
            target_history.snapshot(state, at=self.at(730), user_id=self.manager_id, kind="+", reason="Targets set", action="create")
        units = self.rows(ShippedUnits)
        unit_history = self.history(ShippedUnits)
        month = dt.date(self.start.year, self.start.month, 1)
        while month <= self.now.date():
            for product in self.product_ids:
                at = dt.datetime(month.year, month.month, 1, 9, tzinfo=UTC) + dt.timedelta(days=32)
                at = min(at, self.now)
                state = {"version": 1, "product_id": product, "month": month, "units": rng.randint(500, 5000), "entered_by_id": self.manager_id, "entered_at": at}
                state["id"] = units.add(**state)
                unit_history.snapshot(state, at=at, user_id=self.manager_id, kind="+", reason="Monthly shipments", action="create")
            month = (month + dt.timedelta(days=32)).replace(day=1)
        self.counts["kpi_snapshots"] = count

    def notifications(self):
        from qms.models import Notification

        rng = self.rng
        rows = self.rows(Notification)
        for user in self.quality:
            for k in range(40):
                at = self.now - dt.timedelta(hours=k * 7 + rng.random())
                rows.add(recipient_id=user, subject=f"Escalation level 1: CMP-{at.year}-{rng.randint(1, 99999):05d}", body="",
                         url="/complaints/", created_at=at, read_at=None if k < 8 else at + dt.timedelta(hours=1))

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
            "manager": {"username": MANAGER_USERNAME, "password": BENCH_PASSWORD, "id": manager.pk},
            "detail_complaint": list(detail)[len(detail) // 2] if detail else None,
            "investigating_complaints": samples["investigating"][:20],
            "customer_id": Complaint.objects.order_by("pk").values_list("customer_id", flat=True).first(),
            "product_id": self.product_ids[0],
        }


if __name__ == "__main__":
    sys.exit(main())
