"""The CAPA demo data as a user sees it (Chromium): the list in every state, a closed CAPA
raised from two complaints, a reopened one, and "My work" of a quality engineer.
Screenshots: tests/e2e/artifacts/capa-demo-{list,closed,reopened,mywork}.png."""

import pytest
from playwright.sync_api import expect

from capa.models import Capa
from capa.workflow import CapaStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_demo_capas_look_right(page, browser, live_server, login, screenshot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from capa import demo as capa_demo
    from complaints import demo as complaints_demo
    from documents import demo as documents_demo
    from qms import demo as qms_demo

    for seeder in (qms_demo, complaints_demo, documents_demo, capa_demo):
        seeder.seed(log=lambda line: None)
    assert set(Capa.objects.values_list("status", flat=True)) == set(CapaStatus.values)

    login(page, "manager", qms_demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/capa/")
    expect(page.locator("table.data tbody tr")).to_have_count(Capa.objects.count())
    screenshot(page, "capa-demo-list")

    closed = Capa.objects.get(status="closed")
    page.goto(f"{live_server.url}{closed.get_absolute_url()}")
    expect(page.locator(".sig")).to_contain_text("Approved for closure")
    expect(page.locator("svg.fishbone line.rib")).to_have_count(9)
    screenshot(page, "capa-demo-closed")

    reopened = Capa.objects.get(reopen_count=1)
    page.goto(f"{live_server.url}{reopened.get_absolute_url()}")
    expect(page.locator(".page-head")).to_contain_text("Reopened 1×")
    expect(page.locator(".capa-check .badge").first).to_have_text("Not effective")
    screenshot(page, "capa-demo-reopened")

    overdue = Capa.objects.get(status="implementation")
    page.goto(f"{live_server.url}{overdue.get_absolute_url()}")
    expect(page.locator(".capa-action.overdue")).to_have_count(1)
    expect(page.locator("body")).to_contain_text("Reminders and escalations")
    screenshot(page, "capa-demo-implementation")

    page.goto(f"{live_server.url}/capa/?open=true&risk_level=high")
    high_open = Capa.objects.filter(risk_level="high").exclude(status__in=["closed", "cancelled"]).count()
    assert high_open >= 2
    expect(page.locator("table.data tbody tr")).to_have_count(high_open)

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    login(page, "staff2", qms_demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/")
    expect(page.locator("body")).to_contain_text("My CAPA actions")
    screenshot(page, "capa-demo-mywork")
    context.close()
