"""Service-quality test helpers: scorecards and evaluations are built through the services, so
transitions, history and signatures exist as in real use."""

import pytest
from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from service_quality import services
from tests.conftest import PASSWORD, make_user


@pytest.fixture
def evaluator(db):
    """Quality Staff with the evaluator job function."""
    return make_user("evaluator", qms_roles.STAFF, job_function="Evaluator")


@pytest.fixture
def agent(db, manager):
    """Quality Staff who handles customers; the manager is their team lead."""
    return make_user("agent", qms_roles.STAFF, manager=manager)


@pytest.fixture
def agent2(db):
    return make_user("agent2", qms_roles.STAFF)


@pytest.fixture
def manager2(db):
    return make_user("manager2", qms_roles.MANAGER)


def make_complaint(*, actor, assignee=None, title="Pump alarm keeps sounding", received_at=None):
    from complaints.models import Complaint, Customer
    from qms.references import allocate_reference

    with transaction.atomic():
        customer = Customer.objects.get_or_create(
            name="Acme Clinic", defaults={"email": "buyer@acme.example"}
        )[0]
        return Complaint.objects.create(
            reference=allocate_reference("CMP"),
            title=title,
            description="The alarm sounds without a reason.",
            customer=customer,
            severity="medium",
            created_by=actor,
            assignee=assignee,
            received_at=received_at or timezone.now(),
        )


def add_communication(complaint, *, author, summary, direction="outbound", at=None):
    from complaints.models import Communication

    return Communication.objects.create(
        complaint=complaint,
        direction=direction,
        channel="email",
        summary=summary,
        author=author,
        at=at or timezone.now(),
    )


def make_scorecard(
    *, manager, in_force=True, name="Customer e-mail", applies_to="communication", criteria=None
):
    """A scorecard with two sections; `criteria` is a list of dicts for criterion_add."""
    scorecard = services.scorecard_create(
        actor=manager, name=name, applies_to=applies_to, pass_mark=80
    )
    compliance = services.section_add(scorecard, actor=manager, title="Compliance")
    communication = services.section_add(scorecard, actor=manager, title="Communication")
    sections = {"Compliance": compliance, "Communication": communication}
    criteria = criteria or [
        {
            "section": "Compliance",
            "label": "Reference quoted",
            "scale": "yes_no",
            "weight": 2,
            "is_critical": True,
        },
        {"section": "Communication", "label": "Empathy", "scale": "one_to_five", "weight": 3},
        {"section": "Communication", "label": "Clear next step", "scale": "yes_no", "weight": 1},
    ]
    for item in criteria:
        item = dict(item)
        item["section"] = sections[item["section"]]
        services.criterion_add(scorecard, actor=manager, **item)
    if in_force:
        services.scorecard_transition(
            scorecard, "approve", actor=manager, password=PASSWORD, reason="Reviewed"
        )
        services.scorecard_transition(scorecard, "put_in_force", actor=manager)
    scorecard.refresh_from_db()
    return scorecard


def answers_by_label(scorecard, **by_label):
    """{criterion id: answer} from label keywords with spaces as underscores."""
    ids = {c.label.replace(" ", "_").lower(): c.pk for c in scorecard.criteria.all()}
    return {ids[key]: {"answer": value} for key, value in by_label.items()}


@pytest.fixture
def friction_list(db):
    """The default friction list of migration 0005 (a transactional test's flush empties it)."""
    import importlib

    from django.apps import apps

    importlib.import_module(
        "service_quality.migrations.0005_default_friction_phrases"
    ).seed_friction_phrases(apps, None)
