"""Automatic evaluation of every interaction: measures stored with method, version and input
ids; incremental (only new or changed interactions) and idempotent; suggestions confirmed or
overridden by an evaluator with a reason kept in the history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from service_quality import auto, services
from service_quality import evaluator as auto_evaluator
from service_quality.models import AutoScore, FrictionPhrase, InteractionAnalysis
from tests.service_quality.conftest import add_communication, make_complaint, make_scorecard

pytestmark = pytest.mark.django_db

AUTO_CRITERIA = [
    {
        "section": "Compliance",
        "label": "Privacy statement",
        "scale": "yes_no",
        "weight": 2,
        "is_critical": True,
        "auto_rule": "required_phrase",
        "phrases": ["privacy notice", "data protection"],
    },
    {
        "section": "Communication",
        "label": "No friction",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "no_friction",
    },
    {
        "section": "Communication",
        "label": "Customer tone",
        "scale": "one_to_five",
        "weight": 1,
        "auto_rule": "sentiment",
    },
    {"section": "Communication", "label": "Empathy", "scale": "one_to_five", "weight": 3},
]
HANDLING_CRITERIA = [
    {
        "section": "Compliance",
        "label": "First response in SLA",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "first_response_sla",
    },
    {
        "section": "Compliance",
        "label": "Not reopened",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "not_reopened",
    },
    {
        "section": "Communication",
        "label": "Survey",
        "scale": "one_to_five",
        "weight": 1,
        "auto_rule": "survey",
    },
]


@pytest.fixture
def cards(manager, friction_list):
    return (
        make_scorecard(manager=manager, criteria=AUTO_CRITERIA),
        make_scorecard(
            manager=manager, name="Handling", applies_to="handling", criteria=HANDLING_CRITERIA
        ),
    )


def test_every_interaction_gets_its_automatic_scores(cards, agent):
    complaint = make_complaint(actor=agent, assignee=agent)
    polite = add_communication(
        complaint, author=agent, summary="Thank you! Our privacy notice is attached."
    )
    angry = add_communication(
        complaint,
        author=agent,
        direction="inbound",
        summary="This is the third time, unacceptable!",
    )
    result = auto_evaluator.interactions_evaluate(batch_size=10)
    assert result["communications"] == 2 and result["handlings"] == 1
    polite_scores = {
        s.criterion.label: s
        for s in AutoScore.objects.filter(analysis__communication=polite).select_related(
            "criterion"
        )
    }
    assert polite_scores["Privacy statement"].answer == "yes"
    assert polite_scores["No friction"].answer == "yes"
    assert int(polite_scores["Customer tone"].answer) >= 4
    angry_scores = {
        s.criterion.label: s
        for s in AutoScore.objects.filter(analysis__communication=angry).select_related("criterion")
    }
    assert angry_scores["Privacy statement"].answer == "no"
    assert angry_scores["No friction"].answer == "no"
    assert "third time" in angry_scores["No friction"].evidence
    assert "Empathy" not in angry_scores  # not measurable: left to people
    score = angry_scores["No friction"]
    assert score.method == "no_friction"
    assert score.method_version == auto.method_version()
    assert (
        score.inputs["communication"] == angry.pk
        and score.inputs["criterion"] == score.criterion_id
    )
    from django.conf import settings

    assert score.history.first().history_user.username == settings.QMS_SYSTEM_USERNAME  # never null


def test_a_second_run_does_nothing(cards, agent):
    complaint = make_complaint(actor=agent, assignee=agent)
    add_communication(complaint, author=agent, summary="Hello")
    auto_evaluator.interactions_evaluate()
    before = (InteractionAnalysis.objects.count(), AutoScore.objects.count())
    again = auto_evaluator.interactions_evaluate()
    assert again["communications"] == again["handlings"] == again["auto_scores"] == 0
    assert (InteractionAnalysis.objects.count(), AutoScore.objects.count()) == before


def test_only_new_or_changed_interactions_are_read(cards, agent, manager):
    from complaints.models import Survey

    first = make_complaint(actor=agent, assignee=agent)
    second = make_complaint(actor=agent, assignee=agent, title="Second")
    add_communication(first, author=agent, summary="Hello")
    auto_evaluator.interactions_evaluate()
    # a new entry: only it
    add_communication(second, author=agent, summary="Your privacy notice")
    assert auto_evaluator.interactions_evaluate()["communications"] == 1
    # an answered survey changes the second complaint's handling only
    Survey.objects.create(
        complaint=second,
        email="c@example.com",
        token_hash="x" * 64,
        expires_at=timezone.now() + timedelta(days=7),
        answered_at=timezone.now(),
        csat=2,
        ces=4,
        nps=3,
    )
    run = auto_evaluator.interactions_evaluate()
    assert (run["communications"], run["handlings"]) == (0, 1)
    survey_score = AutoScore.objects.get(
        analysis__interaction_key=f"h:{second.pk}", criterion__label="Survey"
    )
    assert survey_score.answer == "2"
    assert [h.answer for h in survey_score.history.order_by("history_id")] == ["na", "2"]
    # a new version of the complaint (any change through its services bumps it)
    from complaints.models import Complaint

    Complaint.objects.filter(pk=first.pk).update(version=first.version + 1)
    assert auto_evaluator.interactions_evaluate()["handlings"] == 1


def test_a_changed_friction_list_makes_everything_stale(cards, agent, manager):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="The widget is wobbly")
    auto_evaluator.interactions_evaluate()
    services.friction_phrase_add(actor=manager, phrase="wobbly")
    run = auto_evaluator.interactions_evaluate()
    assert run["communications"] == 1
    assert (
        AutoScore.objects.get(analysis__communication=entry, criterion__label="No friction").answer
        == "no"
    )


def test_a_batch_costs_a_fixed_number_of_queries(cards, agent):
    def run_with(n):
        complaint = make_complaint(actor=agent, assignee=agent)
        for i in range(n):
            add_communication(complaint, author=agent, summary=f"Reply {i}, still waiting")
        with CaptureQueriesContext(connection) as ctx:
            auto_evaluator.interactions_evaluate_batch(batch_size=100)
        return len(ctx)

    auto_evaluator.interactions_evaluate_batch()  # warm: the system user and content types exist
    assert run_with(2) == run_with(20)


def test_confirm_and_override_by_an_evaluator_with_reason(cards, agent, evaluator):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hi there")
    auto_evaluator.interactions_evaluate()
    privacy = AutoScore.objects.get(
        analysis__communication=entry, criterion__label="Privacy statement"
    )
    friction = AutoScore.objects.get(analysis__communication=entry, criterion__label="No friction")
    with pytest.raises(ValidationFailed):
        services.auto_score_override(privacy, actor=evaluator, answer="yes", reason="")
    with pytest.raises(ValidationFailed):
        services.auto_score_override(privacy, actor=evaluator, answer="maybe", reason="x")
    with pytest.raises(NotAllowed):
        services.auto_score_override(
            privacy, actor=agent, answer="yes", reason="I said it on the phone"
        )
    services.auto_score_override(
        privacy, actor=evaluator, answer="yes", reason="Said on the phone, call recording 12"
    )
    privacy.refresh_from_db()
    assert (privacy.status, privacy.answer, privacy.final_answer) == ("overridden", "no", "yes")
    assert privacy.history.first().history_change_reason == "Said on the phone, call recording 12"
    services.auto_score_confirm(friction, actor=evaluator)
    with pytest.raises(IllegalTransition):
        services.auto_score_confirm(friction, actor=evaluator)
    # a decided score is kept when the inputs change
    services.friction_phrase_add(
        actor=evaluator.__class__.objects.get(username="manager"), phrase="hi there"
    )
    auto_evaluator.interactions_evaluate()
    friction.refresh_from_db()
    assert (friction.status, friction.final_answer) == ("confirmed", "yes")


def test_friction_list_is_managed_by_quality_managers(manager, staff):
    with pytest.raises(NotAllowed):
        services.friction_phrase_add(actor=staff, phrase="grr")
    row = services.friction_phrase_add(actor=manager, phrase="Wobbly Bits")
    assert row.phrase == "wobbly bits"
    with pytest.raises(ValidationFailed):
        services.friction_phrase_add(actor=manager, phrase="wobbly bits")
    for bad in ("", "*", "a*b", "x" * 101):
        with pytest.raises(ValidationFailed):
            services.friction_phrase_add(actor=manager, phrase=bad)
    with pytest.raises(ValidationFailed):
        services.friction_phrase_deactivate(row, actor=manager, reason="")
    services.friction_phrase_deactivate(row, actor=manager, reason="Too many false alarms")
    assert FrictionPhrase.objects.get(pk=row.pk).is_active is False


def test_the_data_migration_seeds_the_default_list_once():
    import importlib

    from django.apps import apps

    seed = importlib.import_module(
        "service_quality.migrations.0005_default_friction_phrases"
    ).seed_friction_phrases
    seed(apps, None)
    seed(apps, None)  # idempotent (a flushed test database may have lost the migration's rows)
    phrases = set(FrictionPhrase.objects.values_list("phrase", flat=True))
    assert set(auto.DEFAULT_FRICTION_PHRASES) <= phrases
    assert FrictionPhrase.objects.filter(phrase="still waiting").count() == 1


@pytest.mark.parametrize(
    ("rule", "scale", "facts", "expected"),
    [
        ("first_response_sla", "yes_no", {"first_response_in_sla": True}, "yes"),
        ("first_response_sla", "yes_no", {"first_response_in_sla": False}, "no"),
        ("first_response_sla", "yes_no", {"first_response_in_sla": None}, "na"),
        ("resolution_sla", "one_to_five", {"resolution_in_sla": False}, "1"),
        ("not_reopened", "yes_no", {"is_reopened": True}, "no"),
        ("survey", "yes_no", {"csat": 4}, "yes"),
        ("survey", "yes_no", {"csat": 2}, "no"),
        ("survey", "yes_no", {"nps": 10}, "yes"),
        ("survey", "yes_no", {"nps": 3}, "no"),
        ("survey", "yes_no", {"nps": 8}, "na"),  # passive: neither
        ("survey", "one_to_five", {}, "na"),
    ],
)
def test_rule_answers(rule, scale, facts, expected):
    base = {
        "text": "",
        "sentiment_compound": 0.0,
        "sentiment": "neutral",
        "friction": [],
        "first_response_in_sla": None,
        "resolution_in_sla": None,
        "is_reopened": None,
        "csat": None,
        "nps": None,
    }
    assert auto.answer_for(rule, scale, auto.Facts(**{**base, **facts}))[0] == expected


def test_sla_breach_and_reopen_of_a_handling(cards, agent):
    from complaints.models import Complaint

    complaint = make_complaint(actor=agent, assignee=agent)
    now = timezone.now()
    Complaint.objects.filter(pk=complaint.pk).update(
        first_response_due=now - timedelta(hours=2), acknowledged_at=now - timedelta(hours=1)
    )
    auto_evaluator.interactions_evaluate(now=now)
    analysis = InteractionAnalysis.objects.get(interaction_key=f"h:{complaint.pk}")
    assert analysis.first_response_in_sla is False and analysis.is_reopened is False
    assert (
        AutoScore.objects.get(analysis=analysis, criterion__label="First response in SLA").answer
        == "no"
    )


API = "/api/v1/service-quality"


def test_suggestions_on_the_evaluation_page_and_decisions_there(
    cards, agent, evaluator, client_for, django_assert_max_num_queries
):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(
        complaint, author=agent, summary="Still waiting? Sorry! Our privacy notice applies."
    )
    auto_evaluator.interactions_evaluate()
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=cards[0], complaint=complaint, communication=entry
    )
    client = client_for(evaluator)
    with django_assert_max_num_queries(12):
        page = client.get(evaluation.get_absolute_url())
    assert page.status_code == 200
    assert b"suggested" in page.content and b"found: privacy notice" in page.content
    form = page.context["form"]
    privacy = AutoScore.objects.get(
        analysis__communication=entry, criterion__label="Privacy statement"
    )
    assert form.initial[f"answer_{privacy.criterion_id}"] == "yes"  # pre-filled, not saved
    assert not evaluation.scores.exists()
    bad = client.post(
        f"/service-quality/auto-scores/{privacy.pk}/decide/",
        {
            "decision": "override",
            "answer": "no",
            "reason": "",
            "next": evaluation.get_absolute_url(),
        },
    )
    assert bad.status_code == 302
    privacy.refresh_from_db()
    assert privacy.status == "suggested"
    client.post(
        f"/service-quality/auto-scores/{privacy.pk}/decide/",
        {
            "decision": "override",
            "answer": "no",
            "reason": "Wrong notice quoted",
            "next": "//evil.example",
        },
    )
    privacy.refresh_from_db()
    assert (privacy.status, privacy.final_answer) == ("overridden", "no")


def test_auto_scores_api(cards, agent, evaluator, agent2, api_for, auditor):
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Hello")
    auto_evaluator.interactions_evaluate()
    friction = AutoScore.objects.get(analysis__communication=entry, criterion__label="No friction")
    assert (
        api_for(agent).get(f"{API}/auto-scores/").json()["count"] == 6
    )  # their entry (3) and their handling (3)
    assert api_for(agent2).get(f"{API}/auto-scores/").json()["count"] == 0
    assert (
        api_for(auditor)
        .post(f"{API}/auto-scores/{friction.pk}/confirm/", {}, format="json")
        .status_code
        == 403
    )
    assert (
        api_for(agent)
        .post(f"{API}/auto-scores/{friction.pk}/confirm/", {}, format="json")
        .status_code
        == 403
    )
    bad = api_for(evaluator).post(
        f"{API}/auto-scores/{friction.pk}/override/", {"answer": "no"}, format="json"
    )
    assert bad.status_code == 400 and "reason" in bad.json()
    bad = api_for(evaluator).post(
        f"{API}/auto-scores/{friction.pk}/override/",
        {"answer": "purple", "reason": "x"},
        format="json",
    )
    assert bad.status_code == 400
    ok = api_for(evaluator).post(f"{API}/auto-scores/{friction.pk}/confirm/", {}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed"
    assert (
        api_for(evaluator)
        .post(f"{API}/auto-scores/{friction.pk}/confirm/", {}, format="json")
        .status_code
        == 409
    )


def test_friction_phrases_api_and_page(api_for, client_for, manager, staff):
    api = api_for(manager)
    assert api.post(f"{API}/friction-phrases/", {"phrase": ""}, format="json").status_code == 400
    assert api.post(f"{API}/friction-phrases/", {"phrase": "a*b"}, format="json").status_code == 400
    created = api.post(f"{API}/friction-phrases/", {"phrase": "gobsmacked"}, format="json")
    assert created.status_code == 201
    assert (
        api.post(f"{API}/friction-phrases/", {"phrase": "gobsmacked"}, format="json").status_code
        == 400
    )
    pk = created.json()["id"]
    assert (
        api.post(f"{API}/friction-phrases/{pk}/deactivate/", {}, format="json").status_code == 400
    )
    assert (
        api.post(
            f"{API}/friction-phrases/{pk}/deactivate/", {"reason": "noise"}, format="json"
        ).json()["is_active"]
        is False
    )
    assert (
        api_for(staff)
        .post(f"{API}/friction-phrases/", {"phrase": "meh"}, format="json")
        .status_code
        == 403
    )
    page = client_for(manager)
    assert page.get("/service-quality/friction-phrases/").status_code == 200
    assert page.post("/service-quality/friction-phrases/", {"phrase": "*"}).status_code == 400
    assert (
        page.post("/service-quality/friction-phrases/", {"phrase": "flabbergasted"}).status_code
        == 302
    )
    assert (
        client_for(staff).post("/service-quality/friction-phrases/", {"phrase": "meh"}).status_code
        == 403
    )


def test_a_new_entry_makes_its_complaints_handling_stale(cards, agent):
    complaint = make_complaint(actor=agent, assignee=agent)
    add_communication(complaint, author=agent, summary="Hello", direction="inbound")
    auto_evaluator.interactions_evaluate()
    add_communication(
        complaint, author=agent, summary="Still waiting, unacceptable", direction="inbound"
    )
    run = auto_evaluator.interactions_evaluate()
    assert (run["communications"], run["handlings"]) == (1, 1)
    analysis = InteractionAnalysis.objects.get(interaction_key=f"h:{complaint.pk}")
    assert analysis.friction_phrases and analysis.sentiment == "negative"
    assert auto_evaluator.interactions_evaluate()["handlings"] == 0
