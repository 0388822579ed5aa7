"""Complaints in real Chromium: a staff member logs a complaint taken by phone hours ago, the
manager sees it breach and escalate, it is resolved, the customer answers the survey on the
public page (phone-sized), and the manager closes it with an electronic signature.
Screenshots: tests/e2e/artifacts/complaints-{list,detail,survey,...}.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints import services
from complaints.models import (
    Category,
    Complaint,
    Customer,
    Escalation,
    FailureMode,
    Product,
    Survey,
)
from complaints.tasks import escalate_complaints
from qms.models import OutboxMessage
from tests.complaints.conftest import advance, ensure_policies
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def background_complaints(staff, customer, product, category):
    """A few other complaints so the list looks like a working day."""
    now = timezone.now()
    other = Customer.objects.create(name="Tom Becker", organisation="Riverside Care Home", email="tom@riverside.example")
    rows = [
        ("Wrong quantity delivered", other, None, "low", 1, ["acknowledge", "investigate"]),
        ("Dressing pack seal open", customer, product, "medium", 30, ["acknowledge", "investigate", "wait_for_customer"]),
        ("Invoice charged twice", other, None, "low", 0.5, []),
        ("Strips out of date on arrival", customer, product, "medium", 50, ["acknowledge", "investigate", "resolve"]),
    ]
    alarm = FailureMode.objects.get_or_create(category=category, name="Alarm silent or delayed")[0]
    for title, who, prod, severity, hours, path in rows:
        complaint = services.complaint_create(
            actor=staff, title=title, description="Reported by the customer.", customer=who, product=prod,
            category=category if prod else None, failure_mode=alarm if title == "Dressing pack seal open" else None,
            severity=severity, received_at=now - timedelta(hours=hours), assignee=staff,
        )
        advance(complaint, *path, actor=staff)


def test_log_breach_escalate_resolve_survey_close(page, browser, live_server, login, screenshot, staff, manager):
    ensure_policies(first_response_hours="4", resolution_hours="24")
    customer = Customer.objects.create(name="Dr Helen Marsh", organisation="Northwick General Hospital", email="helen.marsh@northwick.example")
    product = Product.objects.create(code="INF-200", name="Volumat 200 infusion pump")
    category, _ = Category.objects.get_or_create(name="Product defect")  # the data migration may have made it
    background_complaints(staff, customer, product, category)

    # Given a staff member logs a complaint the customer phoned in five hours ago
    login(page, "staff", PASSWORD)
    page.goto(f"{live_server.url}/complaints/")
    page.get_by_role("link", name="+ Log a complaint").click()
    page.fill("#id_title", "Occlusion alarm silent during infusion")
    page.fill("#id_description", "The downstream occlusion alarm did not sound for about 10 minutes. Patient unharmed; pump quarantined.")
    page.select_option("#id_customer", str(customer.pk))
    page.select_option("#id_channel", "phone")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_lot_number", "SN 200-11873")
    page.select_option("#id_category", str(category.pk))
    page.select_option("#id_failure_mode", str(FailureMode.objects.get(category=category, name="Alarm silent or delayed").pk))
    page.select_option("#id_severity", "high")
    page.select_option("#id_assignee", str(staff.pk))
    received = timezone.localtime(timezone.now() - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_received_at", received)
    screenshot(page, "complaints-create-form")
    page.get_by_role("button", name="Log complaint").click()
    expect(page.locator(".messages")).to_contain_text("logged")
    complaint = Complaint.objects.get(title="Occlusion alarm silent during infusion")
    expect(page.locator("h1")).to_contain_text(complaint.reference)
    assert complaint.is_recurring  # same product and failure mode as "Dressing pack seal open"

    # When the beat sweep runs, the first-response deadline has passed: escalated to level 2
    escalate_complaints.apply()
    assert sorted(Escalation.objects.filter(complaint=complaint).values_list("level", flat=True)) == [1, 2]
    escalate_complaints.apply()  # a second sweep changes nothing
    assert Escalation.objects.filter(complaint=complaint).count() == 2

    # Then the manager sees it breached and escalated on the list and in the notifications
    manager_context = browser.new_context(viewport={"width": 1366, "height": 900})
    manager_page = manager_context.new_page()
    login(manager_page, "manager", PASSWORD)
    expect(manager_page.locator(".bell .count")).to_be_visible()
    manager_page.goto(f"{live_server.url}/complaints/")
    row = manager_page.locator("tr", has_text=complaint.reference)
    expect(row.locator(".badge", has_text="SLA breached")).to_be_visible()
    expect(row).to_contain_text("L2")
    screenshot(manager_page, "complaints-list")
    manager_page.goto(f"{live_server.url}/complaints/?overdue=true")
    expect(manager_page.locator("table.cmp-list tbody tr")).to_have_count(1)
    manager_page.goto(f"{live_server.url}/notifications/")
    expect(manager_page.locator("body")).to_contain_text(f"Escalation level 2: {complaint.reference}")

    # When staff finds it at the top of "My work" (nearest deadline first) ...
    page.goto(f"{live_server.url}/")
    expect(page.locator("section.card", has_text="My open complaints").locator("tr").first).to_contain_text(complaint.reference)
    screenshot(page, "complaints-mywork")
    # ... acknowledges, investigates, logs the reply and resolves it
    page.goto(f"{live_server.url}{complaint.get_absolute_url()}")
    for label in ("Acknowledge", "Start investigation"):
        page.locator("summary", has_text=label).click()
        page.get_by_role("button", name=f"Confirm: {label}").click()
        expect(page.locator(".messages")).to_contain_text("is now")
    page.locator("summary", has_text="+ Log a message").click()
    page.select_option("#id_direction", "outbound")
    page.select_option("#id_channel", "email")
    page.fill("#id_summary", "Apologised, sent a loan pump and explained the investigation.")
    page.get_by_role("button", name="Save to the log").click()
    expect(page.locator("#communications")).to_contain_text("loan pump")
    page.locator("summary", has_text="Resolve").click()
    page.fill("#resolution-resolve", "Pressure sensor replaced; alarm verified at 3 occlusion levels. Loan pump provided.")
    page.get_by_role("button", name="Confirm: Resolve").click()
    expect(page.locator(".cmp-badges")).to_contain_text("Resolved")
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.resolved_at

    # And the customer answers the survey from the e-mail, on a phone
    body = OutboxMessage.objects.get(to_email="helen.marsh@northwick.example", body__contains=complaint.reference).body
    link = body.split(live_server.url if live_server.url in body else "http://127.0.0.1:8000")[-1].split()[0]
    survey_path = link[link.index("/complaints/survey/"):]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    customer_page = phone.new_page()
    customer_page.goto(f"{live_server.url}{survey_path}")
    expect(customer_page.locator("h1")).to_have_text("How did we do?")
    customer_page.locator(".cmp-scale-csat label", has_text="4").click()
    customer_page.locator(".cmp-scale-ces label", has_text="6").click()
    customer_page.locator(".cmp-scale-nps label").filter(has_text="9").first.click()
    customer_page.fill("#id_comment", "Quick loan pump, clear explanation. Thank you.")
    screenshot(customer_page, "complaints-survey")
    customer_page.get_by_role("button", name="Send my answers").click()
    expect(customer_page.locator("h1")).to_have_text("Thank you!")
    screenshot(customer_page, "complaints-survey-thanks")
    customer_page.goto(f"{live_server.url}{survey_path}")
    expect(customer_page.locator("h1")).to_have_text("You have answered already")
    survey = Survey.objects.get(complaint=complaint)
    assert (survey.csat, survey.ces, survey.nps) == (4, 6, 9)
    phone.close()

    # Then the manager closes it with the regulatory decision and an electronic signature
    manager_page.goto(f"{live_server.url}{complaint.get_absolute_url()}")
    manager_page.locator("summary", has_text="Close").click()
    manager_page.select_option("#inv-close", "yes")
    manager_page.select_option("#rep-close", "no")
    manager_page.fill("#repr-close", "No injury; a recurrence could not cause serious harm (vigilance criteria not met).")
    manager_page.fill("#password-close", PASSWORD)
    screenshot(manager_page, "complaints-close-signature", full_page=False)
    manager_page.get_by_role("button", name="Confirm: Close").click()
    expect(manager_page.locator(".cmp-badges")).to_contain_text("Closed")
    expect(manager_page.locator(".sig")).to_contain_text("Approved for closure")
    expect(manager_page.locator(".cmp-scores")).to_contain_text("4")
    screenshot(manager_page, "complaints-detail")
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.closed_at and complaint.reportability_decided_by == manager
    manager_page.goto(f"{live_server.url}/complaints/sla/")
    expect(manager_page.locator("table.data")).to_contain_text("at 75%: notify the assignee")
    screenshot(manager_page, "complaints-sla-policies")
    manager_page.goto(f"{live_server.url}/complaints/customers/")
    expect(manager_page.locator("table.data")).to_contain_text("Northwick General Hospital")
    screenshot(manager_page, "complaints-customers")
    manager_context.close()


def test_public_complaint_form_on_a_phone(browser, live_server, screenshot):
    ensure_policies()
    Product.objects.create(code="GLU-3", name="GlucoCheck 3 blood glucose meter")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/complaints/submit/")
    page.fill("#id_name", "Priya Natarajan")
    page.fill("#id_email", "priya@example.org")
    page.fill("#id_title", "Meter reads high")
    page.fill("#id_description", "Readings are about 2 mmol/L above the lab values.")
    screenshot(page, "complaints-public-form")
    page.get_by_role("button", name="Send my complaint").click()
    complaint = Complaint.objects.get()
    expect(page.locator("#tracking-reference")).to_have_text(complaint.reference)
    screenshot(page, "complaints-public-thanks")
    phone.close()
