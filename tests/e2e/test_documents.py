"""Controlled documents in real Chromium: draft, submit, approve with an electronic signature,
become effective, and an employee reads it. Screenshots in tests/e2e/artifacts/documents-*.png."""

import re

import pytest
from playwright.sync_api import expect

from documents.models import Document, VersionStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_draft_submit_approve_effective_and_employee_reads(page, live_server, login, screenshot, staff, manager, employee):
    # Given a quality engineer writes a new SOP in the browser
    login(page, "staff", PASSWORD)
    page.goto(f"{live_server.url}/documents/")
    page.get_by_role("link", name="+ New document").click()
    page.fill("#id_title", "Cleaning of the assembly line")
    page.select_option("#id_doc_type", "sop")
    page.fill("#id_content_text", "1. Purpose\nKeep the line clean.\n\n2. Steps\n2.1 Wipe benches with IPA 70 %.\n2.2 Log it.\n")
    screenshot(page, "documents-create-form")
    page.get_by_role("button", name="Create document").click()
    expect(page.locator("h1")).to_contain_text("SOP-001")
    document = Document.objects.get(number="SOP-001")
    version = document.versions.get()

    # When she submits revision 1 to the manager for approval
    page.get_by_role("link", name="Open revision 1").click()
    page.locator("summary", has_text="Submit for review").click()
    page.locator(f"input[name=approvers][value='{manager.pk}']").check()
    screenshot(page, "documents-submit")
    page.get_by_role("button", name="Confirm: submit for review").click()
    expect(page.locator(".messages")).to_contain_text("in review")

    # And the manager approves it with his password (electronic signature)
    page.context.clear_cookies()
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}{version.get_absolute_url()}")
    page.locator("summary", has_text="Approve").click()
    page.fill("#password-approve", "wrong-password")
    page.get_by_role("button", name="Confirm: Approve").click()
    expect(page.locator(".messages")).to_contain_text("not correct")
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    page.locator("summary", has_text="Approve").click()
    page.fill("#password-approve", PASSWORD)
    page.fill("#reason-approve", "Matches the cleaning validation.")
    page.get_by_role("button", name="Confirm: Approve").click()
    expect(page.locator(".messages")).to_contain_text("approved")
    screenshot(page, "documents-approved")

    # Then it becomes effective
    page.locator("summary", has_text="Make effective").click()
    page.get_by_role("button", name="Confirm: Make effective").click()
    expect(page.locator("h1")).to_contain_text("Effective")
    screenshot(page, "documents-version-effective")
    page.goto(f"{live_server.url}{document.get_absolute_url()}")
    expect(page.locator(".doc-stamp")).to_contain_text("Controlled copy, revision 1, effective from")
    screenshot(page, "documents-detail-staff")

    # And an employee finds it in the register and reads it, without drafts or history
    page.context.clear_cookies()
    login(page, "employee", PASSWORD)
    page.goto(f"{live_server.url}/documents/")
    screenshot(page, "documents-register-employee")
    page.get_by_role("link", name="Cleaning of the assembly line").click()
    expect(page.locator("pre.doc-text")).to_contain_text("Wipe benches with IPA 70 %")
    expect(page.get_by_text("Version history")).to_have_count(0)
    screenshot(page, "documents-detail-employee")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download text").click()
    assert re.fullmatch(r"SOP-001_rev1_controlled-copy_effective-\d{4}-\d\d-\d\d_cleaning-of-the-assembly-line\.txt",
                        download_info.value.suggested_filename)
    page.get_by_role("link", name="Print view").click()
    expect(page.locator(".uncontrolled")).to_have_text("UNCONTROLLED WHEN PRINTED")
    screenshot(page, "documents-print")


def test_demo_register_pages(page, live_server, login, screenshot):
    """The demo register as a manager sees it (screenshots for the product review)."""
    from django.db import transaction

    import documents.demo
    import qms.demo

    with transaction.atomic():
        qms.demo.seed(log=lambda *a: None)
    with transaction.atomic():
        documents.demo.seed(log=lambda *a: None)
    login(page, "manager", qms.demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/documents/")
    expect(page.locator("table.doc-register tbody tr")).to_have_count(20)
    screenshot(page, "documents-register")
    page.goto(f"{live_server.url}/")
    screenshot(page, "documents-mywork")
    complaint_sop = Document.objects.get(title="Complaint handling")
    page.goto(f"{live_server.url}{complaint_sop.get_absolute_url()}")
    screenshot(page, "documents-detail-history")
    page.get_by_role("link", name="Compare revisions").click()
    expect(page.locator("table.doc-diff tr.insert, table.doc-diff tr.replace").first).to_be_visible()
    screenshot(page, "documents-diff")
    capa_sop = Document.objects.get(title="Corrective and preventive action")
    page.goto(f"{live_server.url}{capa_sop.versions.get(status='in_review').get_absolute_url()}")
    screenshot(page, "documents-version-in-review")


def test_owner_confirms_an_overdue_periodic_review_with_signature(page, live_server, login, screenshot):
    from django.db import transaction

    import documents.demo
    import qms.demo

    with transaction.atomic():
        qms.demo.seed(log=lambda *a: None)
    with transaction.atomic():
        documents.demo.seed(log=lambda *a: None)
    document = Document.objects.get(title="Internal audits")
    login(page, "staff", qms.demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}{document.get_absolute_url()}")
    expect(page.locator(".page-head")).to_contain_text("Periodic review overdue")
    page.locator("summary", has_text="Reviewed, no change").click()
    page.fill("#id_comment", "Audit programme and checklist still match ISO 13485:2016.")
    page.fill("#id_password", qms.demo.DEMO_PASSWORD)
    screenshot(page, "documents-periodic-review")
    page.get_by_role("button", name="Sign: reviewed, no change").click()
    expect(page.locator(".messages")).to_contain_text("Periodic review signed")
    expect(page.locator(".page-head")).not_to_contain_text("overdue")
    document.refresh_from_db()
    assert document.periodic_reviews.get().signature.meaning == "Reviewed, no change"
