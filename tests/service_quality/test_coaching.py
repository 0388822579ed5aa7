"""Coaching from an evaluation: the moment, what good looks like, an agreed action with a due
date, acknowledged by the person coached with an electronic signature."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import Signature
from service_quality import services
from service_quality.models import CoachingRecord
from tests.conftest import PASSWORD
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/service-quality"


@pytest.fixture
def submitted(manager, evaluator, agent):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="We will look into it.")
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            scorecard, reference_quoted="no", empathy="2", clear_next_step="no"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    return evaluation


def coach(evaluation, actor, **changes):
    values = {
        "moment": "The reply did not quote the reference.",
        "what_good_looks_like": "Quote CMP-... in the first line and give the next step with a date.",
        "agreed_action": "Use the reply template for a week.",
        "due_on": timezone.localdate() + timedelta(days=7),
        **changes,
    }
    return services.coaching_create(evaluation, actor=actor, **values)


def test_coaching_is_acknowledged_by_the_person_with_a_signature(submitted, evaluator, agent):
    record = coach(submitted, evaluator)
    assert record.person == agent and record.follow_up_due_on == record.due_on + timedelta(days=14)
    with pytest.raises(NotAllowed):
        services.coaching_transition(record, "acknowledge", actor=evaluator, password=PASSWORD)
    with pytest.raises(SignatureRejected):
        services.coaching_transition(record, "acknowledge", actor=agent, password="wrong")
    services.coaching_transition(record, "acknowledge", actor=agent, password=PASSWORD)
    record.refresh_from_db()
    assert record.status == "acknowledged" and record.acknowledged_at is not None
    signature = Signature.objects.get(content_type__model="coachingrecord", object_id=record.pk)
    assert (signature.signer, signature.meaning) == (agent, "Coaching acknowledged")
    with pytest.raises(NotAllowed):
        services.coaching_transition(record, "complete", actor=agent)
    services.coaching_transition(record, "complete", actor=evaluator)
    record.refresh_from_db()
    assert record.status == "completed"


def test_who_may_coach(submitted, evaluator, agent, manager, agent2, auditor):
    with pytest.raises(NotAllowed):
        coach(submitted, agent)  # not themselves
    with pytest.raises(NotAllowed):
        coach(submitted, agent2)  # not a stranger
    with pytest.raises(NotAllowed):
        coach(submitted, auditor)
    assert coach(submitted, manager).coach == manager  # the team lead and Quality Manager


def test_coaching_needs_a_submitted_evaluation(manager, evaluator, agent):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hi")
    draft = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    with pytest.raises(IllegalTransition):
        coach(draft, evaluator)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"moment": ""}, "moment"),
        ({"agreed_action": "   "}, "agreed_action"),
        ({"what_good_looks_like": "x" * 4001}, "what_good_looks_like"),
        ({"due_on": "tomorrow"}, "due_on"),
        ({"due_on": timezone.localdate() - timedelta(days=1)}, "due_on"),
        ({"due_on": timezone.localdate() + timedelta(days=400)}, "due_on"),
    ],
)
def test_bad_coaching_input(submitted, evaluator, changes, field):
    with pytest.raises(ValidationFailed) as error:
        coach(submitted, evaluator, **changes)
    assert field in error.value.field_errors
    assert not CoachingRecord.objects.exists()


def test_coaching_pages_and_api(
    submitted, evaluator, agent, agent2, auditor, client_for, api_for, django_assert_max_num_queries
):
    client = client_for(evaluator)
    bad = client.post(
        f"/service-quality/evaluations/{submitted.pk}/coaching/", {"moment": "", "due_on": "x"}
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/service-quality/evaluations/{submitted.pk}/coaching/",
        {
            "moment": "m",
            "what_good_looks_like": "g",
            "agreed_action": "a",
            "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
    )
    assert ok.status_code == 302
    record = CoachingRecord.objects.get()
    person = client_for(agent)
    with django_assert_max_num_queries(12):
        assert person.get(record.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert person.get("/service-quality/coaching/").status_code == 200
    assert client_for(agent2).get(record.get_absolute_url()).status_code == 404
    person.post(
        f"/service-quality/coaching/{record.pk}/transition/",
        {"action": "acknowledge", "password": PASSWORD},
    )
    record.refresh_from_db()
    assert record.status == "acknowledged"
    api = api_for(evaluator)
    body = {
        "evaluation": submitted.pk,
        "moment": "m",
        "what_good_looks_like": "g",
        "agreed_action": "a",
        "due_on": "not a date",
    }
    assert api.post(f"{API}/coaching/", body, format="json").status_code == 400
    body["due_on"] = (timezone.localdate() + timedelta(days=3)).isoformat()
    created = api.post(f"{API}/coaching/", body, format="json")
    assert created.status_code == 201, created.json()
    assert (
        api_for(agent2).post(f"{API}/coaching/", body, format="json").status_code == 400
    )  # cannot see the evaluation
    assert api_for(auditor).post(f"{API}/coaching/", body, format="json").status_code == 403
    assert api_for(agent).get(f"{API}/coaching/").json()["count"] == 2
    signed = api_for(agent).post(
        f"{API}/coaching/{created.json()['id']}/transitions/",
        {"action": "acknowledge", "password": PASSWORD},
        format="json",
    )
    assert signed.status_code == 200 and signed.json()["status"] == "acknowledged"
