"""Complaints with customers, products, failure modes, their workflow path, SLA deadlines and
escalations, communications, surveys and closure signatures."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal

from bench.seed.data import FIRST, FOUND_DURING, LAST, WORDS_PROBLEM, weighted


class ComplaintSeeding:
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
