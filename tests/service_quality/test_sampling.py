"""Sampling rules drawn into evaluation tasks: N per person per week at random plus targeted
samples; never the person evaluated, never twice the same interaction, safe under concurrent
draws; overdue tasks escalated once."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from complaints.models import Complaint
from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.models import Notification
from service_quality import evaluator as auto_evaluator
from service_quality import sampling, services
from service_quality.models import EvaluationTask
from tests.conftest import make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db

# A Wednesday, mid-morning in London.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def cards(manager, clock):
    return (
        make_scorecard(manager=manager),
        make_scorecard(manager=manager, name="Handling", applies_to="handling"),
    )


def week_of_entries(agent, n, *, complaint=None, start=None):
    complaint = complaint or make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=1)
    )
    start = start or NOW - timedelta(days=1)
    return [
        add_communication(
            complaint, author=agent, summary=f"Reply {i}", at=start + timedelta(minutes=i)
        )
        for i in range(n)
    ]


def test_random_quota_per_person_per_week(cards, manager, evaluator, agent, agent2, clock):
    week_of_entries(agent, 6)
    week_of_entries(agent2, 1)
    week_of_entries(agent, 3, start=NOW - timedelta(days=9))  # last week: not this week's pool
    auto_evaluator.interactions_evaluate()
    rule = sampling.sampling_rule_create(
        actor=manager, name="Email weekly", scorecard_code=cards[0].code, per_person_per_week=2
    )
    assert sampling.samples_draw(now=NOW) == 3  # 2 of agent's 6, agent2's only one
    tasks = EvaluationTask.objects.filter(rule=rule)
    assert sorted(t.subject.username for t in tasks) == ["agent", "agent", "agent2"]
    assert {t.reason for t in tasks} == {"random"}
    assert {t.week_of.isoformat() for t in tasks} == {"2026-11-16"}
    assert all(t.due_on.isoformat() == "2026-11-23" for t in tasks)
    # a second draw the same week tops up nothing; a new entry of agent2 is drawn
    assert sampling.samples_draw(now=NOW) == 0
    week_of_entries(agent2, 1)
    auto_evaluator.interactions_evaluate()
    assert sampling.samples_draw(now=NOW) == 1


def test_never_the_person_evaluated_and_least_loaded_first(cards, manager, agent, clock):
    # the manager is the only other evaluator: a manager's own entries cannot be sampled to them
    complaint = make_complaint(actor=agent, assignee=agent, received_at=NOW - timedelta(days=1))
    add_communication(
        complaint, author=manager, summary="Manager's own reply", at=NOW - timedelta(hours=3)
    )
    week_of_entries(agent, 2, complaint=complaint)
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="All", scorecard_code=cards[0].code, per_person_per_week=5
    )
    sampling.samples_draw(now=NOW)
    tasks = list(EvaluationTask.objects.select_related("subject", "evaluator"))
    assert tasks and all(t.evaluator_id != t.subject_id for t in tasks)
    assert {t.subject.username for t in tasks} == {
        "agent"
    }  # the manager's entry had no other evaluator
    with pytest.raises(IntegrityError), transaction.atomic():
        EvaluationTask.objects.filter(pk=tasks[0].pk).update(evaluator=tasks[0].subject)


def test_targeted_samples_of_handlings(cards, manager, evaluator, agent, clock):
    from complaints.models import Survey

    detractor = make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=20), title="Detractor"
    )
    Survey.objects.create(
        complaint=detractor,
        email="c@example.com",
        token_hash="a" * 64,
        expires_at=NOW + timedelta(days=1),
        answered_at=NOW - timedelta(days=2),
        csat=4,
        ces=3,
        nps=2,
    )
    escalated = make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=10), title="Escalated"
    )
    Complaint.objects.filter(pk=escalated.pk).update(escalation_level=1)
    late = make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=5), title="Late"
    )
    Complaint.objects.filter(pk=late.pk).update(first_response_due=NOW - timedelta(days=4))
    fine = make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=30), title="Fine"
    )
    old = make_complaint(
        actor=agent, assignee=agent, received_at=NOW - timedelta(days=200), title="Old"
    )
    Complaint.objects.filter(pk=old.pk).update(escalation_level=2)
    auto_evaluator.interactions_evaluate(now=NOW)
    sampling.sampling_rule_create(
        actor=manager, name="Targeted", scorecard_code=cards[1].code, per_person_per_week=0
    )
    sampling.samples_draw(now=NOW)
    reasons = dict(EvaluationTask.objects.values_list("complaint__title", "reason"))
    assert reasons == {"Detractor": "detractor", "Escalated": "escalated", "Late": "sla_breached"}
    assert fine.pk not in EvaluationTask.objects.values_list("complaint_id", flat=True)


def test_never_twice_the_same_interaction_across_rules(cards, manager, evaluator, agent, clock):
    week_of_entries(agent, 3)
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="One", scorecard_code=cards[0].code, per_person_per_week=3
    )
    sampling.sampling_rule_create(
        actor=manager, name="Two", scorecard_code=cards[0].code, per_person_per_week=3
    )
    sampling.samples_draw(now=NOW)
    keys = list(EvaluationTask.objects.values_list("interaction_key", flat=True))
    assert len(keys) == len(set(keys)) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_draws_fill_the_quota_once(manager, evaluator, agent):
    with time_machine.travel(NOW, tick=False):
        card = make_scorecard(manager=manager)
        week_of_entries(agent, 12)
        auto_evaluator.interactions_evaluate()
        sampling.sampling_rule_create(
            actor=manager, name="Weekly", scorecard_code=card.code, per_person_per_week=4
        )
    errors, barrier = [], threading.Barrier(3)

    def draw():
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait()
                sampling.samples_draw(now=NOW)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert EvaluationTask.objects.count() == 4


def test_overdue_tasks_escalate_once(cards, manager, evaluator, agent, clock):
    week_of_entries(agent, 1)
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager,
        name="Weekly",
        scorecard_code=cards[0].code,
        per_person_per_week=1,
        due_days=2,
    )
    sampling.samples_draw(now=NOW)
    assert sampling.overdue_tasks_escalate(now=NOW + timedelta(days=2)) == 0  # due today: not yet
    later = NOW + timedelta(days=3)
    assert sampling.overdue_tasks_escalate(now=later) == 1
    assert sampling.overdue_tasks_escalate(now=later) == 0
    overdue = Notification.objects.filter(subject__startswith="Overdue evaluation")
    task = EvaluationTask.objects.select_related("evaluator").get()
    assert sorted(n.recipient.username for n in overdue) == sorted(
        {task.evaluator.username, "manager"}
    )
    assert task.escalation_level == 1


def test_starting_and_submitting_a_task(cards, manager, evaluator, agent, clock):
    week_of_entries(agent, 1)
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="Weekly", scorecard_code=cards[0].code, per_person_per_week=1
    )
    sampling.samples_draw(now=NOW)
    task = EvaluationTask.objects.get()
    other = make_user("other", qms_roles.MANAGER)
    doer = evaluator if task.evaluator_id == evaluator.pk else manager
    with pytest.raises(NotAllowed):
        sampling.task_start(task, actor=other)
    evaluation = sampling.task_start(task, actor=doer)
    assert sampling.task_start(task, actor=doer).pk == evaluation.pk  # twice: the same evaluation
    services.evaluation_score(
        evaluation,
        actor=doer,
        answers=answers_by_label(
            evaluation.scorecard, reference_quoted="yes", empathy="4", clear_next_step="yes"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=doer)
    task.refresh_from_db()
    assert task.status == "done" and task.done_at is not None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "name"),
        ({"scorecard_code": "NOPE"}, "scorecard_code"),
        ({"per_person_per_week": 51}, "per_person_per_week"),
        ({"per_person_per_week": "two"}, "per_person_per_week"),
        ({"due_days": 0}, "due_days"),
    ],
)
def test_bad_rules_are_refused(cards, manager, values, field):
    base = {"name": "Rule", "scorecard_code": cards[0].code}
    with pytest.raises(ValidationFailed) as error:
        sampling.sampling_rule_create(actor=manager, **{**base, **values})
    assert field in error.value.field_errors


def test_only_managers_set_rules(cards, staff):
    with pytest.raises(NotAllowed):
        sampling.sampling_rule_create(actor=staff, name="Mine", scorecard_code=cards[0].code)


API = "/api/v1/service-quality"


def test_task_and_rule_pages_and_api(
    cards,
    manager,
    evaluator,
    agent,
    clock,
    client_for,
    api_for,
    auditor,
    django_assert_max_num_queries,
):
    week_of_entries(agent, 4)
    auto_evaluator.interactions_evaluate()
    api = api_for(manager)
    assert (
        api.post(
            f"{API}/sampling-rules/", {"name": "", "scorecard_code": cards[0].code}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.post(
            f"{API}/sampling-rules/", {"name": "R", "scorecard_code": "NOPE"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.post(
            f"{API}/sampling-rules/",
            {"name": "R", "scorecard_code": cards[0].code, "per_person_per_week": 99},
            format="json",
        ).status_code
        == 400
    )
    assert (
        api_for(auditor)
        .post(
            f"{API}/sampling-rules/", {"name": "R", "scorecard_code": cards[0].code}, format="json"
        )
        .status_code
        == 403
    )
    created = api.post(
        f"{API}/sampling-rules/",
        {"name": "R", "scorecard_code": cards[0].code, "per_person_per_week": 3},
        format="json",
    )
    assert created.status_code == 201, created.json()
    sampling.samples_draw(now=NOW)
    mine = api_for(evaluator).get(f"{API}/evaluation-tasks/").json()["results"]
    assert all(t["evaluator"] == "evaluator" for t in mine)
    assert api_for(auditor).get(f"{API}/evaluation-tasks/").json()["count"] == 3
    assert (
        api_for(agent).get(f"{API}/evaluation-tasks/").json()["count"] == 0
    )  # nobody sees the sample of themselves coming
    task = (
        EvaluationTask.objects.filter(evaluator=evaluator).first() or EvaluationTask.objects.first()
    )
    doer = task.evaluator
    assert api_for(agent).post(f"{API}/evaluation-tasks/{task.pk}/start/").status_code == 404
    started = api_for(doer).post(f"{API}/evaluation-tasks/{task.pk}/start/")
    assert started.status_code == 201 and started.json()["subject"] == agent.pk
    client = client_for(doer)
    with django_assert_max_num_queries(12):
        assert client.get("/service-quality/tasks/").status_code == 200
    manager_client = client_for(manager)
    with django_assert_max_num_queries(12):
        assert manager_client.get("/service-quality/sampling-rules/").status_code == 200
    assert (
        manager_client.post(
            "/service-quality/sampling-rules/",
            {"name": "", "scorecard_code": cards[0].code, "per_person_per_week": 1, "due_days": 5},
        ).status_code
        == 400
    )
    assert (
        manager_client.post(
            "/service-quality/sampling-rules/",
            {
                "name": "Page rule",
                "scorecard_code": cards[0].code,
                "per_person_per_week": 1,
                "due_days": 5,
            },
        ).status_code
        == 302
    )
    assert (
        client_for(agent).post("/service-quality/sampling-rules/", {"name": "x"}).status_code == 403
    )
    other_task = EvaluationTask.objects.exclude(pk=task.pk).first()
    assert (
        client_for(agent).post(f"/service-quality/tasks/{other_task.pk}/start/").status_code == 404
    )  # not theirs to see
    assert (
        client_for(auditor).post(f"/service-quality/tasks/{other_task.pk}/start/").status_code
        == 403
    )
