"""The REST contract of docs/api.md for documents and versions: fields, create, version-checked
update, transitions, history; bad input is 400, stale is 409, never 500."""

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentVersion
from tests.conftest import PASSWORD
from tests.documents.conftest import PDF_BYTES, SOP_TEXT, upload

pytestmark = pytest.mark.django_db


def test_create_document_and_walk_the_version_workflow(api_for, staff, manager):
    api = api_for(staff)
    created = api.post(reverse("api-document-list"), {
        "title": "Line clearance", "doc_type": "sop", "owner": staff.pk, "review_period_months": 12,
        "content_text": SOP_TEXT, "effective_from": timezone.localdate().isoformat(),
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["number"] == "SOP-001" and body["effective_version"] is None and body["version"] == 1
    assert set(body) >= {"id", "number", "title", "doc_type", "owner", "review_period_months", "effective_version", "next_review_due"}
    versions_url = reverse("api-document-version-list", args=[body["id"]])
    (version,) = api.get(versions_url).json()["results"]
    assert set(version) >= {"id", "revision", "status", "change_summary", "file", "effective_from", "approvals"}
    transitions = reverse("api-document-version-transitions", args=[body["id"], version["id"]])
    assert [a["action"] for a in api.get(transitions).json()] == ["submit"]
    submitted = api.post(transitions, {"action": "submit", "approvers": [manager.pk]}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    assert [a["action"] for a in api_for(manager).get(transitions).json()] == ["approve", "reject"]
    approved = api_for(manager).post(transitions, {"action": "approve", "password": PASSWORD, "meaning": "Approved"}, format="json")
    assert approved.json()["status"] == "approved"
    effective = api.post(transitions, {"action": "make_effective"}, format="json")
    assert effective.json()["status"] == "effective"
    document = api.get(reverse("api-document-detail", args=[body["id"]])).json()
    assert document["effective_version"]["id"] == version["id"] and document["next_review_due"]
    history = api.get(reverse("api-document-version-history", args=[body["id"], version["id"]])).json()
    assert [h["action"] for h in history][:3] == ["make_effective", "approve", "submit"]
    again = api.post(transitions, {"action": "make_effective"}, format="json")
    assert again.status_code == 409


def test_bad_input_is_400_with_field_messages(api_for, staff):
    api = api_for(staff)
    response = api.post(reverse("api-document-list"), {"title": "", "doc_type": "memo", "owner": 999999}, format="json")
    assert response.status_code == 400
    assert {"title", "doc_type", "owner"} <= set(response.json())
    assert not Document.objects.exists()


def test_submit_without_approver_is_400_and_unknown_action_409(api_for, staff, make_document):
    document = make_document()
    version = document.versions.get()
    transitions = reverse("api-document-version-transitions", args=[document.pk, version.pk])
    response = api_for(staff).post(transitions, {"action": "submit", "approvers": ["abc"]}, format="json")
    assert response.status_code == 400
    response = api_for(staff).post(transitions, {"action": "submit"}, format="json")
    assert response.status_code == 400 and response.json()["approvers"] == ["Name at least one approver."]
    assert api_for(staff).post(transitions, {"action": "explode"}, format="json").status_code == 409
    assert api_for(staff).post(transitions, {"action": "supersede"}, format="json").status_code == 409


def test_stale_version_is_409_and_changes_nothing(api_for, staff, make_document):
    document = make_document()
    version = document.versions.get()
    url = reverse("api-document-version-detail", args=[document.pk, version.pk])
    ok = api_for(staff).patch(url, {"content_text": "first edit", "version": version.version, "reason": "Step added."}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == version.version + 1
    stale = api_for(staff).patch(url, {"content_text": "second edit", "version": version.version, "reason": "Step changed."}, format="json")
    assert stale.status_code == 409
    assert DocumentVersion.objects.get(pk=version.pk).content_text == "first edit"
    missing = api_for(staff).patch(url, {"content_text": "third"}, format="json")
    assert missing.status_code == 400


def test_document_update_needs_version_and_keeps_type(api_for, staff, make_document):
    document = make_document()
    url = reverse("api-document-detail", args=[document.pk])
    changed = api_for(staff).patch(url, {"title": "Incoming goods inspection", "version": 1, "reason": "Clearer title"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Incoming goods inspection"
    refused = api_for(staff).patch(url, {"doc_type": "form", "version": 2}, format="json")
    assert refused.status_code == 400
    assert Document.objects.get(pk=document.pk).number == "SOP-001"


def test_new_revision_with_file_through_the_api_and_download(api_for, staff, effective_document):
    url = reverse("api-document-version-list", args=[effective_document.pk])
    response = api_for(staff).post(url, {"change_summary": "PDF added", "upload": upload("sop.pdf", PDF_BYTES)}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["revision"] == "2" and body["status"] == "draft" and body["file"].endswith("/download/")
    download = api_for(staff).get(reverse("api-document-version-download", args=[effective_document.pk, body["id"]]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    second = api_for(staff).post(url, {"change_summary": "another"}, format="json")
    assert second.status_code == 409
