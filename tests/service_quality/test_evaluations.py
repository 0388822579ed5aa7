"""Evaluations of an interaction: linked to the complaint and the person evaluated; the evaluator
is never that person; scored on the scorecard revision, submitted, disputed, decided (signed)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.models import Signature
from service_quality import services
from service_quality.models import Evaluation
from tests.conftest import PASSWORD
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(manager, evaluator, agent):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(
        complaint, author=agent, summary="Your reference is CMP-1; we replace the pump."
    )
    return scorecard, complaint, entry


def test_communication_evaluation_is_of_the_entry_author(setting, evaluator, agent):
    scorecard, complaint, entry = setting
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    assert (evaluation.kind, evaluation.subject, evaluation.evaluator) == (
        "communication",
        agent,
        evaluator,
    )
    assert evaluation.reference.startswith("SQE-")


def test_handling_evaluation_is_of_the_assignee(manager, evaluator, agent):
    scorecard = make_scorecard(manager=manager, name="Handling", applies_to="handling")
    complaint = make_complaint(actor=agent, assignee=agent)
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint
    )
    assert (evaluation.kind, evaluation.communication, evaluation.subject) == (
        "handling",
        None,
        agent,
    )


def test_nobody_evaluates_their_own_interaction(setting, manager):
    scorecard, complaint, _ = setting
    own = add_communication(complaint, author=manager, summary="I called the customer.")
    with pytest.raises(ValidationFailed) as error:
        services.evaluation_create(
            actor=manager, scorecard=scorecard, complaint=complaint, communication=own
        )
    assert "evaluator" in error.value.field_errors
    assert not Evaluation.objects.exists()


def test_the_database_refuses_evaluator_equal_subject(setting, evaluator, agent):
    scorecard, complaint, entry = setting
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.filter(pk=evaluation.pk).update(evaluator=agent)


def test_only_evaluators_start_evaluations(setting, staff, auditor):
    scorecard, complaint, entry = setting
    for user in (staff, auditor):
        with pytest.raises(NotAllowed):
            services.evaluation_create(
                actor=user, scorecard=scorecard, complaint=complaint, communication=entry
            )


def test_a_draft_scorecard_cannot_be_used(manager, evaluator, agent):
    draft = make_scorecard(manager=manager, in_force=False)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hello")
    with pytest.raises(ValidationFailed) as error:
        services.evaluation_create(
            actor=evaluator, scorecard=draft, complaint=complaint, communication=entry
        )
    assert "scorecard" in error.value.field_errors


def test_the_scorecard_must_fit_the_interaction(setting, evaluator):
    scorecard, complaint, _ = setting  # a communication scorecard
    with pytest.raises(ValidationFailed) as error:
        services.evaluation_create(actor=evaluator, scorecard=scorecard, complaint=complaint)
    assert "scorecard" in error.value.field_errors


def test_an_entry_of_another_complaint_is_refused(setting, evaluator, agent):
    scorecard, _, entry = setting
    other = make_complaint(actor=agent, assignee=agent, title="Other")
    with pytest.raises(ValidationFailed) as error:
        services.evaluation_create(
            actor=evaluator, scorecard=scorecard, complaint=other, communication=entry
        )
    assert "communication" in error.value.field_errors


def _evaluation(setting, evaluator):
    scorecard, complaint, entry = setting
    return services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )


def test_submit_scores_by_the_rules(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    scorecard = evaluation.scorecard
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            scorecard, reference_quoted="yes", empathy="4", clear_next_step="no"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    evaluation.refresh_from_db()
    # (2*1 + 3*0.75 + 1*0) / 6 = 70.83
    assert evaluation.status == "submitted"
    assert evaluation.score_percent == Decimal("70.83")
    assert evaluation.is_passed is False and evaluation.is_critical_fail is False


def test_critical_fail_fails_the_evaluation(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    answers = answers_by_label(
        evaluation.scorecard, reference_quoted="no", empathy="5", clear_next_step="yes"
    )
    services.evaluation_score(evaluation, actor=evaluator, answers=answers)
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    evaluation.refresh_from_db()
    assert evaluation.is_critical_fail is True and evaluation.is_passed is False


def test_submit_needs_every_answer(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    services.evaluation_score(
        evaluation, actor=evaluator, answers=answers_by_label(evaluation.scorecard, empathy="4")
    )
    with pytest.raises(IllegalTransition, match="Reference quoted"):
        services.evaluation_transition(evaluation, "submit", actor=evaluator)


def test_only_the_evaluator_scores_and_submits(setting, evaluator, manager):
    evaluation = _evaluation(setting, evaluator)
    answers = answers_by_label(
        evaluation.scorecard, reference_quoted="yes", empathy="4", clear_next_step="yes"
    )
    with pytest.raises(NotAllowed):
        services.evaluation_score(evaluation, actor=manager, answers=answers)
    services.evaluation_score(evaluation, actor=evaluator, answers=answers)
    with pytest.raises(NotAllowed):
        services.evaluation_transition(evaluation, "submit", actor=manager)


def test_a_changed_answer_needs_a_reason_and_keeps_history(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    scorecard = evaluation.scorecard
    services.evaluation_score(
        evaluation, actor=evaluator, answers=answers_by_label(scorecard, empathy="2")
    )
    with pytest.raises(ValidationFailed) as error:
        services.evaluation_score(
            evaluation, actor=evaluator, answers=answers_by_label(scorecard, empathy="4")
        )
    assert "reason" in error.value.field_errors
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(scorecard, empathy="4"),
        reason="Listened again",
    )
    score = evaluation.scores.get()
    assert [h.answer for h in score.history.order_by("history_id")] == ["2", "4"]
    assert score.history.first().history_change_reason == "Listened again"


@pytest.mark.parametrize(
    "answers",
    [{"99999": {"answer": "yes"}}, {"abc": {"answer": "yes"}}, {}, "yes", None],
)
def test_bad_answers_are_refused(setting, evaluator, answers):
    evaluation = _evaluation(setting, evaluator)
    with pytest.raises(ValidationFailed):
        services.evaluation_score(evaluation, actor=evaluator, answers=answers)
    assert not evaluation.scores.exists()


def test_an_answer_off_the_criterion_scale_is_refused(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    scorecard = evaluation.scorecard
    with pytest.raises(ValidationFailed):
        services.evaluation_score(
            evaluation,
            actor=evaluator,
            answers=answers_by_label(scorecard, empathy="yes", reference_quoted="yes"),
        )
    assert not evaluation.scores.exists()  # nothing half-written


def test_submitted_scores_are_frozen(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    answers = answers_by_label(
        evaluation.scorecard, reference_quoted="yes", empathy="4", clear_next_step="yes"
    )
    services.evaluation_score(evaluation, actor=evaluator, answers=answers)
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    with pytest.raises(IllegalTransition):
        services.evaluation_score(evaluation, actor=evaluator, answers=answers, reason="late")


def _submitted(setting, evaluator):
    evaluation = _evaluation(setting, evaluator)
    answers = answers_by_label(
        evaluation.scorecard, reference_quoted="yes", empathy="3", clear_next_step="no"
    )
    services.evaluation_score(evaluation, actor=evaluator, answers=answers)
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    return evaluation


def test_the_person_evaluated_disputes_and_a_manager_decides_signed(
    setting, evaluator, agent, manager
):
    evaluation = _submitted(setting, evaluator)
    with pytest.raises(NotAllowed):
        services.evaluation_transition(evaluation, "dispute", actor=evaluator, reason="x")
    with pytest.raises(ValidationFailed):
        services.evaluation_transition(evaluation, "dispute", actor=agent, reason="")
    services.evaluation_transition(
        evaluation, "dispute", actor=agent, reason="I gave the next step on the phone."
    )
    services.evaluation_transition(
        evaluation, "send_back", actor=manager, password=PASSWORD, reason="Phone note confirms it"
    )
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and evaluation.score_percent is None
    signature = Signature.objects.get(content_type__model="evaluation", object_id=evaluation.pk)
    assert signature.signer == manager


def test_a_manager_who_evaluated_does_not_decide_the_dispute(manager, agent, manager2):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hello")
    evaluation = services.evaluation_create(
        actor=manager, scorecard=scorecard, complaint=complaint, communication=entry
    )
    services.evaluation_score(
        evaluation,
        actor=manager,
        answers=answers_by_label(
            scorecard, reference_quoted="yes", empathy="1", clear_next_step="no"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=manager)
    services.evaluation_transition(evaluation, "dispute", actor=agent, reason="Unfair")
    with pytest.raises(NotAllowed):
        services.evaluation_transition(
            evaluation, "uphold", actor=manager, password=PASSWORD, reason="Fair"
        )
    services.evaluation_transition(
        evaluation, "uphold", actor=manager2, password=PASSWORD, reason="Fair"
    )
    evaluation.refresh_from_db()
    assert evaluation.status == "upheld"
