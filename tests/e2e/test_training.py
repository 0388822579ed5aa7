"""Training in real Chromium with a real Celery worker: a new SOP revision becomes effective,
the worker assigns it, the employee sees it on "My training", signs it, and the matrix turns
green. Screenshots in tests/e2e/artifacts/training-*.png."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from qms import roles as qms_roles
from tests.conftest import PASSWORD, wait_for
from tests.training.conftest import approve_version, make_document, new_revision, release_version
from training import services
from training.models import AssignmentStatus, TrainingAssignment

pytestmark = [pytest.mark.e2e, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_new_sop_revision_is_trained_signed_and_the_matrix_turns_green(
    page, live_server, login, screenshot, celery_worker, staff, manager, employee, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # Given SOP-001 rev 1 is effective, required for Employees, and the employee has signed it
    sop = make_document(staff, "Line clearance between batches")
    services.requirement_create(actor=staff, document=sop, role=Group.objects.get(name=qms_roles.EMPLOYEE), due_days=14)
    rev1 = release_version(sop.versions.get(), author=staff, approver=manager)
    services.assignment_transition(TrainingAssignment.objects.get(user=employee, document_version=rev1), "complete",
                                   actor=employee, password=PASSWORD)
    # and revision 2 is approved
    rev2 = approve_version(new_revision(sop, actor=staff, summary="Second-person check of the cleared line added."),
                           author=staff, approver=manager)

    # When the quality engineer makes revision 2 effective in the browser
    login(page, "staff", PASSWORD)
    page.goto(f"{live_server.url}{rev2.get_absolute_url()}")
    page.locator("summary", has_text="Make effective").click()
    page.get_by_role("button", name="Confirm: Make effective").click()
    expect(page.locator("h1")).to_contain_text("Effective")

    # Then the worker assigns it (documents' release hook -> "training.assign_for_version")
    wait_for(lambda: TrainingAssignment.objects.filter(user=employee, document_version=rev2).exists(), timeout=60,
             message="rev 2 assigned by the worker")
    assert TrainingAssignment.objects.get(user=employee, document_version=rev1).status == AssignmentStatus.COMPLETED

    # And the manager sees the employee as due on the matrix
    page.context.clear_cookies()
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}/training/matrix/")
    cell = page.locator(f"#training-matrix tr[data-user='employee'] td[data-document='{sop.number}']")
    expect(cell).to_have_attribute("data-state", "due")
    screenshot(page, "training-matrix-due")

    # When the employee opens "My training"
    page.context.clear_cookies()
    login(page, "employee", PASSWORD)
    page.goto(f"{live_server.url}/")
    expect(page.locator("section.card", has_text="My training")).to_contain_text(f"{sop.number} rev 2")
    screenshot(page, "training-mywork-home")
    page.get_by_role("link", name="Training", exact=True).click()
    expect(page.locator("#open-training")).to_contain_text(sop.number)
    expect(page.locator("#open-training")).to_contain_text("Second-person check")
    screenshot(page, "training-my-open")

    # a wrong password signs nothing
    page.locator("summary", has_text="Sign: read and understood").click()
    page.fill("input[name=password]", "not-my-password")
    page.get_by_role("button", name="Sign").click()
    expect(page.locator(".messages")).to_contain_text("not correct")
    assert TrainingAssignment.objects.get(user=employee, document_version=rev2).status == AssignmentStatus.ASSIGNED

    # and with her password she signs "Read and understood"
    page.goto(f"{live_server.url}/training/my/")
    page.locator("summary", has_text="Sign: read and understood").click()
    page.fill("input[name=password]", PASSWORD)
    screenshot(page, "training-my-signing")
    page.get_by_role("button", name="Sign").click()
    expect(page.locator(".messages")).to_contain_text("is now completed")
    expect(page.locator(".sig")).to_contain_text("Read and understood")
    screenshot(page, "training-assignment-signed")
    page.goto(f"{live_server.url}/training/my/")
    expect(page.locator(".empty", has_text="You are up to date")).to_be_visible()
    screenshot(page, "training-my-done")

    # Then the matrix turns green
    page.context.clear_cookies()
    login(page, "manager", PASSWORD)
    page.goto(f"{live_server.url}/training/matrix/")
    expect(cell).to_have_attribute("data-state", "current")
    expect(page.locator("#matrix-compliance")).to_have_text("100%")
    screenshot(page, "training-matrix-green")


def test_demo_training_pages(page, live_server, login, screenshot, settings):
    """The demo data as a manager sees it (screenshots for the product review)."""
    from django.db import transaction

    import documents.demo
    import qms.demo
    import training.demo
    from documents.models import Document

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for seeder in (qms.demo.seed, documents.demo.seed, training.demo.seed):
        with transaction.atomic():
            seeder(log=lambda *a: None)
    login(page, "manager", qms.demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/training/matrix/")
    expect(page.locator("#training-matrix td.mx-cell.overdue").first).to_be_visible()
    screenshot(page, "training-matrix")
    page.select_option("#id_department", label="Production")
    page.get_by_role("button", name="Filter").click()
    screenshot(page, "training-matrix-production")
    page.goto(f"{live_server.url}/training/requirements/")
    screenshot(page, "training-requirements")
    page.goto(f"{live_server.url}/training/release-gates/")
    expect(page.locator(".gate").first).to_be_visible()
    screenshot(page, "training-gates")
    supplier = Document.objects.get(title="Supplier evaluation")
    page.goto(f"{live_server.url}/training/versions/{supplier.versions.get().pk}/")
    screenshot(page, "training-version-gated")
    page.goto(f"{live_server.url}/training/assignments/?overdue=true")
    screenshot(page, "training-assignments-overdue")
    page.goto(f"{live_server.url}/")
    expect(page.locator("section.card", has_text="Overdue training in my team")).to_be_visible()
    screenshot(page, "training-mywork-manager")
    page.context.clear_cookies()
    login(page, "omar", qms.demo.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/training/my/")
    screenshot(page, "training-my-demo")
    page.get_by_role("link", name="Read").first.click()
    expect(page.locator("pre.doc-text")).to_be_visible()
    screenshot(page, "training-assignment-read")
