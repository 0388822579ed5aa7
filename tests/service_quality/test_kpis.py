"""Service-quality KPIs in the KPI registry (targets and alerts work on them) and their tile
section on the dashboard."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.kpis import KPI_BY_CODE, KPI_CHOICES, Period, compute_kpis
from service_quality import evaluator as auto_evaluator
from service_quality import services
from tests.service_quality.conftest import (
    add_communication,
    answers_by_label,
    make_complaint,
    make_scorecard,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(manager, evaluator, agent, friction_list):
    card = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entries = [add_communication(complaint, author=agent, summary=f"Reply {i}") for i in range(4)]
    auto_evaluator.interactions_evaluate()
    results = [("yes", "5", "yes"), ("no", "5", "yes")]  # 100, and a critical fail at 66.67
    for entry, (ref, empathy, step) in zip(entries, results, strict=False):
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
    last = evaluation
    services.coaching_create(
        last,
        actor=evaluator,
        moment="m",
        what_good_looks_like="g",
        agreed_action="a",
        due_on=timezone.localdate(),
    )
    return entries


def test_the_registry_computes_the_service_quality_kpis(evaluated):
    values = compute_kpis(Period.last_days(7))
    assert values["sq_quality_score"].value == pytest.approx(
        float((Decimal("100") + Decimal("66.67")) / 2)
    )
    assert values["sq_critical_fail_rate"].value == 50.0
    assert values["sq_auto_coverage"].value == 100.0
    assert values["sq_human_coverage"].value == 50.0
    assert values["sq_coaching_on_time_rate"].value == 0.0  # due today, not acknowledged yet
    assert KPI_BY_CODE["sq_critical_fail_rate"].direction == "down"


def test_an_empty_period_has_no_data():
    values = compute_kpis(
        Period(
            timezone.localdate() - timedelta(days=400), timezone.localdate() - timedelta(days=390)
        )
    )
    assert all(
        values[code].value is None
        for code in (
            "sq_quality_score",
            "sq_critical_fail_rate",
            "sq_auto_coverage",
            "sq_coaching_on_time_rate",
        )
    )


def test_dashboard_has_a_service_quality_tile_section(
    evaluated, client_for, manager, django_assert_max_num_queries
):
    client = client_for(manager)
    client.get("/metrics/")
    with django_assert_max_num_queries(12):
        page = client.get("/metrics/")
    assert page.status_code == 200
    assert b"Service quality" in page.content and b"Critical-fail rate" in page.content


def test_service_quality_kpis_can_have_targets():
    codes = {code for code, _ in KPI_CHOICES}
    assert {"sq_quality_score", "sq_critical_fail_rate", "sq_coaching_on_time_rate"} <= codes
