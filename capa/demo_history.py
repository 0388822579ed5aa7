"""Two years of demo complaints with their surveys, and the CAPAs raised from them (issue 18
item 9), built through the services with the clock set back; the calendar, people and the
drift of the numbers are the kernel's (qms/demo_history.py). Here, in capa, because it writes
complaints and the CAPAs raised from them (docs/architecture.md "The apps and their layers")."""

from __future__ import annotations

import datetime
import os
import random

from django.utils import timezone

from qms.demo import DEMO_PASSWORD
from qms.demo_history import (
    COMMENTS,
    CUSTOMERS,
    DAYS,
    DEFAULT_COMPLAINTS,
    KINDS,
    MARKER_EMAIL,
    QUIET_DAYS,
    _arrivals,
    _clock,
    _mode,
    _people,
    _progress,
    _season,
)


def seed_records(log=print) -> None:
    """Complaints with their surveys, and the CAPAs raised from them (before the hand-made demo,
    so references run in time order)."""
    from complaints import services
    from complaints.demo import PRODUCTS, survey_token
    from complaints.models import Category, Customer, FailureMode, Product

    if Customer.objects.filter(email=MARKER_EMAIL).exists():
        log("  demo history present already")
        return
    staff, staff2, manager = _people()
    if manager is None:
        log("  demo users missing; run the qms seeder first")
        return
    count = int(os.environ.get("QMS_DEMO_HISTORY_COMPLAINTS", DEFAULT_COMPLAINTS))
    rng = random.Random(18)  # noqa: S311 (demo data, reproducible)
    now = timezone.now()
    start = (now - datetime.timedelta(days=DAYS)).replace(hour=8, minute=0, second=0, microsecond=0)
    handlers = [staff, staff2]
    with _clock(start) as clock:
        products = {}
        for code, name in PRODUCTS:
            products[code] = Product.objects.filter(code=code).first() or services.product_create(actor=staff, code=code, name=name)
        customers = [services.customer_create(actor=staff, name=n, organisation=o, email=e) for n, o, e in CUSTOMERS]
        categories = {c.name: c for c in Category.objects.all()}
        for name in sorted({kind[2] for kind in KINDS} - set(categories)):
            categories[name] = services.category_create(actor=manager, name=name)
        modes = {(m.category.name, m.name): m for m in FailureMode.objects.select_related("category")}
        weights = [kind[-1] for kind in KINDS]
        surveyed = closed = 0
        capa_sources = []
        for index, received_at in enumerate(_arrivals(rng, count, start)):
            title, code, category, mode, severity, channel, _w = rng.choices(KINDS, weights)[0]
            p = _progress(received_at, start)
            worker = handlers[index % 2]
            clock.move_to(received_at)
            complaint = services.complaint_create(
                actor=worker, title=title, severity=severity, channel=channel,
                description=f"{title}: reported by {customers[index % len(customers)].organisation or 'a private customer'}.",
                customer=customers[rng.randrange(len(customers))], product=products.get(code),
                category=categories.get(category), failure_mode=_mode(rng, modes, category, mode, p),
                lot_number=f"LOT-{20 + index // 40}{index % 40:02d}" if code else "", assignee=worker, received_at=received_at,
            )
            if rng.random() < 0.04:
                clock.move_to(received_at + datetime.timedelta(hours=3))
                services.complaint_transition(complaint, "reject", actor=worker, reason="Not a complaint: a question about use, answered.")
                continue
            # Answers get faster as the team learns: hours to acknowledge, days to resolve.
            ack = received_at + datetime.timedelta(hours=rng.uniform(0.5, 1.0) * (14 - 10 * p) + rng.uniform(0, 3))
            clock.move_to(ack)
            services.complaint_transition(complaint, "acknowledge", actor=worker)
            clock.move_to(ack + datetime.timedelta(hours=1))
            services.complaint_transition(complaint, "investigate", actor=worker)
            resolved_at = ack + datetime.timedelta(days=rng.uniform(0.5, 1.5) * (14 - 9 * p) + (3 if severity == "high" else 0))
            clock.move_to(resolved_at)
            services.complaint_transition(complaint, "resolve", actor=worker, data={
                "resolution": f"Cause found and corrected; the customer received a replacement and an explanation ({complaint.reference})."})
            clock.move_to(resolved_at + datetime.timedelta(days=1))
            high = severity == "high"
            services.complaint_transition(complaint, "close", actor=manager, password=DEMO_PASSWORD, data={
                "investigation_required": "yes" if high else "no",
                "no_investigation_reason": "" if high else "Isolated logistics or service issue; no product nonconformity.",
                "is_reportable": "no",
                "reportability_reason": "No death or serious injury, and a recurrence could not cause one (MDR/vigilance criteria not met).",
            })
            closed += 1
            token = survey_token(complaint)
            if token and rng.random() < 0.55:
                clock.move_to(resolved_at + datetime.timedelta(days=rng.uniform(1.2, 4)))
                csat = min(5, max(1, round(rng.gauss(2.9 + 1.7 * p + 0.3 * _season(received_at), 0.9))))
                services.survey_answer(token=token, csat=csat, ces=min(7, max(1, csat + rng.choice([0, 1, 2]))),
                                       nps=min(10, max(0, 2 * csat + rng.choice([-1, 0, 0, 1]))), comment=COMMENTS[csat])
                surveyed += 1
            if high and rng.random() < 0.35:
                capa_sources.append((complaint, resolved_at))
    log(f"  {count} complaints over two years ({closed} closed, {surveyed} surveys answered)")
    _capas(capa_sources, rng=rng, staff=staff, staff2=staff2, manager=manager, start=start, log=log)


