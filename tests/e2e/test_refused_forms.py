"""Errors where the eye is (issue 18 item 4), in real Chromium on a phone-sized screen: every form
with a file input, refused, shows its error next to the file field and the page comes back
scrolled to it (not a message 1,700 px above the screen).

The forms: a complaint's attachment, a CAPA action's evidence, a new document, a new revision
of a document, and the import of units shipped. Each is sent a file that the content check
refuses (a Windows executable named .pdf, a CSV with a bad month)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
EXECUTABLE = {
    "name": "invoice.pdf",
    "mimeType": "application/pdf",
    "buffer": b"MZ\x90\x00" + b"\x00" * 512,
}
BAD_CSV = {
    "name": "units.csv",
    "mimeType": "text/csv",
    "buffer": b"product_code,month,units\nINF-200,2026-13,abc\n",
}


def logged_in_page(browser, live_server, username):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    context = browser.new_context(viewport=PHONE)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context, context.new_page()


def assert_error_next_to_field_and_in_view(
    page, field_selector: str, where: str, screenshot
) -> None:
    page.wait_for_load_state("load")
    error = page.locator("main [data-form-error]").first
    expect(error).to_be_visible()
    page.wait_for_timeout(100)  # the scroll (forms.js) runs on DOMContentLoaded
    view = page.evaluate("() => ({top: 0, height: window.innerHeight})")
    box = error.bounding_box()
    screenshot(page, f"refused-{where}", full_page=False)
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= view["height"], (
        f"{where}: the error is at y={box and round(box['y'])}, outside the screen (0-{view['height']})"
    )
    field = page.locator(field_selector).first
    field_box = field.bounding_box()
    active = page.evaluate("() => document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : null")
    assert field.evaluate("el => el === document.activeElement"), f"{where}: the cursor is not in the refused field but in {active}"
    assert field_box is not None and abs(field_box["y"] - box["y"]) < 250, (
        f"{where}: the error (y={round(box['y'])}) is not next to its field (y={field_box and round(field_box['y'])})"
    )


def test_every_refused_upload_shows_its_error_next_to_the_file_field(
    browser, live_server, screenshot
):
    from capa.models import CapaAction
    from complaints.models import Complaint
    from documents.models import Document

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    context, page = logged_in_page(browser, live_server, "manager")

    # A complaint's attachment: the form sits below the description, the log and the timeline.
    complaint = Complaint.objects.order_by("pk").first()
    page.goto(f"{live_server.url}{complaint.get_absolute_url()}")
    page.set_input_files("#attach input[type=file]", files=[EXECUTABLE])
    page.locator("#attach button[type=submit]").click()
    assert page.url.endswith("#attach")
    assert_error_next_to_field_and_in_view(
        page, "#attach input[type=file]", "complaint-attachment", screenshot
    )
    expect(page.locator("#attach [data-form-error]")).to_contain_text("Not attached")
    assert not complaint.attachments.filter(original_name="invoice.pdf").exists()
    page.reload()  # shown once: a reload shows the form clean
    expect(page.locator("#attach [data-form-error]")).to_have_count(0)

    # A CAPA action's evidence, in the action's folded panel.
    action = next(a for a in CapaAction.objects.select_related("capa").order_by("pk") if a.is_open)
    page.goto(f"{live_server.url}{action.capa.get_absolute_url()}")
    panel = page.locator(f"#attach-evidence-{action.pk}")
    panel.locator("summary").click()
    panel.locator("input[type=file]").set_input_files(files=[EXECUTABLE])
    panel.locator("button[type=submit]").click()
    assert page.url.endswith(f"#attach-evidence-{action.pk}")
    assert_error_next_to_field_and_in_view(
        page, f"#attach-evidence-{action.pk} input[type=file]", "capa-evidence", screenshot
    )
    assert not action.evidence_files.exists()

    # A new document, every other field filled in.
    page.goto(f"{live_server.url}/documents/new/")
    page.fill("#id_title", "Cleaning of the filling line")
    page.select_option("#id_owner", index=1)
    page.fill("#id_review_period_months", "24")
    page.set_input_files("#id_file", files=[EXECUTABLE])
    page.locator("form button[data-primary]").click()
    assert_error_next_to_field_and_in_view(page, "#id_file", "document-create", screenshot)
    assert not Document.objects.filter(title="Cleaning of the filling line").exists()

    # A new revision of an effective document.
    document = Document.objects.filter(effective_version__isnull=False).order_by("pk").first()
    if not document.versions.exclude(status__in=("effective", "superseded", "obsolete")).exists():
        page.goto(f"{live_server.url}/documents/{document.pk}/versions/new/")
        page.fill("#id_change_summary", "Second-person check added.")
        page.set_input_files("#id_file", files=[EXECUTABLE])
        page.locator("form button[data-primary]").click()
        assert_error_next_to_field_and_in_view(page, "#id_file", "version-create", screenshot)

    # The import of units shipped.
    page.goto(f"{live_server.url}/metrics/units-shipped/")
    page.set_input_files("form[action$='/import/'] input[type=file]", files=[BAD_CSV])
    page.locator("form[action$='/import/'] button[type=submit]").click()
    assert_error_next_to_field_and_in_view(
        page, "form[action$='/import/'] input[type=file]", "shipments-import", screenshot
    )
    context.close()
