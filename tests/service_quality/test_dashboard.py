"""The service-quality dashboard: quality score per person, team and criterion week by week,
critical fails, coverage and coaching from the KPI registry, the correlation of the score with
CSAT and NPS (n said), each reader seeing what they may read, within the query budget."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from qms import roles as qms_roles
from qms.models import Department
from service_quality import dashboard, services
from tests.conftest import make_user
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db

# A Wednesday; the dashboard's weeks run Monday to Sunday.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def test_pearson_and_spearman_known_values():
    assert dashboard.pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert dashboard.pearson([1, 2, 3, 4], [8, 6, 4, 2]) == pytest.approx(-1.0)
    # r of (1,2,3,4,5) with (2,1,4,3,5): 0.8
    assert dashboard.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    # Monotone but not linear: Spearman 1, Pearson below 1.
    xs, ys = [1, 2, 3, 4, 5], [1, 2, 4, 8, 100]
    assert dashboard.spearman(xs, ys) == pytest.approx(1.0)
    assert dashboard.pearson(xs, ys) < 0.9


def test_ranks_average_ties_and_degenerate_inputs():
    assert dashboard.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert dashboard.pearson([1, 2], [1, 2]) is None  # fewer than 3 pairs
    assert dashboard.pearson([1, 1, 1], [1, 2, 3]) is None  # no variance
    assert dashboard.spearman([1, 2, 3], [5, 5, 5]) is None
    assert dashboard.strength(None) == "not enough data"
    assert dashboard.strength(0.05) == "no correlation"
    assert dashboard.strength(-0.6) == "a strong negative correlation"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def teams(manager):
    return Department.objects.create(name="Front desk"), Department.objects.create(name="Field")


@pytest.fixture
def people(db, manager, teams):
    desk, field = teams
    lead = make_user("lead", qms_roles.STAFF)
    ann = make_user("ann", qms_roles.STAFF, department=desk, manager=lead)
    bob = make_user("bob", qms_roles.STAFF, department=desk, manager=lead)
    cy = make_user("cy", qms_roles.STAFF, department=field)
    return {"lead": lead, "ann": ann, "bob": bob, "cy": cy}


def evaluate(card, *, evaluator, person, ref, empathy, step, at, csat=None, nps=None):
    """A submitted evaluation of one e-mail by `person`, submitted at `at`; with a survey
    answer on its complaint when csat is given."""
    complaint = make_complaint(actor=person, assignee=person, received_at=at - timedelta(days=1))
    entry = add_communication(complaint, author=person, summary="Reply", at=at - timedelta(hours=2))
    with time_machine.travel(at, tick=False):
        evaluation = services.evaluation_create(
            actor=evaluator, scorecard=card, complaint=complaint, communication=entry
        )
        services.evaluation_score(
            evaluation,
            actor=evaluator,
            answers=answers_by_label(
                card, reference_quoted=ref, empathy=empathy, clear_next_step=step
            ),
        )
        services.evaluation_transition(evaluation, "submit", actor=evaluator)
    if csat is not None:
        from complaints.models import Survey

        Survey.objects.create(
            complaint=complaint,
            email="c@example.com",
            token_hash=f"{evaluation.pk:064d}",
            sent_at=at,
            expires_at=at + timedelta(days=14),
            answered_at=at,
            csat=csat,
            ces=3,
            nps=nps,
        )
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def month(clock, manager, evaluator, people):
    """Three weeks of evaluations: ann improves, bob has a critical fail, cy is steady."""
    card = make_scorecard(manager=manager)
    this_monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    made = []
    plan = [
        # (person, weeks ago, ref, empathy, step, csat, nps)
        ("ann", 2, "yes", "2", "no", 2, 3),  # 2/6*... see scoring: 2*1 + 3*0.25 + 0 = 2.75/6
        ("ann", 1, "yes", "4", "no", 3, 6),
        ("ann", 0, "yes", "5", "yes", 5, 10),
        ("bob", 1, "no", "5", "yes", 1, 0),  # critical fail
        ("bob", 0, "yes", "3", "yes", 4, 8),
        ("cy", 0, "yes", "4", "yes", 4, 9),
    ]
    for name, weeks_ago, ref, empathy, step, csat, nps in plan:
        at = timezone.make_aware(
            datetime.combine(this_monday - timedelta(weeks=weeks_ago), datetime.min.time())
        ) + timedelta(hours=11)
        made.append(
            evaluate(
                card,
                evaluator=evaluator,
                person=people[name],
                ref=ref,
                empathy=empathy,
                step=step,
                at=at,
                csat=csat,
                nps=nps,
            )
        )
    return card, made


def test_scores_per_person_team_and_criterion_week_by_week(month, manager, people):
    card, made = month
    board = dashboard.service_quality_dashboard(manager, dashboard.Filters(weeks=4))
    assert len(board["weeks"]) == 4 and board["weeks"][0].weekday() == 0
    persons = {row["label"]: row for row in board["persons"]}
    ann = persons[people["ann"].full_name]
    expected = [None, *(float(e.score_percent) for e in made[:3])]
    assert ann["weeks"] == [pytest.approx(v, abs=0.05) if v is not None else None for v in expected]
    assert ann["n"] == 3
    teams = {row["label"]: row for row in board["teams"]}
    desk_mean = sum(float(e.score_percent) for e in made[:5]) / 5
    assert teams["Front desk"]["mean"] == pytest.approx(desk_mean, abs=0.05)
    assert teams["Field"]["n"] == 1
    criteria = {row["label"]: row for row in board["criteria"]}
    reference = criteria[f"Reference quoted ({card.code})"]
    assert reference["n"] == 6 and reference["failed"] == 1
    assert reference["mean"] == pytest.approx(100 * 5 / 6, abs=0.05)
    assert board["evaluations"] == 6 and board["critical"] == 1
    assert board["critical_rate"] == pytest.approx(16.7)
    assert board["critical_weeks"][2] == 50.0  # bob's week: 1 of 2


def test_registry_kpis_agree_with_the_page(month, manager):
    from metrics.kpis import compute_kpis

    board = dashboard.service_quality_dashboard(manager, dashboard.Filters(weeks=4))
    registry = compute_kpis(board["period"])
    for code in ("sq_auto_coverage", "sq_human_coverage", "sq_coaching_on_time_rate"):
        assert board["kpis"][code].value == registry[code].value
    assert registry["sq_critical_fail_rate"].value == pytest.approx(
        board["critical_rate"], abs=0.05
    )
    assert registry["sq_quality_score"].value == pytest.approx(board["mean"], abs=0.05)


def test_correlation_with_csat_and_nps_says_n(month, manager):
    card, made = month
    board = dashboard.service_quality_dashboard(manager, dashboard.Filters(weeks=4))
    csat, nps = board["correlation"]
    assert csat["n"] == nps["n"] == 6
    scores = [float(e.score_percent) for e in made]
    assert csat["pearson"] == pytest.approx(round(dashboard.pearson(scores, [2, 3, 5, 1, 4, 4]), 2))
    assert nps["spearman"] == pytest.approx(
        round(dashboard.spearman(scores, [3, 6, 10, 0, 8, 9]), 2)
    )
    assert csat["spearman"] > 0.5 and "positive" in csat["reading"]


def test_people_see_their_own_figures_and_leads_their_team(month, people, client_for):
    ann = dashboard.service_quality_dashboard(people["ann"], dashboard.Filters(weeks=4))
    assert [row["label"] for row in ann["persons"]] == [people["ann"].full_name]
    assert ann["kpis"] is None  # organisation-wide figures are for those who see everything
    lead = dashboard.service_quality_dashboard(people["lead"], dashboard.Filters(weeks=4))
    assert {row["label"] for row in lead["persons"]} == {
        people["ann"].full_name,
        people["bob"].full_name,
    }
    page = client_for(people["cy"]).get("/service-quality/dashboard/").content.decode()
    assert people["cy"].full_name in page and people["ann"].full_name not in page


def test_filters_by_team_scorecard_and_weeks(month, manager, teams):
    card, _made = month
    desk, field = teams
    board = dashboard.service_quality_dashboard(
        manager, dashboard.Filters(weeks=4, department=field.pk)
    )
    assert board["evaluations"] == 1
    board = dashboard.service_quality_dashboard(
        manager, dashboard.Filters(weeks=4, scorecard="SQC-999")
    )
    assert board["evaluations"] == 0 and board["correlation"][0]["n"] == 0
    board = dashboard.service_quality_dashboard(manager, dashboard.Filters(weeks=1))
    assert board["evaluations"] == 3


def test_bad_filters_fall_back_with_a_message(month, client_for, manager):
    page = client_for(manager).get(
        "/service-quality/dashboard/", {"weeks": "9999", "department": "x'--", "scorecard": "<b>"}
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Weeks: choose one of" in text and "Team: not a team" in text
    assert "Scorecard: not a scorecard code" in text


def test_dashboard_page_for_every_role_within_the_query_budget(
    month, manager, auditor, employee, people, client_for, django_assert_max_num_queries
):
    for user in (manager, auditor, employee, people["ann"]):
        client = client_for(user)
        client.get("/service-quality/dashboard/")
        with django_assert_max_num_queries(12):
            response = client.get("/service-quality/dashboard/?weeks=8")
        assert response.status_code == 200
    page = client_for(manager).get("/service-quality/dashboard/").content.decode()
    assert "chart-sq-score" in page and "Spearman" in page and "Front desk" in page


def test_the_page_costs_the_same_with_more_data(month, manager, evaluator, people, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    client.get("/service-quality/dashboard/")
    with CaptureQueriesContext(connection) as few:
        client.get("/service-quality/dashboard/")
    card, _made = month
    for n in range(5):
        extra = make_user(f"extra{n}", qms_roles.STAFF)
        evaluate(
            card,
            evaluator=evaluator,
            person=extra,
            ref="yes",
            empathy="3",
            step="no",
            at=timezone.now() - timedelta(hours=1),
            csat=3,
            nps=7,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/service-quality/dashboard/")
    assert len(many) == len(few)


def test_dashboard_api(month, api_for, manager, people):
    response = api_for(manager).get("/api/v1/service-quality/dashboard/?weeks=4")
    assert response.status_code == 200
    body = response.json()
    assert body["evaluations"] == 6 and body["critical_rate"] == pytest.approx(16.7)
    assert {c["label"] for c in body["correlation"]} == {"CSAT", "NPS answer"}
    assert len(body["weeks"]) == 4
    mine = api_for(people["ann"]).get("/api/v1/service-quality/dashboard/").json()
    assert [p["label"] for p in mine["persons"]] == [people["ann"].full_name]
    assert api_for(manager).get("/api/v1/service-quality/dashboard/?weeks=x").status_code == 400


def test_the_quality_dashboard_score_tile_is_the_mean(month, manager):
    """The registry's mean is the mean of the evaluations' scores (no double weighting)."""
    _card, made = month
    board = dashboard.service_quality_dashboard(manager, dashboard.Filters(weeks=4))
    mean = sum(Decimal(e.score_percent) for e in made) / len(made)
    assert board["mean"] == pytest.approx(float(mean), abs=0.05)
