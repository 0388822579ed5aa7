"""CAPA in real Chromium, the seed workflow end to end: a complaint raises a CAPA in one click,
staff investigate (5 Whys, fishbone), plan and implement actions, a colleague verifies the
effectiveness, and the Quality Manager closes it with an electronic signature.
Screenshots: tests/e2e/artifacts/capa-{form,root-cause-form,detail,fishbone,closed,list}.png."""

import datetime

import pytest
import time_machine
from playwright.sync_api import expect

from capa.models import Capa
from qms import roles as qms_roles
from qms.models import Signature
from tests.capa.conftest import make_complaint
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def take(page, action_label, **fields):
    """Open a workflow action's panel, fill it and confirm."""
    page.click(f"summary:has-text('{action_label}')")
    panel = page.locator("details[open] .action-panel").last
    for name, value in fields.items():
        panel.locator(f"[name={name}]").fill(value)
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_complaint_to_closed_capa(browser, live_server, login, screenshot, staff, manager):
    verifier = make_user("verifier", qms_roles.STAFF)
    complaint = make_complaint(actor=staff, title="Occlusion alarm silent during infusion")
    contexts = {}

    def as_user(user):
        if user.username not in contexts:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            login(page, user.username, PASSWORD)
            contexts[user.username] = page
        return contexts[user.username]

    # Staff raise the CAPA from the complaint in one click; the form is pre-filled.
    page = as_user(staff)
    page.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    page.click("text=Raise CAPA")
    expect(page.locator("h1")).to_have_text("New CAPA")
    expect(page.locator("#id_source")).to_have_value("complaint")
    expect(page.locator(".page-head .sub")).to_contain_text(complaint.reference)
    page.fill("#id_containment_action", "Pumps of sensor lot PS-2291 quarantined; loan pumps sent.")
    screenshot(page, "capa-form")
    page.click("button:has-text('Create CAPA')")
    page.wait_for_load_state("networkidle")
    capa = Capa.objects.get()
    assert list(capa.complaints.all()) == [complaint]
    expect(page.locator("h1")).to_contain_text(capa.reference)

    # Investigation: the 5 Whys (one row added with the button) and the fishbone.
    take(page, "Start investigation", reason="Confirmed on two pumps")
    page.click("text=Edit analysis")
    expect(page.locator("h1")).to_contain_text("Root cause")
    page.wait_for_load_state("load")  # root_cause.js (deferred) has wired the button
    whys = [
        ("Why did the occlusion alarm not sound?", "The downstream pressure never crossed the threshold."),
        ("Why did the pressure stay low?", "The pressure sensor under-read by 40%."),
        ("Why did the sensor under-read?", "Its membrane was thicker than specified."),
        ("Why was that not caught?", "Incoming inspection checks dimensions only."),
        ("Why dimensions only?", "The plan predates the supplier's process change."),
        ("Why was the change not notified?", "The quality agreement does not require it."),
    ]
    page.click("#add-why")  # a sixth row
    expect(page.locator("#id_whys-5-why")).to_be_visible()
    for index, (why, because) in enumerate(whys):
        page.fill(f"#id_whys-{index}-why", why)
        page.fill(f"#id_whys-{index}-because", because)
    causes = {
        "people": "Inspector not told of change",
        "method": "No functional test at goods-in\nSupplier change not notified",
        "machine": "Sensor calibration drift",
        "material": "Thicker membrane in lot PS-2291\nNew membrane process",
        "measurement": "Threshold tuned to old sensor",
        "environment": "Busy ward masks alarm",
    }
    for category, text in causes.items():
        page.fill(f"#id_fishbone_{category}", text)
    page.fill("#id_conclusion", "The supplier changed the membrane process without notice and incoming inspection tests dimensions only.")
    screenshot(page, "capa-root-cause-form")
    page.click("button:has-text('Save analysis')")
    page.wait_for_load_state("networkidle")
    expect(page.locator("ol.why-chain li")).to_have_count(6)
    expect(page.locator("svg.fishbone line.rib")).to_have_count(8)
    take(page, "Plan actions")

    # Actions and the effectiveness check are planned, then implemented.
    page.click("text=Plan an action")
    page.select_option("#id_action_type", "fix")
    page.fill("#id_description", "Replace the pressure sensors of the 37 pumps built with lot PS-2291.")
    page.fill("#id_due_date", "2030-01-31")
    page.click("button:has-text('Plan action')")
    page.wait_for_load_state("networkidle")
    page.click("text=Plan a check")
    page.fill("#id_criteria", "No occlusion-alarm complaint on this pump for 90 days.")
    page.select_option("#id_verifier", str(verifier.pk))
    page.click("button:has-text('Plan check')")
    page.wait_for_load_state("networkidle")
    take(page, "Start implementation")
    take(page, "Mark done", evidence="37 pumps reworked; service report SR-4471.")
    expect(page.locator(".capa-action .badge.ok")).to_have_text("Done")
    take(page, "Verify effectiveness", reason="All actions done")
    expect(page.locator(".page-head .badge").first).to_have_text("Effectiveness check")
    expect(page.locator("text=someone else verifies it")).to_be_visible()  # the owner cannot verify
    screenshot(page, "capa-detail")
    page.locator("#fishbone").screenshot(path=str(_artifact("capa-fishbone")))

    # The observation window ends: a colleague verifies; the manager signs the closure (a wrong
    # password first). The live server runs in this process, so the moved clock is its clock.
    due = capa.checks.get().due_date
    with time_machine.travel(datetime.datetime.combine(due, datetime.time(9), tzinfo=datetime.UTC), tick=True):
        other = as_user(verifier)
        other.goto(f"{live_server.url}/capa/{capa.pk}/")
        take(other, "Verified effective", evidence="No occlusion complaint since the rework; six sensor lots tested.")
        expect(other.locator(".capa-check .badge").first).to_have_text("Effective")
        boss = as_user(manager)
        boss.goto(f"{live_server.url}/capa/{capa.pk}/")
        take(boss, "Close", password="not-my-password", reason="Verified effective")
        expect(boss.locator(".messages .error")).to_contain_text("password is not correct")
        assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"
        take(boss, "Close", password=PASSWORD, reason="Verified effective")
        expect(boss.locator(".page-head .badge").first).to_have_text("Closed")
        expect(boss.locator(".sig")).to_contain_text("Approved for closure")
        assert Signature.objects.filter(signer=manager, meaning="Approved for closure").count() == 1
        screenshot(boss, "capa-closed")

    # The complaint shows its CAPA; the list shows the closed CAPA.
    boss.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    expect(boss.locator(f"a:has-text('{capa.reference}')")).to_be_visible()
    boss.goto(f"{live_server.url}/capa/")
    expect(boss.locator("table.data tbody tr")).to_have_count(1)
    screenshot(boss, "capa-list")
    for page in contexts.values():
        page.context.close()


def _artifact(name):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
