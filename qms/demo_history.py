"""Two years of demo history (issue 18 item 9): without it every trend chart is flat for two
years and jumps in the last week, because the hand-made demo records all happen now.

A few hundred complaints with their surveys, a CAPA a month from them, and two work
instructions revised every few months with their training, built through the services with the
clock set back to each step's moment (time-machine), so every record has its history rows,
transitions, signatures and hash-chain links exactly as if it had happened then. The numbers
drift the way a QMS that works should: fewer complaints, faster answers, happier customers,
training signed sooner; with a seasonal swing and noise so no chart is a ruler.

Deterministic (a fixed random seed) and idempotent (marker: the first history customer).
QMS_DEMO_HISTORY_COMPLAINTS sets the number of complaints (the test settings keep it small)."""

from __future__ import annotations

import datetime
import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from qms import roles as qms_roles
from qms.demo import DEMO_PASSWORD

DAYS = 730  # two years
QUIET_DAYS = 21  # the hand-made demo records own the last three weeks
DEFAULT_COMPLAINTS = 300
MARKER_EMAIL = "stores@harbourview-infirmary.example"

CUSTOMERS = [
    ("Gwen Pryce", "Harbourview Infirmary", MARKER_EMAIL),
    ("Dr Amir Sadeghi", "Westgate Dialysis Unit", "a.sadeghi@westgate-dialysis.example"),
    ("Claire Dubois", "Maple Court Nursing Home", "claire@maplecourt.example"),
    ("Ben Carter", "", "ben.carter@mail.example"),
    ("Ruth Adeyemi", "Eastfield Community Pharmacy", "orders@eastfield-pharmacy.example"),
    ("Lars Eriksen", "Nordby Private Clinic", "lars.eriksen@nordby-clinic.example"),
    ("Fiona Walsh", "County Ambulance Service", "equipment@county-ambulance.example"),
    ("Hiro Tanaka", "Bayside Surgical Centre", "h.tanaka@bayside-surgical.example"),
]

# (title, product code, category, failure mode, severity, channel, weight)
KINDS = [
    ("Occlusion alarm late", "INF-200", "Product defect", "Alarm silent or delayed", "high", "phone", 3),
    ("Pump battery does not hold charge", "INF-200", "Product defect", "Battery drains", "medium", "email", 4),
    ("Alarm hard to hear on the ward", "INF-200", "Product defect", "Alarm too quiet", "medium", "web_form", 3),
    ("Kit short of a component", "CVC-14", "Packaging / labelling", "Component missing", "high", "phone", 3),
    ("Instructions for use missing", "CVC-14", "Documentation", "Manual or IFU missing or wrong", "medium", "email", 2),
    ("Meter reading differs from the lab", "GLU-3", "Product defect", "Reading inaccurate", "high", "web_form", 4),
    ("Strips delivered short-dated", "GLU-3", "Delivery", "Short shelf life on arrival", "low", "email", 4),
    ("Peel seal open on a dressing pack", "STD-50", "Packaging / labelling", "Sterile seal open", "high", "in_person", 2),
    ("Short delivery of dressing packs", "STD-50", "Delivery", "Wrong or short quantity", "low", "email", 5),
    ("Service engineer without parts", "SVC-FIELD", "Service", "Engineer without parts", "low", "phone", 3),
    ("Invoice does not match the order", None, "Billing", "Duplicate invoice", "low", "email", 3),
]

COMMENTS = {
    1: "Nobody kept us informed.", 2: "Slow, and we had to chase twice.", 3: "Sorted in the end.",
    4: "Good follow-up.", 5: "Quick and clear, thank you.",
}

WORK_INSTRUCTIONS = [
    ("Infusion pump pre-use check", "Check the pump's self-test, the occlusion alarm and the battery before each use."),
    ("Sterile pack inspection at goods-in", "Inspect every sterile pack's peel seal and label before it is put away."),
]


@contextmanager
def _clock(start: datetime.datetime) -> Iterator:
    """The clock set back for the history; time-machine moves Django's now(), the database
    defaults and every history row with it."""
    import time_machine

    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _people():
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["staff", "staff2", "manager"])}
    return users.get("staff"), users.get("staff2"), users.get("manager")


def _progress(at: datetime.datetime, start: datetime.datetime) -> float:
    """0 at the start of the history, 1 at its end."""
    return min(max((at - start) / datetime.timedelta(days=DAYS - QUIET_DAYS), 0.0), 1.0)


