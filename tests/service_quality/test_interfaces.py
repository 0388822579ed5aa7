"""The pages and the API of service quality: who may see and do what, bad input answers 400
with a message and changes nothing, lists within the query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from service_quality import services
from service_quality.models import Evaluation, Score, Scorecard
from tests.conftest import PASSWORD, make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/service-quality"


@pytest.fixture
def world(manager, evaluator, agent, agent2):
    scorecard = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Your reference is CMP-1.")
    other_entry = add_communication(complaint, author=agent2, summary="Following up.")
    mine = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
    )
    theirs = services.evaluation_create(
        actor=evaluator, scorecard=scorecard, complaint=complaint, communication=other_entry
    )
    return {
        "scorecard": scorecard,
        "complaint": complaint,
        "entry": entry,
        "agent_eval": mine,
        "agent2_eval": theirs,
    }


# --- visibility ---------------------------------------------------------------------------------


def test_people_see_their_own_evaluations_only(world, api_for, agent, agent2):
    ids = {row["id"] for row in api_for(agent).get(f"{API}/evaluations/").json()["results"]}
    assert ids == {world["agent_eval"].pk}
    assert api_for(agent).get(f"{API}/evaluations/{world['agent2_eval'].pk}/").status_code == 404
    ids2 = {row["id"] for row in api_for(agent2).get(f"{API}/evaluations/").json()["results"]}
    assert ids2 == {world["agent2_eval"].pk}


def test_team_lead_sees_the_team_and_managers_and_auditors_all(
    world, api_for, manager, auditor, db
):
    lead = make_user("lead", "Quality Staff")
    agent = world["agent_eval"].subject
    agent.manager = lead
    agent.save(update_fields=["manager"])
    ids = {row["id"] for row in api_for(lead).get(f"{API}/evaluations/").json()["results"]}
    assert ids == {world["agent_eval"].pk}
    for user in (manager, auditor):
        assert api_for(user).get(f"{API}/evaluations/").json()["count"] == 2


def test_evaluator_sees_what_they_evaluate(world, api_for, evaluator):
    assert api_for(evaluator).get(f"{API}/evaluations/").json()["count"] == 2


def test_pages_follow_the_same_visibility(world, client_for, agent):
    client = client_for(agent)
    assert client.get(f"/service-quality/evaluations/{world['agent_eval'].pk}/").status_code == 200
    assert client.get(f"/service-quality/evaluations/{world['agent2_eval'].pk}/").status_code == 404
    page = client.get("/service-quality/evaluations/")
    assert [e.pk for e in page.context["evaluations"]] == [world["agent_eval"].pk]


def test_anonymous_gets_login_or_401(world, client, api_for):
    assert client.get("/service-quality/").status_code == 302
    assert client.get("/service-quality/evaluations/").status_code == 302
    assert api_for(None).get(f"{API}/evaluations/").status_code == 401
    assert api_for(None).get(f"{API}/scorecards/").status_code == 401


def test_auditors_read_and_change_nothing(world, api_for, client_for, auditor):
    api = api_for(auditor)
    assert api.get(f"{API}/scorecards/").status_code == 200
    assert api.post(f"{API}/scorecards/", {"name": "X"}, format="json").status_code == 403
    evaluation = world["agent_eval"]
    assert (
        api.put(
            f"{API}/evaluations/{evaluation.pk}/scores/", {"answers": {}}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"{API}/evaluations/{evaluation.pk}/transitions/", {"action": "submit"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client_for(auditor).post(f"/service-quality/evaluations/{evaluation.pk}/", {}).status_code
        == 403
    )
    assert (
        client_for(auditor).get(f"/service-quality/scorecards/{world['scorecard'].pk}/").status_code
        == 200
    )


def test_outsider_and_employee_read_no_scorecard(world, api_for, outsider, employee):
    assert api_for(outsider).get(f"{API}/scorecards/").status_code == 403
    assert api_for(employee).get(f"{API}/scorecards/").status_code == 403
    assert api_for(employee).get(f"{API}/evaluations/").json()["count"] == 0


# --- the API's writes ---------------------------------------------------------------------------


def test_scorecard_lifecycle_through_the_api(api_for, manager, staff):
    api = api_for(manager)
    created = api.post(
        f"{API}/scorecards/",
        {"name": "Phone calls", "applies_to": "communication", "pass_mark": 75},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    section = api.post(
        f"{API}/scorecards/{pk}/sections/", {"title": "Opening"}, format="json"
    ).json()
    criterion = api.post(
        f"{API}/scorecards/{pk}/criteria/",
        {
            "section": section["id"],
            "label": "Greets by name",
            "scale": "yes_no",
            "weight": 2,
            "is_critical": True,
        },
        format="json",
    )
    assert criterion.status_code == 201, criterion.json()
    assert (
        api.post(
            f"{API}/scorecards/{pk}/transitions/",
            {"action": "approve", "password": "wrong"},
            format="json",
        ).status_code
        == 403
    )
    approved = api.post(
        f"{API}/scorecards/{pk}/transitions/",
        {"action": "approve", "password": PASSWORD, "reason": "ok"},
        format="json",
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (
        api.post(
            f"{API}/scorecards/{pk}/transitions/",
            {"action": "approve", "password": PASSWORD},
            format="json",
        ).status_code
        == 409
    )
    assert (
        api.post(
            f"{API}/scorecards/{pk}/transitions/", {"action": "put_in_force"}, format="json"
        ).json()["status"]
        == "in_force"
    )
    edit = api.patch(
        f"{API}/scorecards/{pk}/",
        {"name": "Other", "version": approved.json()["version"] + 1, "reason": "x"},
        format="json",
    )
    assert edit.status_code == 409
    revision = api.post(
        f"{API}/scorecards/{pk}/revisions/", {"change_summary": "Add closing"}, format="json"
    )
    assert revision.status_code == 201 and revision.json()["revision"] == 2
    assert len(api.get(f"{API}/scorecards/{pk}/signatures/").json()) == 1
    assert api.get(f"{API}/scorecards/{pk}/history/").json()[0]["action"] == "put_in_force"
    assert (
        api_for(staff).post(f"{API}/scorecards/", {"name": "Mine"}, format="json").status_code
        == 403
    )


def test_evaluation_through_the_api(world, api_for, evaluator, agent):
    api = api_for(evaluator)
    scorecard, complaint = world["scorecard"], world["complaint"]
    entry = add_communication(
        complaint, author=agent, summary="Sorry for the wait; here is the fix."
    )
    created = api.post(
        f"{API}/evaluations/",
        {"scorecard": scorecard.pk, "complaint": complaint.pk, "communication": entry.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    answers = {
        str(k): v
        for k, v in answers_by_label(
            scorecard, reference_quoted="yes", empathy="5", clear_next_step="yes"
        ).items()
    }
    scored = api.put(f"{API}/evaluations/{pk}/scores/", {"answers": answers}, format="json")
    assert scored.status_code == 200, scored.json()
    assert len(scored.json()["scores"]) == 3
    submitted = api.post(
        f"{API}/evaluations/{pk}/transitions/", {"action": "submit"}, format="json"
    )
    assert submitted.status_code == 200
    assert submitted.json()["score_percent"] == "100.00" and submitted.json()["is_passed"] is True
    disputed = api_for(agent).post(
        f"{API}/evaluations/{pk}/transitions/", {"action": "dispute", "reason": ""}, format="json"
    )
    assert disputed.status_code == 400 and "reason" in disputed.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"scorecard": 999999, "complaint": 1},
        {"scorecard": "abc", "complaint": "x"},
        {"scorecard": None, "complaint": None},
    ],
)
def test_bad_evaluation_create_is_400(world, api_for, evaluator, body):
    before = Evaluation.objects.count()
    response = api_for(evaluator).post(f"{API}/evaluations/", body, format="json")
    assert response.status_code == 400, response.content
    assert Evaluation.objects.count() == before


def test_self_evaluation_through_the_api_is_400(world, api_for, manager):
    entry = add_communication(world["complaint"], author=manager, summary="I called.")
    response = api_for(manager).post(
        f"{API}/evaluations/",
        {
            "scorecard": world["scorecard"].pk,
            "complaint": world["complaint"].pk,
            "communication": entry.pk,
        },
        format="json",
    )
    assert response.status_code == 400 and "evaluator" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {}},
        {"answers": "yes"},
        {"answers": {"999999": {"answer": "yes"}}},
        {"answers": {"1": {"answer": "x" * 10}}},
        {"answers": {"1": {}}},
        {},
    ],
)
def test_bad_scores_are_400_and_change_nothing(world, api_for, evaluator, body):
    response = api_for(evaluator).put(
        f"{API}/evaluations/{world['agent_eval'].pk}/scores/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert not Score.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "X", "pass_mark": 101},
        {"name": "X", "pass_mark": "many"},
        {"name": "X", "applies_to": "fax"},
        {"name": "x" * 201},
    ],
)
def test_bad_scorecard_create_is_400(api_for, manager, body):
    response = api_for(manager).post(f"{API}/scorecards/", body, format="json")
    assert response.status_code == 400, response.content
    assert not Scorecard.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"label": "x", "weight": 0},
        {"label": "x", "scale": "stars"},
        {"label": "", "weight": 1},
        {"label": "x", "auto_rule": "required_phrase", "phrases": []},
        {"label": "x", "section": 999999},
    ],
)
def test_bad_criterion_is_400(api_for, manager, body):
    scorecard = services.scorecard_create(actor=manager, name="Card")
    section = services.section_add(scorecard, actor=manager, title="S")
    body = {"section": section.pk, **body}
    response = api_for(manager).post(
        f"{API}/scorecards/{scorecard.pk}/criteria/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert not scorecard.criteria.exists()


# --- pages ----------------------------------------------------------------------------------------


def test_evaluator_scores_and_submits_on_the_page(world, client_for, evaluator):
    evaluation = world["agent_eval"]
    client = client_for(evaluator)
    page = client.get(f"/service-quality/evaluations/{evaluation.pk}/")
    assert page.status_code == 200 and b"Save answers" in page.content
    form = {
        f"answer_{pk}": value["answer"]
        for pk, value in answers_by_label(
            evaluation.scorecard, reference_quoted="yes", empathy="4", clear_next_step="yes"
        ).items()
    }
    assert client.post(f"/service-quality/evaluations/{evaluation.pk}/", form).status_code == 302
    client.post(f"/service-quality/evaluations/{evaluation.pk}/transition/", {"action": "submit"})
    evaluation.refresh_from_db()
    assert evaluation.status == "submitted" and evaluation.score_percent is not None


def test_bad_page_answers_show_errors(world, client_for, evaluator):
    evaluation = world["agent_eval"]
    criterion = evaluation.scorecard.criteria.first()
    response = client_for(evaluator).post(
        f"/service-quality/evaluations/{evaluation.pk}/", {f"answer_{criterion.pk}": "banana"}
    )
    assert response.status_code == 400
    assert not Score.objects.exists()
    empty = client_for(evaluator).post(f"/service-quality/evaluations/{evaluation.pk}/", {})
    assert empty.status_code == 400 and b"at least one answer" in empty.content


def test_start_an_evaluation_from_a_complaint_page(world, client_for, evaluator, agent):
    client = client_for(evaluator)
    complaint = world["complaint"]
    assert (
        client.get(f"/service-quality/evaluations/new/?complaint={complaint.pk}").status_code == 200
    )
    assert client.get("/service-quality/evaluations/new/?complaint=abc").status_code == 404
    bad = client.post(
        "/service-quality/evaluations/new/", {"complaint": complaint.pk, "scorecard": ""}
    )
    assert bad.status_code == 400
    ok = client.post(
        "/service-quality/evaluations/new/",
        {
            "complaint": complaint.pk,
            "scorecard": world["scorecard"].pk,
            "communication": world["entry"].pk,
        },
    )
    assert ok.status_code == 302


def test_scorecard_pages(world, client_for, manager, staff):
    client = client_for(manager)
    assert client.get("/service-quality/scorecards/").status_code == 200
    assert client.get("/service-quality/scorecards/new/").status_code == 200
    assert (
        client.post(
            "/service-quality/scorecards/new/",
            {"name": "", "applies_to": "communication", "pass_mark": 80},
        ).status_code
        == 400
    )
    created = client.post(
        "/service-quality/scorecards/new/",
        {"name": "Chat", "applies_to": "communication", "pass_mark": 80},
    )
    assert created.status_code == 302
    draft = Scorecard.objects.get(name="Chat")
    assert (
        client.post(draft.get_absolute_url(), {"form": "section", "title": ""}).status_code == 400
    )
    assert (
        client.post(draft.get_absolute_url(), {"form": "section", "title": "Tone"}).status_code
        == 302
    )
    section = draft.sections.get()
    bad = client.post(
        draft.get_absolute_url(),
        {
            "form": "criterion",
            "section": section.pk,
            "label": "Polite",
            "scale": "yes_no",
            "weight": 0,
        },
    )
    assert bad.status_code == 400
    good = client.post(
        draft.get_absolute_url(),
        {
            "form": "criterion",
            "section": section.pk,
            "label": "Polite",
            "scale": "yes_no",
            "weight": 2,
        },
    )
    assert good.status_code == 302 and draft.criteria.count() == 1
    in_force = client.post(
        world["scorecard"].get_absolute_url(),
        {"form": "criterion", "section": section.pk, "label": "x", "scale": "yes_no", "weight": 1},
    )
    assert in_force.status_code in (400, 409)
    assert client_for(staff).get("/service-quality/scorecards/new/").status_code == 403
    assert client.get("/service-quality/scorecards/999999/").status_code == 404


def test_home_page(world, client_for, evaluator, agent):
    assert client_for(evaluator).get("/service-quality/").status_code == 200
    assert client_for(agent).get("/service-quality/").status_code == 200


# --- query budget --------------------------------------------------------------------------------


def _many_evaluations(world, n, *, evaluator, agent):
    scorecard, complaint = world["scorecard"], world["complaint"]
    for i in range(n):
        entry = add_communication(complaint, author=agent, summary=f"Reply {i}")
        evaluation = services.evaluation_create(
            actor=evaluator, scorecard=scorecard, complaint=complaint, communication=entry
        )
        if i % 2 == 0:
            services.evaluation_score(
                evaluation,
                actor=evaluator,
                answers=answers_by_label(
                    scorecard, reference_quoted="yes", empathy="3", clear_next_step="no"
                ),
            )
            services.evaluation_transition(evaluation, "submit", actor=evaluator)


def count(call):
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200
    return len(context)


@pytest.mark.parametrize("who", ["manager", "agent", "evaluator"])
def test_lists_and_pages_cost_the_same_for_3_and_20_rows(
    world, client_for, api_for, manager, evaluator, agent, who, django_assert_max_num_queries
):
    user = {"manager": manager, "agent": agent, "evaluator": evaluator}[who]
    client, api = client_for(user), api_for(user)
    urls = ["/service-quality/", "/service-quality/evaluations/", "/service-quality/scorecards/"]
    _many_evaluations(world, 3, evaluator=evaluator, agent=agent)
    api.get(f"{API}/scorecards/")  # warm: the user's roles are read once and kept on the user
    small = [count(lambda u=u: client.get(u)) for u in urls]
    small_api = [
        count(lambda u=u: api.get(u)) for u in (f"{API}/evaluations/", f"{API}/scorecards/")
    ]
    _many_evaluations(world, 17, evaluator=evaluator, agent=agent)
    large = [count(lambda u=u: client.get(u)) for u in urls]
    large_api = [
        count(lambda u=u: api.get(u)) for u in (f"{API}/evaluations/", f"{API}/scorecards/")
    ]
    assert small == large and small_api == large_api, (small, large, small_api, large_api)
    for url in urls:
        with django_assert_max_num_queries(12):
            client.get(url)


def test_evaluation_and_scorecard_pages_within_budget(
    world, client_for, evaluator, manager, django_assert_max_num_queries
):
    evaluation = world["agent_eval"]
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            evaluation.scorecard, reference_quoted="yes", empathy="3", clear_next_step="no"
        ),
    )
    as_evaluator, as_manager = client_for(evaluator), client_for(manager)
    with django_assert_max_num_queries(12):
        assert as_evaluator.get(evaluation.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert as_manager.get(world["scorecard"].get_absolute_url()).status_code == 200


def test_openapi_schema_documents_the_service_quality_endpoints(api_for, staff):
    response = api_for(staff).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for path in (
        "/api/v1/service-quality/scorecards/",
        "/api/v1/service-quality/scorecards/{id}/transitions/",
        "/api/v1/service-quality/scorecards/{id}/revisions/",
        "/api/v1/service-quality/evaluations/",
        "/api/v1/service-quality/evaluations/{id}/scores/",
        "/api/v1/service-quality/evaluations/{id}/history/",
    ):
        assert path in paths, path


def test_start_page_without_a_complaint_offers_a_choice(world, client_for, evaluator):
    page = client_for(evaluator).get("/service-quality/evaluations/new/")
    assert page.status_code == 200 and world["complaint"].reference.encode() in page.content


def test_demo_data_is_complete_and_idempotent(db):
    from django.core.management import call_command

    from service_quality.models import (
        CalibrationSession,
        CoachingRecord,
        EvaluationTask,
        SamplingRule,
    )

    call_command("seed_demo", verbosity=0)

    def counts():
        return (
            Scorecard.objects.filter(status="in_force").count(),
            Evaluation.objects.filter(status__in=["submitted", "disputed"]).count(),
            Evaluation.objects.values("subject").distinct().count(),
            SamplingRule.objects.count(),
            CoachingRecord.objects.count(),
            EvaluationTask.objects.count(),
        )

    before = counts()
    scorecards, scored, people, rules, coaching, _tasks = before
    assert (scorecards, rules) == (2, 2)
    assert scored >= 14 + 24 and people >= 5  # a month of evaluations for a handful of staff
    assert coaching == 4 and EvaluationTask.objects.filter(reason="follow_up").count() == 1
    assert CoachingRecord.objects.filter(status="acknowledged").count() == 2
    assert CoachingRecord.objects.filter(training_assignment__isnull=False).count() == 1
    assert Evaluation.objects.filter(status="disputed").count() == 1
    assert Evaluation.objects.filter(kind="handling", status="submitted").exists()
    assert CalibrationSession.objects.filter(status="closed").count() == 1
    call_command("seed_demo", verbosity=0)
    assert counts() == before


def test_pages_offer_only_the_buttons_the_user_may_use(world, client_for, evaluator, agent):
    evaluation = world["agent_eval"]
    services.evaluation_score(
        evaluation,
        actor=evaluator,
        answers=answers_by_label(
            evaluation.scorecard, reference_quoted="yes", empathy="3", clear_next_step="no"
        ),
    )
    services.evaluation_transition(evaluation, "submit", actor=evaluator)
    assert [
        a.name for a in client_for(evaluator).get(evaluation.get_absolute_url()).context["actions"]
    ] == []
    assert [
        a.name for a in client_for(agent).get(evaluation.get_absolute_url()).context["actions"]
    ] == ["dispute"]