def _capas(sources, *, rng, staff, staff2, manager, start, log) -> None:
    """A CAPA from some high-severity complaints: analysed, acted on, verified after its
    observation window and closed with the manager's signature; later ones close sooner, a few
    not effective the first time."""
    from capa import services
    from capa.models import DEFAULT_OBSERVATION_DAYS, EffectivenessCheck

    cutoff = timezone.now() - datetime.timedelta(days=QUIET_DAYS + DEFAULT_OBSERVATION_DAYS + 30)
    made = 0
    with _clock(start) as clock:
        for complaint, resolved_at in sources:
            if resolved_at > cutoff:
                break
            p = _progress(resolved_at, start)
            owner = staff if made % 2 else staff2
            at = resolved_at + datetime.timedelta(days=2)
            clock.move_to(at)
            late = rng.random() < 0.5 - 0.4 * p
            capa = services.capa_create(
                actor=owner, title=f"{complaint.title} ({complaint.product.code if complaint.product else 'service'})",
                complaints=[complaint], source="complaint", owner=owner, severity=4, occurrence=2,
                problem_statement=f"{complaint.reference}: {complaint.description}",
                due_date=(at + datetime.timedelta(days=DEFAULT_OBSERVATION_DAYS + 40)).date(),
            )
            services.capa_transition(capa, "start_investigation", actor=owner)
            clock.move_to(at + datetime.timedelta(days=5))
            services.root_cause_save(capa, actor=owner, reason="Root cause workshop",
                                     whys=[{"why": f"Why did this happen ({complaint.title.lower()})?", "because": "The check that would catch it was not in the inspection plan."}],
                                     fishbone={"method": ["Inspection plan incomplete"]},
                                     conclusion="The inspection plan did not cover this failure mode.")
            services.capa_transition(capa, "plan_actions", actor=owner)
            action = services.action_create(capa, actor=owner, action_type="process_change", owner=owner,
                                            description="Add the missing check to the inspection plan.",
                                            due_date=(at + datetime.timedelta(days=30)).date())
            services.check_create(capa, actor=owner, criteria="No complaint of this kind for the observation window.", verifier=manager)
            services.capa_transition(capa, "implement", actor=owner)
            clock.move_to(at + datetime.timedelta(days=rng.uniform(10, 25) + (40 if late else 0)))
            services.action_transition(action, "complete", actor=owner, data={"evidence": "Inspection plan revised and released."})
            services.capa_transition(capa, "verify", actor=owner, reason="All actions done")
            check = EffectivenessCheck.objects.get(capa=capa, result="pending")
            clock.move_to(datetime.datetime.combine(check.due_date, datetime.time(10), tzinfo=datetime.UTC))
            if rng.random() < 0.2 - 0.1 * p:
                services.check_record_result(check, "mark_not_effective", actor=manager, reason="A repeat complaint in the window.",
                                             evidence="Repeat complaint of the same kind.")
                made += 1
                continue
            services.check_record_result(check, "mark_effective", actor=manager, password=DEMO_PASSWORD,
                                         reason="No repeat in the observation window.", evidence="Complaint log reviewed.")
            services.capa_transition(capa, "close", actor=manager, password=DEMO_PASSWORD, reason="Verified effective")
            made += 1
    log(f"  {made} CAPAs from those complaints")