def _season(at: datetime.datetime) -> float:
    """-1..1 over the year: more complaints in winter (respiratory season on the wards)."""
    return math.cos(2 * math.pi * (at.timetuple().tm_yday - 20) / 365.25)


def _arrivals(rng: random.Random, count: int, start: datetime.datetime) -> list[datetime.datetime]:
    """`count` complaint arrival times over the history, denser early and in winter."""
    span = datetime.timedelta(days=DAYS - QUIET_DAYS)
    times = []
    while len(times) < count:
        at = start + span * rng.random()
        weight = (1.4 - 0.7 * _progress(at, start)) * (1 + 0.3 * _season(at))
        if rng.random() < weight / 1.9:
            hour = rng.choice([8, 9, 9, 10, 11, 13, 14, 15, 16])
            times.append(at.replace(hour=hour, minute=rng.randrange(60)))
    return sorted(times)


def _mode(rng: random.Random, modes: dict, category: str, usual: str, p: float):
    """The failure mode: early on mostly the usual one of the kind (the same fault again and
    again), later more often another mode of the category, as the CAPAs remove the repeats."""
    if rng.random() < 0.15 + 0.75 * p:
        return rng.choice([mode for (cat, _name), mode in modes.items() if cat == category] or [None])
    return modes.get((category, usual))


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


def seed_documents(log=print) -> None:
    """Two work instructions revised every few months since two years ago, each revision
    trained by the employees (signed, some late): the training compliance trend."""
    from documents import services as documents
    from documents.models import Document, DocumentType
    from training import services as training
    from training.models import AssignmentStatus, TrainingAssignment

    if Document.objects.filter(title=WORK_INSTRUCTIONS[0][0]).exists():
        log("  document history present already")
        return
    staff, staff2, manager = _people()
    if manager is None:
        return
    rng = random.Random(9)  # noqa: S311 (demo data, reproducible)
    end = timezone.now() - datetime.timedelta(days=QUIET_DAYS + 30)  # read before the clock is set back
    start = (timezone.now() - datetime.timedelta(days=DAYS - 5)).replace(hour=9, minute=0, second=0, microsecond=0)
    revisions = signed = 0
    with _clock(start) as clock:
        employees = Group.objects.get(name=qms_roles.EMPLOYEE)
        for title, purpose in WORK_INSTRUCTIONS:
            at = start + datetime.timedelta(days=rng.randrange(20))
            clock.move_to(at)
            document = documents.document_create(actor=staff, title=title, doc_type=DocumentType.WORK_INSTRUCTION, owner=staff,
                                                 review_period_months=12, content_text=f"1. Purpose\n{purpose}\n", effective_from=at.date())
            version = document.versions.get()
            requirement = None
            rev = 1
            while at < end:
                documents.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]}, reason="Ready for review.")
                clock.move_to(at + datetime.timedelta(days=2))
                documents.version_transition(version, "review", actor=staff2, reason="Checked against current practice.")
                documents.version_transition(version, "approve", actor=manager, password=DEMO_PASSWORD, meaning="Approved", reason="Approved for use.")
                documents.version_transition(version, "make_effective", actor=staff, reason="Released on approval.")
                revisions += 1
                if requirement is None:
                    requirement = training.requirement_create(actor=staff, document=document, role=employees, due_days=14,
                                                              reason="Demo history: every employee is trained on it")
                    training.assign_for_requirement(requirement=requirement)
                else:
                    training.assign_for_version(document_version_id=version.pk)
                p = _progress(at, start)
                for assignment in TrainingAssignment.objects.filter(document_version=version, status=AssignmentStatus.ASSIGNED).select_related("user"):
                    if not assignment.user.has_usable_password():
                        continue
                    clock.move_to(at + datetime.timedelta(days=2 + rng.uniform(1, 6) + rng.uniform(0, 30) * (1 - p)))
                    training.assignment_transition(assignment, "complete", actor=assignment.user, password=DEMO_PASSWORD)
                    signed += 1
                at += datetime.timedelta(days=rng.randrange(110, 170))
                clock.move_to(at)
                rev += 1
                version = documents.version_create(document=document, actor=staff, effective_from=at.date(),
                                                   content_text=f"1. Purpose\n{purpose}\n\n2. Steps (revision {rev})\nAs trained.\n",
                                                   change_summary=f"Revision {rev}: steps clarified after the last internal audit.")
            documents.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]}, reason="Ready for review.")
    log(f"  {revisions} revisions of {len(WORK_INSTRUCTIONS)} work instructions over two years, {signed} training records signed")
