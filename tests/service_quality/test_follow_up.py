"""Coaching, issue 17 item 6: an optional training assignment on a controlled document (made by
the training app's service), and the follow-up evaluation due N days after the agreed action,
drawn as an evaluation task for an evaluator and shown on the coaching page."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import ValidationFailed
from qms.models import Notification
from service_quality import evaluator as auto_evaluator
from service_quality import sampling, services
from service_quality.models import CoachingRecord, EvaluationTask
from tests.conftest import PASSWORD, make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)
from tests.training.conftest import make_document, release_version

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def submitted(clock, manager, evaluator, agent):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent, received_at=NOW - timedelta(days=2))
    entry = add_communication(
        complaint, author=agent, summary="We will look into it.", at=NOW - timedelta(days=1)
    )
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            scorecard, reference_quoted="yes", empathy="2", clear_next_step="no"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def sop(staff, manager):
    document = make_document(staff, title="Writing to customers")
    release_version(document.versions.get(), author=staff, approver=manager)
    document.refresh_from_db()
    return document


def coach(evaluation, actor, **changes):
    values = {
        "moment": "The reply gave no date for the next step.",
        "what_good_looks_like": "'The engineer calls you on Friday before noon.'",
        "agreed_action": "Use the reply checklist for a week.",
        "due_on": timezone.localdate() + timedelta(days=7),
        **changes,
    }
    return services.coaching_create(evaluation, actor=actor, **values)


# --- training on a controlled document ----------------------------------------------------------


def test_coaching_assigns_training_on_the_documents_effective_revision(
    submitted, evaluator, agent, sop
):
    from training.models import TrainingAssignment

    record = coach(submitted, evaluator, training_document=sop)
    assignment = TrainingAssignment.objects.get(user=agent)
    assert record.training_assignment == assignment
    assert assignment.document_version == sop.effective_version
    assert assignment.source == "requested" and assignment.due_date == record.due_on
    made = assignment.history.get()
    assert made.history_user == evaluator and submitted.reference in made.history_change_reason
    assert Notification.objects.filter(recipient=agent, subject__contains="Training").exists()


def test_coaching_without_training_assigns_none(submitted, evaluator, sop):
    from training.models import TrainingAssignment

    assert coach(submitted, evaluator).training_assignment is None
    assert not TrainingAssignment.objects.exists()


def test_a_document_without_an_effective_revision_is_refused(submitted, evaluator, staff):
    draft = make_document(staff, title="Not yet released")
    with pytest.raises(ValidationFailed) as error:
        coach(submitted, evaluator, training_document=draft)
    assert "training_document" in error.value.field_errors
    assert not CoachingRecord.objects.exists()


def test_open_training_on_that_revision_is_reused_and_signed_training_is_refused(
    submitted, evaluator, agent, sop
):
    from training import services as training_services

    first = coach(submitted, evaluator, training_document=sop)
    second = coach(submitted, evaluator, training_document=sop)
    assert second.training_assignment_id == first.training_assignment_id
    training_services.assignment_transition(
        first.training_assignment, "complete", actor=agent, password=PASSWORD
    )
    with pytest.raises(ValidationFailed) as error:
        coach(submitted, evaluator, training_document=sop)
    assert "signed" in error.value.field_errors["training_document"][0]


def test_the_training_service_refuses_read_only_and_unknown_people(auditor, agent, sop):
    from qms.errors import NotAllowed
    from training import services as training_services

    with pytest.raises(NotAllowed):
        training_services.assignment_request(
            user=agent,
            document=sop,
            due_date=timezone.localdate(),
            actor=auditor,
            reason="Coaching",
        )


def test_the_coaching_form_offers_effective_documents_and_the_page_links_the_training(
    submitted, evaluator, agent, sop, client_for
):
    client = client_for(evaluator)
    page = client.get(submitted.get_absolute_url()).content.decode()
    assert "id_training_document" in page and sop.number in page
    response = client.post(
        f"/service-quality/evaluations/{submitted.pk}/coaching/",
        {
            "moment": "m",
            "what_good_looks_like": "g",
            "agreed_action": "a",
            "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "follow_up_days": "10",
            "training_document": sop.pk,
        },
    )
    assert response.status_code == 302
    record = CoachingRecord.objects.get()
    assert record.follow_up_due_on == record.due_on + timedelta(days=10)
    page = client_for(agent).get(record.get_absolute_url()).content.decode()
    assert record.training_assignment.get_absolute_url() in page


# --- the follow-up evaluation ---------------------------------------------------------------------


def test_the_follow_up_is_drawn_from_the_action_due_date_for_an_evaluator(
    submitted, evaluator, agent, clock
):
    record = coach(submitted, evaluator, follow_up_days=10)
    later = add_communication(
        submitted.complaint, author=agent, summary="The engineer calls you on Friday at 10."
    )
    auto_evaluator.interactions_evaluate()
    assert sampling.follow_ups_draw() == 0  # the agreed action is not due yet
    clock.shift(timedelta(days=7))
    assert sampling.follow_ups_draw() == 1
    assert sampling.follow_ups_draw() == 0  # a second sweep does nothing
    task = EvaluationTask.objects.get(coaching=record)
    assert (task.reason, task.evaluator, task.subject) == ("follow_up", evaluator, agent)
    assert task.communication == later and task.rule is None
    assert task.due_on == record.follow_up_due_on
    assert Notification.objects.filter(recipient=evaluator, subject__contains="Follow-up").exists()


def test_no_interaction_since_the_coaching_draws_nothing_and_the_page_says_so(
    submitted, evaluator, agent, clock, client_for
):
    record = coach(submitted, evaluator)
    auto_evaluator.interactions_evaluate()
    clock.shift(timedelta(days=8))
    assert sampling.follow_ups_draw() == 0  # the evaluated entry is from before the coaching
    page = client_for(agent).get(record.get_absolute_url()).content.decode()
    assert "waiting for an interaction" in page


def test_the_follow_up_goes_to_another_evaluator_when_the_coach_is_not_one(
    submitted, evaluator, agent, clock
):
    lead = make_user("lead", qms_roles.STAFF)
    agent.manager = lead
    agent.save(update_fields=["manager"])
    record = coach(submitted, lead)
    add_communication(submitted.complaint, author=agent, summary="Friday at 10.")
    auto_evaluator.interactions_evaluate()
    clock.shift(timedelta(days=7))
    sampling.follow_ups_draw()
    assert EvaluationTask.objects.get(coaching=record).evaluator == evaluator


def test_the_follow_up_evaluation_is_shown_on_the_coaching_page(
    submitted, evaluator, agent, clock, client_for
):
    record = coach(submitted, evaluator)
    add_communication(submitted.complaint, author=agent, summary="Friday at 10, ref CMP.")
    auto_evaluator.interactions_evaluate()
    clock.shift(timedelta(days=7))
    sampling.follow_ups_draw()
    task = EvaluationTask.objects.get(coaching=record)
    page = client_for(agent).get(record.get_absolute_url()).content.decode()
    assert "Follow-up evaluation" in page and evaluator.full_name in page
    evaluation = sampling.task_start(task, actor=evaluator)
    assert evaluation.scorecard == submitted.scorecard
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            evaluation.scorecard, reference_quoted="yes", empathy="5", clear_next_step="yes"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    page = client_for(agent).get(record.get_absolute_url()).content.decode()
    assert evaluation.reference in page and "100.00 %" in page


def test_follow_up_days_are_checked(submitted, evaluator):
    with pytest.raises(ValidationFailed) as error:
        coach(submitted, evaluator, follow_up_days=0)
    assert "follow_up_days" in error.value.field_errors
