"""Targets and thresholds: an alert is raised ONCE when the KPI crosses its threshold, notifies
the owners, becomes a CAPA in one click, and clears when the KPI recovers."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from metrics import services
from metrics.models import KpiAlert
from qms.errors import IllegalTransition, NotAllowed
from qms.models import Notification, Transition
from tests.metrics.conftest import at, days_ago, make_target

pytestmark = pytest.mark.django_db


def unhappy_customers(build, n: int, *, csat: int = 2):
    complaint = build.complaint(received_at=at(days_ago(3)))
    for _ in range(n):
        build.survey(complaint, answered_at=at(days_ago(1)), csat=csat, ces=3, nps=5)


def test_crossing_the_threshold_raises_one_alert_and_notifies_the_owners(build, manager, staff):
    target = make_target("csat", target=90, threshold=80, owners=[staff])
    unhappy_customers(build, 3)
    first = services.evaluate_kpi_targets()
    assert len(first.raised) == 1 and first.cleared == []
    alert = KpiAlert.objects.get()
    assert alert.status == "open" and alert.value == 0.0 and alert.target == target
    assert Notification.objects.filter(recipient=staff, subject__startswith="KPI alert: CSAT").count() == 1
    assert not Notification.objects.filter(recipient=manager).exists()  # owners only
    # Second and third runs: still one alert, no new notification.
    services.evaluate_kpi_targets()
    services.evaluate_kpi_targets()
    assert KpiAlert.objects.count() == 1
    assert Notification.objects.filter(subject__startswith="KPI alert").count() == 1
    assert alert.history.first().history_user.username == "system"


def test_without_owners_the_quality_managers_are_notified(build, manager):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 2)
    services.evaluate_kpi_targets()
    assert Notification.objects.filter(recipient=manager, subject__startswith="KPI alert").count() == 1


def test_the_alert_clears_when_the_kpi_recovers_and_a_new_crossing_raises_a_new_one(build):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 1)
    services.evaluate_kpi_targets()
    alert = KpiAlert.objects.get()
    unhappy_customers(build, 9, csat=5)  # 9 of 10 satisfied: 90%
    result = services.evaluate_kpi_targets()
    assert result.cleared == [alert.pk] and result.raised == []
    alert.refresh_from_db()
    assert alert.status == "cleared" and alert.cleared_value == 90.0 and alert.cleared_at
    assert Transition.objects.filter(object_id=alert.pk, action="clear", to_state="cleared").count() == 1
    assert services.evaluate_kpi_targets().cleared == []  # nothing left to clear
    unhappy_customers(build, 10)
    assert len(services.evaluate_kpi_targets().raised) == 1
    assert KpiAlert.objects.filter(status="open").count() == 1 and KpiAlert.objects.count() == 2


def test_no_data_neither_raises_nor_clears(build):
    make_target("csat", target=90, threshold=80)
    assert services.evaluate_kpi_targets().raised == []
    unhappy_customers(build, 1)
    services.evaluate_kpi_targets()
    target = KpiAlert.objects.get().target
    target.window_days = 1  # the unhappy answer was yesterday: today has no data
    target.save(update_fields=["window_days"])
    assert services.evaluate_kpi_targets().cleared == []
    assert KpiAlert.objects.get().status == "open"


def test_inactive_targets_are_not_evaluated(build):
    target = make_target("csat", target=90, threshold=80)
    target.is_active = False
    target.save(update_fields=["is_active"])
    unhappy_customers(build, 2)
    assert services.evaluate_kpi_targets().evaluated == 0
    assert not KpiAlert.objects.exists()


def test_lower_is_better_kpis_alert_above_the_threshold(build):
    make_target("overdue_complaints", target=0, threshold=1)
    for _ in range(2):
        build.complaint(received_at=at(days_ago(2)), first_response_due=at(days_ago(2), 13))
    services.evaluate_kpi_targets()
    assert KpiAlert.objects.get().value == 2


def test_the_database_allows_one_open_alert_per_target(build):
    target = make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 1)
    services.evaluate_kpi_targets()
    assert services.alert_raise(target=target, value=1.0) is None
    with pytest.raises(IntegrityError):
        KpiAlert.objects.create(target=target, kpi="csat", value=1, threshold=80, window_days=30)


def test_raise_a_capa_from_the_alert_in_one_click(build, client_for, staff):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 2)
    services.evaluate_kpi_targets()
    alert = KpiAlert.objects.get()
    client = client_for(staff)
    page = client.get(alert.get_absolute_url()).content.decode()
    assert "Raise a CAPA from this alert" in page
    response = client.post(reverse("metrics:alert-raise-capa", args=[alert.pk]))
    alert.refresh_from_db()
    capa = alert.capa
    assert response.status_code == 302 and response["Location"] == capa.get_absolute_url()
    assert capa.source == "kpi_trend" and capa.owner == staff and "CSAT" in capa.title
    assert f"KPI alert #{alert.pk}" in capa.problem_statement
    # A second click makes no second CAPA.
    client.post(reverse("metrics:alert-raise-capa", args=[alert.pk]))
    assert type(capa).objects.filter(source="kpi_trend").count() == 1
    with pytest.raises(IllegalTransition):
        services.alert_raise_capa(alert, actor=staff)
    assert alert.history.first().history_change_reason.startswith(f"CAPA {capa.reference}")


def test_auditors_and_employees_cannot_raise_a_capa(build, client_for, auditor, employee):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 2)
    services.evaluate_kpi_targets()
    alert = KpiAlert.objects.get()
    for user in (auditor, employee):
        assert client_for(user).post(reverse("metrics:alert-raise-capa", args=[alert.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        services.alert_raise_capa(alert, actor=auditor)
    assert KpiAlert.objects.get().capa is None


def test_nobody_clears_an_alert_by_hand(build, manager):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 2)
    services.evaluate_kpi_targets()
    from metrics.workflow import ALERT_WORKFLOW
    from qms.workflow import transition

    with pytest.raises(NotAllowed):
        transition(ALERT_WORKFLOW, KpiAlert.objects.get(), "clear", actor=manager)


def test_alert_pages_and_my_work(build, client_for, manager, staff):
    make_target("csat", target=90, threshold=80)
    unhappy_customers(build, 2)
    services.evaluate_kpi_targets()
    client = client_for(manager)
    assert "CSAT" in client.get(reverse("metrics:alerts") + "?status=open").content.decode()
    assert "no CAPA yet" in client.get(reverse("home")).content.decode()
    assert "Open KPI alerts" not in client_for(staff).get(reverse("home")).content.decode()
    assert client.get(reverse("metrics:alerts") + "?status=bogus").status_code == 200
