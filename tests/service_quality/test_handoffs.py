"""Hand-offs of service quality (issue 18 item 3): an evaluation task due, a follow-up due,
coaching waiting for acknowledgement (and then for the coach), a dispute waiting for a Quality
Manager's decision: each is on the right person's My work, announced once through
qms.handoffs, and the record page says who must act next."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qms.handoffs import waiting_for
from qms.models import HandoffNotice, Notification
from service_quality import evaluator as auto_evaluator
from service_quality import sampling, services
from service_quality.models import EvaluationTask
from service_quality.selectors import my_work
from tests.conftest import PASSWORD, make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db


def titles(user):
    return {section.title: section for section in my_work(user)}


def submitted_evaluation(scorecard, *, evaluator, agent, summary="We will look into it."):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary=summary)
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
def card(manager):
    return make_scorecard(manager=manager)


def coach(evaluation, actor):
    return services.coaching_create(
        evaluation,
        actor=actor,
        moment="No date for the next step.",
        what_good_looks_like="'On Friday before noon.'",
        agreed_action="Use the checklist.",
        due_on=timezone.localdate() + timedelta(days=3),
    )


def test_a_drawn_task_is_on_the_evaluators_my_work_and_told_once(
    card, manager, evaluator, agent, client_for
):
    complaint = make_complaint(actor=agent, assignee=agent)
    add_communication(complaint, author=agent, summary="Hello")
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="Weekly", scorecard_code=card.code, per_person_per_week=1
    )
    sampling.samples_draw()
    sampling.samples_draw()
    task = EvaluationTask.objects.get()
    doer = task.evaluator
    notices = Notification.objects.filter(recipient=doer, subject__contains="to evaluate")
    assert notices.count() == 1 and complaint.reference in notices.get().subject
    assert HandoffNotice.objects.filter(record_label="service_quality.evaluationtask").count() == 1
    section = titles(doer)["Evaluations to do"]
    assert [item["ref"] for item in section.items] == [complaint.reference]
    assert "Evaluations to do" not in titles(agent)
    page = client_for(doer).get("/").content.decode()
    assert "Evaluations to do" in page and complaint.reference in page


def test_coaching_waits_for_the_person_then_for_the_coach(
    card, manager, evaluator, agent, client_for
):
    evaluation = submitted_evaluation(card, evaluator=evaluator, agent=agent)
    record = coach(evaluation, evaluator)
    told = Notification.objects.filter(recipient=agent, subject__contains="acknowledge")
    assert told.count() == 1
    assert [i["pk"] for i in titles(agent)["Coaching to acknowledge"].items] == [record.pk]
    handoff = waiting_for(record)
    assert handoff.people == [agent] and "acknowledge" in handoff.what
    page = client_for(agent).get(record.get_absolute_url()).content.decode()
    assert f"Waiting for:</strong> {agent.full_name}" in page

    services.coaching_transition(record, "acknowledge", actor=agent, password=PASSWORD)
    record.refresh_from_db()
    assert "Coaching to acknowledge" not in titles(agent)
    assert Notification.objects.filter(
        recipient=evaluator, subject__contains="acknowledged"
    ).exists()
    assert [i["pk"] for i in titles(evaluator)["Coaching to close"].items] == [record.pk]
    assert waiting_for(record).people == [evaluator]
    services.coaching_transition(record, "complete", actor=evaluator)
    record.refresh_from_db()
    assert "Coaching to close" not in titles(evaluator)


def test_a_dispute_waits_for_a_quality_manager_who_did_not_evaluate(
    card, manager, evaluator, agent, client_for
):
    manager2 = make_user("manager2", "Quality Manager")
    evaluation = submitted_evaluation(card, evaluator=manager, agent=agent)
    services.evaluation_transition(evaluation, "dispute", actor=agent, reason="It was quoted.")
    told = Notification.objects.filter(subject__contains="is disputed")
    assert [n.recipient for n in told] == [manager2]  # not the manager who evaluated
    assert [i["pk"] for i in titles(manager2)["Disputes to decide"].items] == [evaluation.pk]
    assert "Disputes to decide" not in titles(manager)
    assert "Disputes to decide" not in titles(evaluator)
    evaluation.refresh_from_db()
    page = client_for(agent).get(evaluation.get_absolute_url()).content.decode()
    assert "Waiting for:</strong> a Quality Manager other than the evaluator" in page

    services.evaluation_transition(
        evaluation, "send_back", actor=manager2, reason="Quoted in line 2", password=PASSWORD
    )
    assert Notification.objects.filter(recipient=manager, subject__contains="rescore").exists()
    assert [i["pk"] for i in titles(manager)["Evaluations to do"].items] == [evaluation.pk]
    assert "Disputes to decide" not in titles(manager2)
    # Rescored and disputed again: a new hand-off, told again.
    evaluation.refresh_from_db()
    services.evaluation_score(
        evaluation,
        actor=manager,
        answers=answers_by_label(card, clear_next_step="yes"),
        reason="Dispute accepted",
    )
    services.evaluation_transition(evaluation, "submit", actor=manager)
    services.evaluation_transition(evaluation, "dispute", actor=agent, reason="Still unfair.")
    assert Notification.objects.filter(subject__contains="is disputed").count() == 2


def test_an_evaluation_started_for_someone_else_is_announced_to_its_evaluator(
    card, manager, evaluator, agent
):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hi")
    evaluation = services.evaluation_create(
        actor=manager,
        scorecard=card,
        complaint=complaint,
        communication=entry,
        evaluator=evaluator,
    )
    assert Notification.objects.filter(
        recipient=evaluator, subject__contains=evaluation.reference
    ).exists()
    assert [i["pk"] for i in titles(evaluator)["Evaluations to do"].items] == [evaluation.pk]
    assert waiting_for(evaluation).people == [evaluator]


def test_auditors_and_outsiders_have_no_service_quality_work(auditor, outsider):
    assert my_work(auditor) == [] and my_work(outsider) == []


def test_my_work_stays_within_the_query_budget_with_every_section(
    card, manager, evaluator, agent, client_for, django_assert_max_num_queries
):
    manager2 = make_user("manager2", "Quality Manager")
    for n in range(3):
        evaluation = submitted_evaluation(card, evaluator=manager, agent=agent, summary=f"R{n}")
        coach(evaluation, manager)
        services.evaluation_transition(evaluation, "dispute", actor=agent, reason="Unfair")
    complaint = make_complaint(actor=agent, assignee=agent)
    for n in range(3):
        add_communication(complaint, author=agent, summary=f"Reply {n}")
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="Weekly", scorecard_code=card.code, per_person_per_week=3
    )
    sampling.samples_draw()
    for user in (manager2, agent, evaluator):
        client = client_for(user)
        client.get("/")
        with django_assert_max_num_queries(12):
            response = client.get("/")
        assert response.status_code == 200
    assert "Disputes to decide" in client_for(manager2).get("/").content.decode()
    assert "Coaching to acknowledge" in client_for(agent).get("/").content.decode()
