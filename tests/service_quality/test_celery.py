"""Automatic evaluation on a real Celery worker (docs/architecture.md rules 4 and 9): two runs at
once analyse each interaction once; a later run reads only what is new."""

import re
from pathlib import Path

import pytest

from service_quality.models import AutoScore, InteractionAnalysis
from tests.conftest import make_user, wait_for
from tests.service_quality.conftest import add_communication, make_complaint, make_scorecard

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

CRITERIA = [
    {
        "section": "Compliance",
        "label": "Privacy statement",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "required_phrase",
        "phrases": ["privacy notice"],
    },
    {
        "section": "Communication",
        "label": "No friction",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "no_friction",
    },
]


def finished(log, n):
    pattern = re.compile(r"Task service_quality\.evaluate_interactions\[[^\]]+\] succeeded")
    return lambda: len(pattern.findall(Path(log).read_text())) >= n


def test_two_concurrent_runs_analyse_each_interaction_once_and_a_third_only_the_new(celery_worker):
    from qms import roles as qms_roles
    from service_quality.services import friction_phrase_add
    from service_quality.tasks import evaluate_interactions

    manager = make_user("manager", qms_roles.MANAGER)
    agent = make_user("agent", qms_roles.STAFF)
    make_scorecard(manager=manager, criteria=CRITERIA)
    friction_phrase_add(actor=manager, phrase="wobbly")
    complaints = [make_complaint(actor=agent, assignee=agent, title=f"C{i}") for i in range(3)]
    for i in range(30):
        add_communication(
            complaints[i % 3],
            author=agent,
            summary=f"Reply {i}: it is wobbly" if i % 2 else f"Reply {i}",
        )

    evaluate_interactions.delay(batch_size=7)
    evaluate_interactions.delay(batch_size=7)
    wait_for(finished(celery_worker.log_path, 2), timeout=90, message="both runs")

    assert InteractionAnalysis.objects.filter(kind="communication").count() == 30
    assert InteractionAnalysis.objects.filter(kind="handling").count() == 3
    assert AutoScore.objects.count() == 60  # 30 entries x 2 automatic criteria; no duplicates
    assert AutoScore.objects.filter(criterion__label="No friction", answer="no").count() == 15

    add_communication(complaints[0], author=agent, summary="Please read our privacy notice")
    before = set(InteractionAnalysis.objects.values_list("pk", "analysed_at"))
    evaluate_interactions.delay()
    wait_for(finished(celery_worker.log_path, 3), timeout=60, message="the third run")
    after = set(InteractionAnalysis.objects.values_list("pk", "analysed_at"))
    # only the new entry and the handling of its complaint (which now has one entry more)
    changed = InteractionAnalysis.objects.filter(pk__in=[pk for pk, _at in after - before])
    assert sorted(changed.values_list("kind", flat=True)) == ["communication", "handling"]
    assert AutoScore.objects.count() == 62
    assert "succeeded in" in Path(celery_worker.log_path).read_text()


def test_the_hourly_draw_on_a_real_worker_draws_a_coachings_follow_up_once(celery_worker):
    """Two draws at once (a retried task, a second beat): one follow-up task, told once."""
    from django.utils import timezone

    from qms import roles as qms_roles
    from qms.models import Notification
    from service_quality import services
    from service_quality.models import EvaluationTask
    from service_quality.tasks import draw_samples
    from tests.conftest import PASSWORD
    from tests.service_quality.conftest import answers_by_label

    manager = make_user("manager", qms_roles.MANAGER)
    evaluator = make_user("evaluator", qms_roles.STAFF, job_function="Evaluator")
    agent = make_user("agent", qms_roles.STAFF)
    card = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="We will look into it.")
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=card, complaint=complaint, communication=entry
    )
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(card, reference_quoted="yes", empathy="2", clear_next_step="no"),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    record = services.coaching_create(
        evaluation,
        actor=evaluator,
        moment="m",
        what_good_looks_like="g",
        agreed_action="a",
        due_on=timezone.localdate(),
    )
    services.coaching_transition(record, "acknowledge", actor=agent, password=PASSWORD)
    later = add_communication(
        complaint, author=agent, summary="The engineer comes on Friday at 10."
    )

    pattern = re.compile(r"Task service_quality\.draw_samples\[[^\]]+\] succeeded")
    draw_samples.delay()
    draw_samples.delay()
    wait_for(
        lambda: len(pattern.findall(Path(celery_worker.log_path).read_text())) >= 2,
        timeout=90,
        message="both draws",
    )
    task = EvaluationTask.objects.get(coaching=record)
    assert (task.reason, task.evaluator, task.communication_id) == (
        "follow_up",
        evaluator,
        later.pk,
    )
    assert (
        Notification.objects.filter(recipient=evaluator, subject__contains="Follow-up").count() == 1
    )
