"""Browser pages: create and edit forms, submit with named people, register filters, diff,
print view and the home page's "My work" sections."""

import pytest
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import Document, DocumentVersion, VersionStatus
from tests.documents.conftest import SOP_TEXT, release, submit

pytestmark = pytest.mark.django_db


def test_create_form_makes_document_with_draft_revision(client_for, staff):
    response = client_for(staff).post(reverse("documents:create"), {
        "title": "Goods receipt", "doc_type": "work_instruction", "owner": staff.pk, "review_period_months": 12,
        "content_text": SOP_TEXT, "effective_from": timezone.localdate().isoformat(),
    })
    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == document.get_absolute_url()
    assert document.number == "WI-001"
    assert document.versions.get().status == VersionStatus.DRAFT


def test_create_form_shows_field_errors_and_writes_nothing(client_for, staff, employee):
    response = client_for(staff).post(reverse("documents:create"), {
        "title": "", "doc_type": "sop", "owner": employee.pk, "review_period_months": 500,
    })
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"title", "owner", "review_period_months"}
    assert not Document.objects.exists()


def test_submit_from_the_page_names_reviewers_and_approvers(client_for, make_document, staff, manager, manager2):
    version = make_document().versions.get()
    url = reverse("documents:version-transition", args=[version.document_id, version.pk])
    response = client_for(staff).post(url, {"action": "submit", "reviewers": [manager2.pk], "approvers": [manager.pk, manager2.pk]},
                                      follow=True)
    assert "it is in review" in response.content.decode()
    version.refresh_from_db()
    assert sorted(version.signoffs.values_list("kind", "user__username")) == [
        ("approval", "manager"), ("approval", "manager2"), ("review", "manager2")]


def test_edit_draft_with_stale_version_is_refused(client_for, make_document, staff):
    version = make_document().versions.get()
    url = reverse("documents:version-edit", args=[version.document_id, version.pk])
    data = {"change_summary": "", "content_text": "new", "effective_from": timezone.localdate().isoformat(), "reason": "Text corrected."}
    assert client_for(staff).post(url, {**data, "version": version.version}).status_code == 302
    stale = client_for(staff).post(url, {**data, "content_text": "other", "version": version.version})
    assert "after you opened it" in stale.content.decode()
    assert DocumentVersion.objects.get(pk=version.pk).content_text == "new"


def test_register_filters_and_search(client_for, make_document, effective_document, manager, employee):
    make_document("Line clearance")
    client = client_for(manager)
    url = reverse("documents:list")
    assert [d.title for d in client.get(url, {"search": "clear"}).context["documents"]] == ["Line clearance"]
    assert [d.pk for d in client.get(url, {"state": "effective"}).context["documents"]] == [effective_document.pk]
    assert [d.title for d in client.get(url, {"state": "not_released"}).context["documents"]] == ["Line clearance"]
    assert client.get(url, {"state": "nonsense"}).status_code == 200
    assert [d.pk for d in client_for(employee).get(url).context["documents"]] == [effective_document.pk]


def test_diff_shows_changed_lines_side_by_side(client_for, effective_document, staff, manager):
    old = effective_document.effective_version
    new = services.version_create(document=effective_document, actor=staff, change_summary="Sample 8",
                                  content_text=old.content_text.replace("Sample 5 units.", "Sample 8 units.") + "2.3 Log it.\n",
                                  effective_from=old.effective_from)
    release(new, author=staff, approver=manager)
    response = client_for(manager).get(reverse("documents:diff", args=[effective_document.pk]), {"from": old.pk, "to": new.pk})
    assert (response.context["added"], response.context["removed"]) == (2, 1)
    page = response.content.decode()
    assert "2.2 Sample 5 units." in page and "2.2 Sample 8 units." in page and 'class="replace"' in page


def test_print_view_says_uncontrolled_when_printed(client_for, effective_document, employee):
    version = effective_document.effective_version
    page = client_for(employee).get(reverse("documents:version-print", args=[effective_document.pk, version.pk])).content.decode()
    assert "UNCONTROLLED WHEN PRINTED" in page
    assert f"Controlled copy, revision 1, effective from {version.effective_from:%d %b %Y}" in page


def test_my_work_lists_versions_to_approve_and_reviews_due(client_for, make_document, staff, manager, effective_document):
    version = make_document("Pending approval").versions.get()
    submit(version, actor=staff, approvers=[manager])
    page = client_for(manager).get(reverse("home")).content.decode()
    assert "Documents to review or approve" in page and "SOP-002" in page and "Approve (sign)" in page
    effective_document.next_review_due = timezone.localdate()
    from qms.versioning import save_versioned

    save_versioned(effective_document, actor=staff, reason="test", fields=["next_review_due"])
    page = client_for(staff).get(reverse("home")).content.decode()
    assert "My documents due for periodic review" in page and "SOP-001" in page
