"""CAPAs with root cause analyses, actions, effectiveness checks, transitions and signatures;
KPI snapshots, targets and shipped units; notifications."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from bench.seed.data import UTC, WORDS_PROBLEM, weighted


class CapaSeeding:
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
