"""Two years of demo history (issue 18 item 9): without it every trend chart is flat for two
years and jumps in the last week, because the hand-made demo records all happen now.

A few hundred complaints with their surveys, a CAPA a month from them, and two work
instructions revised every few months with their training, built through the services with the
clock set back to each step's moment (time-machine), so every record has its history rows,
transitions, signatures and hash-chain links exactly as if it had happened then. The numbers
drift the way a QMS that works should: fewer complaints, faster answers, happier customers,
training signed sooner; with a seasonal swing and noise so no chart is a ruler.

Deterministic (a fixed random seed) and idempotent (marker: the first history customer).
QMS_DEMO_HISTORY_COMPLAINTS sets the number of complaints (the test settings keep it small).

This module holds what the seeders share (the clock, the people, the drift, the data); the
seeders live with the highest app they write, since the kernel imports no app:
capa.demo_history.seed_records (complaints and CAPAs), training.demo_history.seed_documents
(documents and their training). manage.py seed_demo runs them."""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model

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
