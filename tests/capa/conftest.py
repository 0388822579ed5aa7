"""CAPA test helpers: records are built through the services (so transitions, history and
signatures exist as in real use); complaints are minimal valid rows."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from capa import services
from qms import roles as qms_roles
from tests.conftest import PASSWORD, make_user


@pytest.fixture
def staff2(db):
    return make_user("staff2", qms_roles.STAFF)


@pytest.fixture
def manager2(db):
    return make_user("manager2", qms_roles.MANAGER)


# A fixed instant for the tests of the observation window and the segregation of duties: a
# Monday morning, away from clock changes and month ends. The clock ticks from there.
PLANNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The day after the default observation window (90 days after implementation) of a CAPA taken
# to its effectiveness check at PLANNED_AT.
AFTER_WINDOW = PLANNED_AT + timedelta(days=91)


@pytest.fixture
def clock():
    """The clock at PLANNED_AT; `clock.move_to(instant)` moves it (time-machine)."""
    with time_machine.travel(PLANNED_AT, tick=True) as traveller:
        yield traveller


def today():
    return timezone.localdate()


def make_complaint(
    *, actor, product=None, category=None, failure_mode=None, received_at=None, title="Seal leaks after one week", **extra
):
    from complaints.models import Category, Complaint, Customer, FailureMode, Product
    from complaints.services import recurrence_key_for
    from qms.references import allocate_reference

    with transaction.atomic():
        customer = Customer.objects.get_or_create(name="Acme Clinic", defaults={"email": "buyer@acme.example"})[0]
        product = product or Product.objects.get_or_create(code="PX-100", defaults={"name": "Infusion pump"})[0]
        category = category or Category.objects.get_or_create(name="Leak")[0]
        failure_mode = failure_mode or FailureMode.objects.get_or_create(category=category, name="Seal leaks")[0]
        complaint = Complaint(
            reference=allocate_reference("CMP"),
            title=title,
            description="The seal leaks after a week of use.",
            customer=customer,
            product=product,
            category=category,
            failure_mode=failure_mode,
            severity="high",
            created_by=actor,
            received_at=received_at or timezone.now(),
            **extra,
        )
        complaint.recurrence_key = recurrence_key_for(complaint)
        complaint.save()
        return complaint


_ACTOR = object()


def make_capa(*, actor, owner=_ACTOR, **fields):
    values = {
        "title": "Pump seals leak",
        "problem_statement": "Three customers report leaking seals within a week.",
        "owner": actor if owner is _ACTOR else owner,
        "due_date": today() + timedelta(days=60),
        "severity": 4,
        "occurrence": 3,
    }
    values.update(fields)
    return services.capa_create(actor=actor, **values)


def conclude(capa, *, actor, conclusion="Seal supplier changed the compound without notice."):
    return services.root_cause_save(
        capa,
        actor=actor,
        whys=[{"why": "Why does the seal leak?", "because": "The compound is too soft."}],
        fishbone={"material": ["Softer compound"], "method": ["No incoming inspection"]},
        conclusion=conclusion,
    )


def advance(capa, to: str, *, actor, verifier, manager=None):
    """Take a CAPA along the happy path up to state `to` (through the services)."""
    order = ["open", "investigation", "action_planning", "implementation", "effectiveness_check", "closed"]
    target = order.index(to)
    capa.refresh_from_db()
    if order.index(capa.status) < 1 <= target:
        services.capa_transition(capa, "start_investigation", actor=actor)
    if target >= 2 and capa.status == "investigation":
        conclude(capa, actor=actor)
        services.capa_transition(capa, "plan_actions", actor=actor)
    if target >= 3 and capa.status == "action_planning":
        action = services.action_create(
            capa, actor=actor, action_type="fix", description="Replace the seals in stock", owner=actor, due_date=today() + timedelta(days=10)
        )
        services.check_create(capa, actor=actor, criteria="No leak complaint for 90 days", verifier=verifier)
        services.capa_transition(capa, "implement", actor=actor)
        services.action_transition(action, "complete", actor=actor, data={"evidence": "All 240 seals replaced."})
    if target >= 4 and capa.status == "implementation":
        services.capa_transition(capa, "verify", actor=actor)
    if target >= 5 and capa.status == "effectiveness_check":
        check = capa.checks.get(result="pending")
        # The result is recorded once the observation window is over (the clock moves there).
        with time_machine.travel(datetime.combine(check.due_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9), tick=True):
            services.check_record_result(check, "mark_effective", actor=verifier, evidence="No complaint in 90 days.")
            services.capa_transition(capa, "close", actor=manager, password=PASSWORD, reason="Effective")
    capa.refresh_from_db()
    return capa
