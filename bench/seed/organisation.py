"""The organisation: departments, users and their roles, documents with their revisions, training."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bench.seed.data import (
    BENCH_PASSWORD,
    FIRST,
    FUNCTIONS,
    LAST,
    WORDS_PROBLEM,
    weighted,
)


class OrganisationSeeding:
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
