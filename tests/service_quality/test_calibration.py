"""Calibration: blind scores, agreed answers, spread per criterion and per evaluator; agreement
between automatic and human scores per criterion (share and Cohen's kappa)."""

import pytest

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from service_quality import agreement, calibration, services
from service_quality import evaluator as auto_evaluator
from tests.conftest import make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db


def test_kappa_known_values():
    # Perfect agreement, chance-level agreement, and a textbook table (p_o 0.7, p_e 0.5 -> 0.4).
    assert agreement.cohen_kappa([("yes", "yes"), ("no", "no")]) == 1.0
    assert (
        agreement.cohen_kappa([("yes", "yes"), ("yes", "no"), ("no", "yes"), ("no", "no")]) == 0.0
    )
    table = {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    assert agreement.kappa_from_counts(table) == pytest.approx(0.4)
    assert agreement.share_agreed(table) == pytest.approx(0.7)
    assert agreement.cohen_kappa([]) is None
    assert agreement.cohen_kappa([("yes", "yes")] * 3) == 1.0  # one category only
    assert agreement.cohen_kappa([("yes", "no"), ("no", "yes")]) == pytest.approx(-1.0)


@pytest.fixture
def session_setup(manager, evaluator, agent):
    card = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entries = [add_communication(complaint, author=agent, summary=f"Reply {i}") for i in range(2)]
    second = make_user("evaluator2", qms_roles.STAFF, job_function="Evaluator")
    session = calibration.calibration_create(
        actor=manager,
        name="November calibration",
        scorecard=card,
        participants=[evaluator, second],
        interactions=[(complaint, e) for e in entries],
    )
    return session, card, second


def keyed(session, card, **by_label):
    ids = {c.label.replace(" ", "_").lower(): c.pk for c in card.criteria.all()}
    result = {}
    for item in session.items.all():
        for label, answer in by_label.items():
            result[f"{item.pk}:{ids[label]}"] = answer
    return result


def test_blind_scores_agreed_answers_and_spread(session_setup, manager, evaluator):
    session, card, second = session_setup
    calibration.calibration_score(
        session,
        actor=evaluator,
        answers=keyed(session, card, reference_quoted="yes", empathy="4", clear_next_step="no"),
    )
    calibration.calibration_score(
        session,
        actor=second,
        answers=keyed(session, card, reference_quoted="yes", empathy="2", clear_next_step="yes"),
    )
    blind = calibration.calibration_view(session, second)
    assert blind["closed"] is False and blind["per_criterion"] == [] and blind["agreed"] == {}
    assert set(blind["mine"].values()) == {"yes", "2"}  # only their own
    with pytest.raises(IllegalTransition, match="agreed"):
        calibration.calibration_close(session, actor=manager)
    with pytest.raises(NotAllowed):
        calibration.calibration_agree(
            session, actor=evaluator, answers=keyed(session, card, empathy="4")
        )
    calibration.calibration_agree(
        session,
        actor=manager,
        answers=keyed(session, card, reference_quoted="yes", empathy="4", clear_next_step="no"),
    )
    calibration.calibration_close(session, actor=manager)
    session.refresh_from_db()
    report = calibration.calibration_view(session, second)
    by_criterion = {row["criterion"]: row for row in report["per_criterion"]}
    assert by_criterion["Reference quoted"]["agreement"] == 1.0
    assert by_criterion["Empathy"]["answers"] == {"2": 2, "4": 2}
    assert by_criterion["Empathy"]["agreement"] == 0.5
    by_person = {row["evaluator"]: row["agreement"] for row in report["per_evaluator"]}
    assert by_person == {"Evaluator Tester": 1.0, "Evaluator2 Tester": pytest.approx(1 / 3)}
    with pytest.raises(IllegalTransition):
        calibration.calibration_score(
            session, actor=evaluator, answers=keyed(session, card, empathy="5")
        )


def test_bad_calibration_input(session_setup, manager, evaluator, agent):
    session, card, second = session_setup
    with pytest.raises(NotAllowed):
        calibration.calibration_score(
            session, actor=agent, answers=keyed(session, card, empathy="3")
        )
    for bad in ({}, {"x": "yes"}, {"999:1": "yes"}, keyed(session, card, empathy="yes")):
        with pytest.raises(ValidationFailed):
            calibration.calibration_score(session, actor=evaluator, answers=bad)
    with pytest.raises(ValidationFailed):
        calibration.calibration_create(
            actor=manager, name="x", scorecard=card, participants=[evaluator], interactions=[]
        )
    with pytest.raises(NotAllowed):
        calibration.calibration_create(
            actor=agent, name="x", scorecard=card, participants=[evaluator, second], interactions=[]
        )


def test_auto_vs_human_agreement_per_criterion(manager, evaluator, agent, friction_list):
    card = make_scorecard(
        manager=manager,
        criteria=[
            {
                "section": "Compliance",
                "label": "Privacy",
                "scale": "yes_no",
                "weight": 1,
                "auto_rule": "required_phrase",
                "phrases": ["privacy notice"],
            },
            {"section": "Communication", "label": "Empathy", "scale": "one_to_five", "weight": 1},
        ],
    )
    complaint = make_complaint(actor=agent, assignee=agent)
    texts = ["Our privacy notice applies.", "Hello.", "See the privacy notice.", "Thanks."]
    human = [
        "yes",
        "yes",
        "yes",
        "no",
    ]  # the evaluator disagrees once ("Hello." said it on the phone)
    entries = [add_communication(complaint, author=agent, summary=t) for t in texts]
    auto_evaluator.interactions_evaluate()
    for entry, answer in zip(entries, human, strict=True):
        evaluation = services.evaluation_create(
            actor=evaluator, scorecard=card, complaint=complaint, communication=entry
        )
        services.evaluation_score(
            evaluation, actor=evaluator, answers=answers_by_label(card, privacy=answer, empathy="3")
        )
        services.evaluation_transition(evaluation, "submit", actor=evaluator)
    rows = agreement.auto_vs_human([card.pk])
    assert len(rows) == 1
    row = rows[0]
    assert (row["label"], row["pairs"], row["agreement"]) == ("Privacy", 4, 0.75)
    assert row["kappa"] == pytest.approx(0.5)


API = "/api/v1/service-quality"


def test_calibration_pages_and_api(
    manager, evaluator, agent, api_for, client_for, auditor, django_assert_max_num_queries
):
    card = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Reply")
    second = make_user("evaluator2", qms_roles.STAFF, job_function="Evaluator")
    api = api_for(manager)
    body = {
        "name": "Weekly",
        "scorecard": card.pk,
        "participants": [evaluator.pk, second.pk],
        "interactions": [{"complaint": complaint.pk, "communication": entry.pk}],
    }
    assert (
        api.post(
            f"{API}/calibrations/", {**body, "participants": [evaluator.pk]}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.post(f"{API}/calibrations/", {**body, "interactions": []}, format="json").status_code
        == 400
    )
    assert api_for(auditor).post(f"{API}/calibrations/", body, format="json").status_code == 403
    created = api.post(f"{API}/calibrations/", body, format="json")
    assert created.status_code == 201, created.json()
    pk, item = created.json()["id"], created.json()["items"][0]["id"]
    empathy = card.criteria.get(label="Empathy").pk
    assert (
        api_for(evaluator)
        .put(
            f"{API}/calibrations/{pk}/scores/",
            {"answers": {f"{item}:{empathy}": "9"}},
            format="json",
        )
        .status_code
        == 400
    )
    assert (
        api_for(evaluator)
        .put(f"{API}/calibrations/{pk}/scores/", {"answers": {}}, format="json")
        .status_code
        == 400
    )
    mine = api_for(evaluator).put(
        f"{API}/calibrations/{pk}/scores/", {"answers": {f"{item}:{empathy}": "4"}}, format="json"
    )
    assert mine.status_code == 200 and mine.json()["mine"] == {f"{item}:{empathy}": "4"}
    assert api.post(f"{API}/calibrations/{pk}/close/").status_code == 409
    client = client_for(second)
    with django_assert_max_num_queries(12):
        page = client.get(f"/service-quality/calibration/{pk}/")
    assert page.status_code == 200 and b"Your blind scores" in page.content
    assert (
        client.post(
            f"/service-quality/calibration/{pk}/", {"form": "score", f"a_{item}:{empathy}": "2"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/service-quality/calibration/{pk}/", {"form": "score", f"a_{item}:{empathy}": "yes"}
        ).status_code
        == 400
    )
    answers = {
        f"{item}:{c.pk}": ("4" if c.scale == "one_to_five" else "yes") for c in card.criteria.all()
    }
    assert (
        client_for(manager)
        .post(
            f"/service-quality/calibration/{pk}/",
            {"form": "agree", **{f"a_{k}": v for k, v in answers.items()}},
        )
        .status_code
        == 302
    )
    closed = api.post(f"{API}/calibrations/{pk}/close/")
    assert closed.status_code == 200 and closed.json()["closed"] is True
    report = api_for(second).get(f"{API}/calibrations/{pk}/report/").json()
    assert {r["evaluator"]: r["agreement"] for r in report["per_evaluator"]} == {
        "Evaluator Tester": 1.0,
        "Evaluator2 Tester": 0.0,
    }
    with django_assert_max_num_queries(12):
        assert client.get("/service-quality/calibration/").status_code == 200
    assert api_for(auditor).get(f"{API}/agreement/").status_code == 200


# --- agreement between evaluators, automatic vs agreed, and the page to start a session ---------


def test_agreement_between_evaluators_and_with_the_automatic_scores(
    manager, evaluator, agent, friction_list
):
    card = make_scorecard(
        manager=manager,
        criteria=[
            {
                "section": "Compliance",
                "label": "Reference quoted",
                "scale": "yes_no",
                "weight": 2,
                "is_critical": True,
                "auto_rule": "required_phrase",
                "phrases": ["CMP-"],
            },
            {"section": "Communication", "label": "Empathy", "scale": "one_to_five", "weight": 1},
        ],
    )
    complaint = make_complaint(actor=agent, assignee=agent)
    texts = [f"Your reference is {complaint.reference}.", "We are on it.", "Hello.", "Done."]
    entries = [add_communication(complaint, author=agent, summary=t) for t in texts]
    auto_evaluator.interactions_evaluate()  # reference quoted: yes, no, no, no
    second = make_user("evaluator2", qms_roles.STAFF, job_function="Evaluator")
    third = make_user("evaluator3", qms_roles.STAFF, job_function="Evaluator")
    session = calibration.calibration_create(
        actor=manager,
        name="Three raters",
        scorecard=card,
        participants=[evaluator, second, third],
        interactions=[(complaint, e) for e in entries],
    )
    items = list(session.items.order_by("pk"))
    ref, empathy = (card.criteria.get(label=x).pk for x in ("Reference quoted", "Empathy"))
    raters = {
        evaluator: (["yes", "no", "no", "no"], ["4", "4", "3", "5"]),
        second: (["yes", "no", "no", "yes"], ["4", "4", "3", "5"]),
        third: (["yes", "no", "no", "no"], ["2", "4", "3", "1"]),
    }
    for person, (refs, empathies) in raters.items():
        answers = {}
        for item, r, e in zip(items, refs, empathies, strict=True):
            answers[f"{item.pk}:{ref}"] = r
            answers[f"{item.pk}:{empathy}"] = e
        calibration.calibration_score(session, actor=person, answers=answers)
    agreed = {f"{i.pk}:{ref}": a for i, a in zip(items, ["yes", "no", "no", "no"], strict=True)}
    agreed.update({f"{i.pk}:{empathy}": "4" for i in items})
    calibration.calibration_agree(session, actor=manager, answers=agreed)
    calibration.calibration_close(session, actor=manager)
    session.refresh_from_db()
    report = calibration.calibration_view(session, manager)
    rows = {row["criterion"]: row for row in report["per_criterion"]}
    # Between evaluators: 3 pairs x 4 items; on "Reference quoted" second disagrees once with
    # each of the other two: 10 of 12 pairs agree.
    assert rows["Reference quoted"]["pairs"] == 12
    assert rows["Reference quoted"]["between_agreement"] == pytest.approx(10 / 12)
    pair_kappas = [
        agreement.cohen_kappa(zip(a, b, strict=True))
        for a, b in (
            (raters[evaluator][0], raters[second][0]),
            (raters[evaluator][0], raters[third][0]),
            (raters[second][0], raters[third][0]),
        )
    ]
    assert rows["Reference quoted"]["between_kappa"] == pytest.approx(sum(pair_kappas) / 3)
    # The automatic answers against the agreed ones: all four agree on "Reference quoted";
    # Empathy is not measured automatically.
    auto = {row["criterion"]: row for row in report["auto_vs_agreed"]}
    assert auto["Reference quoted"]["pairs"] == 4
    assert auto["Reference quoted"]["agreement"] == 1.0 and auto["Reference quoted"]["kappa"] == 1.0
    assert "Empathy" not in auto


def test_the_page_shows_agreement_between_evaluators_and_automatic(
    session_setup, manager, evaluator, client_for
):
    session, card, second = session_setup
    for person, empathy in ((evaluator, "4"), (second, "2")):
        calibration.calibration_score(
            session,
            actor=person,
            answers=keyed(
                session, card, reference_quoted="yes", empathy=empathy, clear_next_step="no"
            ),
        )
    calibration.calibration_agree(
        session,
        actor=manager,
        answers=keyed(session, card, reference_quoted="yes", empathy="4", clear_next_step="no"),
    )
    calibration.calibration_close(session, actor=manager)
    page = client_for(evaluator).get(session.get_absolute_url()).content.decode()
    assert "Between evaluators" in page and "Automatic against the agreed answers" in page
    assert "Cohen" in page


def test_an_evaluator_starts_a_session_from_the_page(
    manager, evaluator, agent, client_for, auditor
):
    card = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entries = [add_communication(complaint, author=agent, summary=f"Reply {i}") for i in range(3)]
    second = make_user("evaluator2", qms_roles.STAFF, job_function="Evaluator")
    client = client_for(evaluator)
    start = client.get(f"/service-quality/calibration/new/?scorecard={card.pk}")
    assert start.status_code == 200
    text = start.content.decode()
    assert f'value="{entries[0].pk}"' in text and second.full_name in text
    bad = client.post(
        f"/service-quality/calibration/new/?scorecard={card.pk}",
        {"name": "", "participants": [evaluator.pk], "communications": []},
    )
    assert bad.status_code == 400
    assert "at least two evaluators" in bad.content.decode() or "required" in bad.content.decode()
    ok = client.post(
        f"/service-quality/calibration/new/?scorecard={card.pk}",
        {
            "name": "December calibration",
            "participants": [evaluator.pk, second.pk],
            "communications": [entries[0].pk, entries[2].pk],
        },
    )
    assert ok.status_code == 302
    from service_quality.models import CalibrationSession

    session = CalibrationSession.objects.get(name="December calibration")
    assert session.facilitator == evaluator and session.items.count() == 2
    assert client_for(auditor).get("/service-quality/calibration/new/").status_code == 403
    refused = client_for(agent).get("/service-quality/calibration/new/")
    assert refused.status_code == 200 and b"Only evaluators start" in refused.content
    assert (
        client_for(agent)
        .post(f"/service-quality/calibration/new/?scorecard={card.pk}", {"name": "Mine"})
        .status_code
        == 403
    )
    listing = client.get("/service-quality/calibration/").content.decode()
    assert "/service-quality/calibration/new/" in listing
