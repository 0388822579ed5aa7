"""The manager dashboard in real Chromium: its charts are drawn (pixels on every canvas), the
numbers are there as tables, a KPI crossing its threshold raises an alert that the manager turns
into a CAPA in one click; it reads on a phone too. Screenshots in tests/e2e/artifacts/metrics-*.png."""

import datetime

import pytest
from playwright.sync_api import expect

from capa.models import Capa
from metrics import services
from metrics.models import KpiAlert
from qms.models import Department
from tests.conftest import PASSWORD, make_user
from tests.metrics.conftest import Builder, at, days_ago, make_target

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHARTS = ("chart-volume", "chart-sla", "chart-satisfaction", "chart-pareto", "chart-capa-ageing", "chart-training")

PIXELS_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
  return {painted, total: data.length / 4, chart: !!(window.qmsCharts && window.qmsCharts[id]), url: canvas.toDataURL().length};
}"""


WIDER_THAN_SCREEN = """() => Array.from(document.querySelectorAll("body *"))
  // the top bar is the base layout's (its nav scrolls sideways)
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-wrap, header.topbar"))
  .slice(0, 8).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))"""


def seed_quality_data(manager):
    """Sixty days of complaints, surveys, CAPAs and training, with their daily snapshots."""
    build = Builder(manager)
    h = datetime.timedelta(hours=1)
    quality, production = Department.objects.create(name="Quality"), Department.objects.create(name="Production")
    trainees = [make_user(f"trainee{i}", department=quality if i % 2 else production) for i in range(4)]
    categories = [build.category, build.other_category, build.category, build.category]
    for i in range(60):
        day = days_ago(60 - i)
        received = at(day, 9)
        ack = received + (2 + i % 5) * h
        complaint = build.complaint(
            received_at=received, acknowledged_at=ack, first_response_due=received + 4 * h,
            resolved_at=received + (20 + i % 30) * h if i < 52 else None, resolution_due=received + 40 * h,
            status="resolved" if i < 52 else "investigating", category=categories[i % 4],
            product=build.product if i % 3 else build.other_product, is_recurring=i % 9 == 0,
        )
        if i < 52 and i % 2 == 0:
            happy = i < 40
            build.survey(complaint, answered_at=received + 30 * h, csat=5 if happy else 2, ces=2 if happy else 6,
                         nps=9 if happy else 4)
        if i % 6 == 0:
            build.capa(created_at=at(day), due_date=days_ago(-20))
        if i % 10 == 0:
            document = build.document(next_review_due=days_ago(-100))
            for n, trainee in enumerate(trainees):
                done = (n + i) % 3 != 0
                build.assignment(user=trainee, document=document, assigned_at=at(day), due_date=day + datetime.timedelta(days=14),
                                 status="completed" if done else "assigned", completed_at=at(day, 16) if done else None)
    for months_back in (0, 1, 2, 3):
        month = (days_ago(0).replace(day=1) - datetime.timedelta(days=27 * months_back)).replace(day=1)
        build.shipped(month=month, units=1200 + 100 * months_back)
        build.shipped(product=build.other_product, month=month, units=800)
    for offset in range(61):
        services.snapshot_kpis(day=days_ago(offset))


def charts_are_drawn(page):
    page.wait_for_function("() => window.qmsCharts && Object.keys(window.qmsCharts).length === 6")
    for chart_id in CHARTS:
        drawn = page.evaluate(PIXELS_DRAWN, chart_id)
        assert drawn["chart"], chart_id
        assert drawn["painted"] > drawn["total"] * 0.01, f"{chart_id} looks blank: {drawn}"
        assert drawn["url"] > 3000, chart_id


def test_dashboard_draws_its_charts_and_an_alert_becomes_a_capa(page, live_server, login, screenshot, manager, staff, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # Given two months of quality data, CSAT falling over the last weeks, and targets
    seed_quality_data(manager)
    make_target("csat", target=90, threshold=80, window_days=30, owners=[manager])
    make_target("sla_first_response_rate", target=90, threshold=50, window_days=30)
    make_target("training_compliance_rate", target=95, threshold=50, window_days=1)

    # When the evaluation runs (beat, every 5 minutes), CSAT is past its threshold: one alert
    result = services.evaluate_kpi_targets()
    services.evaluate_kpi_targets()
    alert = KpiAlert.objects.get()
    assert result.raised == [alert.pk] and alert.kpi == "csat"

    # Then the manager's dashboard shows the tiles and draws every chart
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}/metrics/")
    expect(page.locator("h1")).to_have_text("Quality dashboard")
    expect(page.locator(".kpi-tile[data-kpi='csat'] .target")).to_contain_text("Target 90")
    expect(page.locator(".kpi-tile[data-kpi='csat']")).to_have_class("tile kpi-tile bad")
    charts_are_drawn(page)
    page.locator("details", has_text="Show the numbers").first.locator("summary").click()
    screenshot(page, "metrics-dashboard")

    # And on a phone the charts are drawn in one column
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    charts_are_drawn(page)
    box = page.locator("#chart-volume").bounding_box()
    assert box["width"] <= 390 and box["height"] > 150
    too_wide = page.evaluate(WIDER_THAN_SCREEN)
    assert not too_wide, f"wider than the phone: {too_wide}"
    screenshot(page, "metrics-dashboard-phone")
    screenshot(page, "metrics-dashboard-phone-top", full_page=False)
    page.locator("#chart-sla").scroll_into_view_if_needed()
    screenshot(page, "metrics-dashboard-phone-chart", full_page=False)
    page.set_viewport_size({"width": 1366, "height": 900})

    # When the manager opens the alert from "My work" and raises a CAPA in one click
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=f"Alert #{alert.pk}").click()
    expect(page.locator("h1")).to_contain_text("CSAT")
    screenshot(page, "metrics-alert")
    page.get_by_role("button", name="Raise a CAPA from this alert").click()

    # Then the CAPA exists with source "KPI trend alert", linked to the alert, and its page opens
    capa = Capa.objects.get(source="kpi_trend")
    expect(page.locator("h1")).to_contain_text(capa.reference)
    assert capa.source == "kpi_trend" and capa.owner == manager
    alert.refresh_from_db()
    assert alert.capa == capa
    screenshot(page, "metrics-capa-from-alert")
    page.goto(f"{live_server.url}/metrics/alerts/")
    expect(page.locator("table.data")).to_contain_text(capa.reference)


def test_management_review_page(page, live_server, login, screenshot, manager, staff, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    seed_quality_data(manager)
    make_target("csat", target=90, threshold=80)
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}/metrics/reviews/new/")
    page.fill("#id_title", "Q4 management review")
    page.fill("#id_period_start", days_ago(60).isoformat())
    page.fill("#id_period_end", days_ago(1).isoformat())
    page.fill("#id_meeting_on", days_ago(0).isoformat())
    page.get_by_role("button", name="Plan the review").click()
    expect(page.locator(".pack-banner")).to_contain_text("Live preview")
    page.locator("summary", has_text="Hold the meeting").click()
    page.get_by_role("button", name="Confirm: Hold the meeting").click()
    expect(page.locator(".pack-banner")).to_contain_text("frozen")
    page.locator("summary", has_text="Record a decision or action").click()
    page.select_option("#id_kind", "action")
    page.fill("#id_description", "Call back every detractor within two days.")
    page.select_option("#id_owner", label=staff.get_full_name())
    page.fill("#id_due_date", days_ago(-30).isoformat())
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("#outputs")).to_contain_text("Call back every detractor")
    screenshot(page, "metrics-review")
