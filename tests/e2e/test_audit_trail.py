"""The audit trail in real Chromium: an auditor filters the trail to one record, reads the
field-level changes and the electronic signature, opens the record's audit view and exports
the filtered trail and the record's dossier as PDF (checked with pypdf).
Screenshots: tests/e2e/artifacts/audit-{trail,filtered,record}.png."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from qms import roles as qms_roles
from qms import services
from qms.audit.verify import verify_audit_trail
from qms.history import set_history
from qms.models import Department
from tests.conftest import PASSWORD
from tests.kernel_app.services import specimen_create, specimen_transition, specimen_update

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


@pytest.fixture
def history(staff, manager, administrator):
    quality = Department(name="Quality")
    set_history(quality, user=administrator, reason="New site structure")
    quality.save()
    staff.department = quality
    set_history(staff, user=administrator, reason="Joined the quality team")
    staff.save(update_fields=["department"])
    services.user_set_roles(staff, role_names=[qms_roles.STAFF, qms_roles.EMPLOYEE], actor=administrator, reason="Also builds devices on the line")
    other = specimen_create(actor=staff, title="Label printer validation", summary="IQ/OQ done.")
    specimen = specimen_create(actor=staff, title="Torque wrench calibration", summary="First draft.")
    specimen = specimen_update(specimen, actor=staff, version=specimen.version, reason="Clarified after the supplier call", summary="Checked against the reference set ZX-4.")
    specimen_transition(specimen, "submit", actor=staff)
    specimen_transition(specimen, "approve", actor=manager, password=PASSWORD, meaning="Approved")
    specimen_transition(other, "submit", actor=staff)
    verify_audit_trail()
    specimen.refresh_from_db()
    return specimen


def test_auditor_filters_the_trail_to_one_record_and_exports_it(page, live_server, login, screenshot, auditor, history, tmp_path):
    specimen = history
    login(page, "auditor", PASSWORD)
    page.click("nav >> text=Audit trail")
    expect(page.locator("h1")).to_have_text("Audit trail")
    expect(page.locator("#verification")).to_contain_text("Intact")
    expect(page.locator("table.audit-trail")).to_contain_text("Logged in")  # the auditor's own log-in
    expect(page.locator("table.audit-trail")).to_contain_text("Joined the quality team")
    screenshot(page, "audit-trail")

    # Filter to one record by its reference.
    page.select_option("#id_model", "kernel_app.specimen")
    page.fill("#id_record", specimen.reference)
    page.click("button:has-text('Filter')")
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.audit-trail tbody tr")
    expect(rows).to_have_count(5)  # created, changed, submitted, approved, signed: this record only
    table = page.locator("table.audit-trail")
    expect(table).not_to_contain_text("Label printer validation")
    expect(table).to_contain_text("Clarified after the supplier call")
    diff = page.locator("tr:has-text('Clarified after the supplier call') ul.diff")
    expect(diff.locator(".field")).to_have_text("Summary")
    expect(diff.locator(".old")).to_have_text("First draft.")
    expect(diff.locator(".new")).to_have_text("Checked against the reference set ZX-4.")
    approve = page.locator("tr:has-text('Approve') ul.diff")
    expect(approve).to_contain_text("In review")
    expect(approve).to_contain_text("Approved")
    signature = page.locator("tr.entry-signature")
    expect(signature).to_contain_text("Manager Tester")
    expect(signature).to_contain_text("Meaning: Approved")
    expect(signature.locator(".badge.ok", has_text="hash still matches")).to_be_visible()
    expect(page.locator(".trail-summary")).to_contain_text(specimen.reference)
    screenshot(page, "audit-filtered")

    # Export the filtered trail as PDF.
    with page.expect_download() as download_info:
        page.click("#export-pdf")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / "trail.pdf"
    download.save_as(pdf)
    text = pdf_text(pdf)
    flat = text.replace("\n", " ")
    assert f"record: {specimen.reference}" in flat
    assert "Auditor Tester (auditor)" in flat
    assert "Intact" in flat
    assert "Summary: First draft. -> Checked against the reference set ZX-4." in flat
    assert "hash still matches" in flat
    assert "Label printer validation" not in flat

    # The record's own audit view, and its dossier.
    page.click(f"tr.entry-signature >> text={specimen}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_have_text(str(specimen))
    expect(page.locator(".sig")).to_contain_text("hash still matches")
    expect(page.locator(".history-timeline")).to_contain_text("Clarified after the supplier call")
    expect(page.locator("table.data")).to_contain_text("in_review → approved")
    screenshot(page, "audit-record")
    with page.expect_download() as download_info:
        page.click("#export-dossier")
    dossier = tmp_path / "dossier.pdf"
    download_info.value.save_as(dossier)
    flat = pdf_text(dossier).replace("\n", " ")
    assert f"Record dossier: Specimen {specimen}" in flat
    assert "Manager Tester" in flat and "Approved" in flat
    assert "in_review -> approved" in flat


def test_staff_cannot_open_the_trail(page, live_server, login, staff):
    login(page, "staff", PASSWORD)
    expect(page.locator("nav")).not_to_contain_text("Audit trail")
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403


def test_a_break_stays_on_the_trail_page_until_a_quality_manager_signs_it_off(page, live_server, login, screenshot, manager, history):
    """Issue 15: a history row changed behind the application's back is reported on the trail
    page run after run; the Quality Manager acknowledges it there with a reason and a signature."""
    from qms.models import HistoricalUser
    from tests.audit.test_verify import as_database_owner

    row = HistoricalUser.objects.order_by("history_id")[1]
    as_database_owner("qms_historicaluser", f"UPDATE qms_historicaluser SET history_change_reason = 'nothing to see' WHERE history_id = {row.history_id}")
    verify_audit_trail()
    verify_audit_trail()  # a later run still reports it
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}/audit/")
    banner = page.locator("#verification")
    expect(banner).to_contain_text("Tampering detected")
    expect(banner).to_contain_text(f"row {row.history_id}")
    screenshot(page, "audit-break", full_page=False)
    page.fill("#ack-reason", "Investigated in INC-15: restored from the 03:00 backup; the changed row is kept as evidence.")
    page.fill("#ack-password", "not-my-password")
    page.click("button:has-text('Acknowledge and sign')")
    expect(page.locator(".messages, .message, [role=alert]").first).to_contain_text("not correct")
    expect(banner).to_contain_text("Tampering detected")
    page.fill("#ack-reason", "Investigated in INC-15: restored from the 03:00 backup; the changed row is kept as evidence.")
    page.fill("#ack-password", PASSWORD)
    page.click("button:has-text('Acknowledge and sign')")
    expect(banner).to_contain_text("Break acknowledged")
    expect(banner).to_contain_text("Investigated in INC-15")
    screenshot(page, "audit-break-acknowledged", full_page=False)
    assert verify_audit_trail().is_intact


@pytest.fixture
def complaint_file(staff, settings, tmp_path):
    """A complaint with an attachment and a phone note, written through the services."""
    from django.core.files.base import ContentFile

    from complaints import services as complaint_services
    from complaints.models import Customer
    from tests.complaints.conftest import ensure_policies

    settings.MEDIA_ROOT = tmp_path
    ensure_policies()
    customer = Customer.objects.create(name="Jane Roe", organisation="St Mary's Hospital", email="jane.roe@example.org")
    complaint = complaint_services.complaint_create(actor=staff, title="Pump alarm does not sound", description="The occlusion alarm stayed silent.", customer=customer)
    complaint_services.attachment_add(complaint=complaint, actor=staff, uploaded_file=ContentFile(b"Bench test: alarm silent at 600 mmHg\n", name="bench-test-pump-11873.txt"))
    complaint_services.communication_add(
        complaint=complaint, actor=staff, direction="inbound", channel="phone", summary="Ward sister phoned: the spare pump alarms correctly."
    )
    return complaint


def test_auditor_finds_a_complaints_attachment_and_phone_note_by_free_text(page, live_server, login, screenshot, auditor, complaint_file):
    complaint = complaint_file
    login(page, "auditor", PASSWORD)
    page.goto(f"{live_server.url}/audit/")

    # A file name, typed as the auditor remembers it
    page.fill("#id_q", "bench-test-pump")
    page.click("button:has-text('Filter')")
    page.wait_for_load_state("networkidle")
    row = page.locator("table.audit-trail tbody tr", has_text="bench-test-pump-11873.txt")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Attachment of {complaint.reference}")
    expect(row).to_contain_text("Staff Tester")

    # A phone note's words
    page.fill("#id_q", "spare pump alarms")
    page.click("button:has-text('Filter')")
    page.wait_for_load_state("networkidle")
    row = page.locator("table.audit-trail tbody tr", has_text="Ward sister phoned")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"Communication of {complaint.reference}")
    expect(row).to_contain_text("Phone")
    screenshot(page, "audit-phone-note")

    # The complaint's reference: the complaint and its whole file
    page.fill("#id_q", "")
    page.fill("#id_record", complaint.reference)
    page.click("button:has-text('Filter')")
    page.wait_for_load_state("networkidle")
    table = page.locator("table.audit-trail")
    expect(table).to_contain_text("bench-test-pump-11873.txt")
    expect(table).to_contain_text("Ward sister phoned")
    expect(table).to_contain_text("Pump alarm does not sound")
    page.click("tr:has-text('bench-test-pump-11873.txt') a.parent")
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_contain_text(complaint.reference)
    screenshot(page, "audit-complaint-file")
