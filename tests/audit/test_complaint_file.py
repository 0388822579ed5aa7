"""The whole file of a record in the audit trail and the dossier (issue 15, item 1).

Every record that is part of a complaint's, CAPA's or document's file (attachments,
communications, escalations, the survey sent and answered, CAPA evidence files, review and
approval sign-offs, training records of a version) appears in the trail under its parent
record; `?record=CMP-...` returns the parent and all its children, on the page and in the API;
free text finds an attachment's file name and a phone note; the complaint's dossier holds every
section of its file."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from pypdf import PdfReader

from capa import services as capa_services
from capa.models import CapaAction
from complaints import services as complaint_services
from complaints.models import Attachment, Communication, Complaint, Escalation, Survey
from documents.models import VersionSignoff
from training.models import TrainingAssignment

pytestmark = pytest.mark.django_db

PHONE_NOTE = "Ward sister phoned back: the clamp on line 3 was found closed after the night shift."
FILE_NAME = "occlusion-test-report-4471.txt"


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    users = get_user_model().objects
    return {name: users.get(username=name) for name in ("auditor", "staff", "manager")}


def trail_api(api, **params) -> list[dict]:
    response = api.get("/api/v1/audit-trail/", {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_complaint_file_is_in_the_trail_under_its_complaint(demo, api_for, client_for):
    staff, auditor = demo["staff"], demo["auditor"]
    # Given a demo complaint with a CAPA, a file and a phone note added to it
    complaint = (
        Complaint.objects.filter(capas__isnull=False, surveys__answered_at__isnull=False).first()
        or Complaint.objects.filter(capas__isnull=False).first()
    )
    attachment = complaint_services.attachment_add(
        complaint=complaint,
        actor=staff,
        uploaded_file=ContentFile(b"Occlusion test: pass\n", name=FILE_NAME),
    )
    note = complaint_services.communication_add(
        complaint=complaint, actor=staff, direction="inbound", channel="phone", summary=PHONE_NOTE
    )
    api = api_for(auditor)

    # When the trail is filtered to the complaint's reference
    entries = trail_api(api, record=complaint.reference)

    # Then the complaint and every child of its file are there, each under the complaint
    models = {e["model"] for e in entries}
    assert "complaints.complaint" in models
    children = [
        e for e in entries if e["model"] != "complaints.complaint" and e["kind"] == "history"
    ]
    assert {(e["model"], e["object_id"]) for e in children} >= {
        ("complaints.attachment", attachment.pk),
        ("complaints.communication", note.pk),
    }
    assert all(
        e["parent_model"] == "complaints.complaint"
        and e["parent_id"] == complaint.pk
        and e["parent_repr"] == complaint.reference
        for e in children
    )
    for model in (Attachment, Communication, Escalation, Survey):
        # every kind of child, of the demo complaints that have one
        child = model.objects.order_by("pk").first()
        assert child is not None, model
        found = trail_api(api, record=child.complaint.reference, model=model._meta.label_lower)
        assert [e["object_id"] for e in found if e["object_id"] == child.pk], model
        assert {e["parent_repr"] for e in found} == {child.complaint.reference}
    answered = Survey.objects.filter(answered_at__isnull=False).first()
    survey_entries = trail_api(api, record=answered.complaint.reference, model="complaints.survey")
    assert [e["action"] for e in survey_entries if e["object_id"] == answered.pk] == [
        "changed",
        "created",
    ]
    answer = next(
        e for e in survey_entries if e["action"] == "changed" and e["object_id"] == answered.pk
    )
    assert {c["field"] for c in answer["changes"]} >= {"answered_at", "csat", "ces", "nps"}
    assert "token_hash" not in str(survey_entries)

    # and the page says so too
    page = client_for(auditor).get("/audit/", {"record": complaint.reference}).content.decode()
    assert FILE_NAME in page and "Communication" in page and 'of <a class="parent"' in page

    # and free text finds the file name and the phone note, on the page and in the API
    assert [
        e["object_id"]
        for e in trail_api(api, search=FILE_NAME)
        if e["model"] == "complaints.attachment"
    ] == [attachment.pk]
    assert [
        e["object_id"]
        for e in trail_api(api, search="clamp on line 3")
        if e["model"] == "complaints.communication"
    ] == [note.pk]
    found = client_for(auditor).get("/audit/", {"q": "clamp on line 3"}).content.decode()
    assert complaint.reference in found and "From the customer" in found


def test_capa_and_document_files_are_in_the_trail_under_their_records(demo, api_for):
    staff, auditor = demo["staff"], demo["auditor"]
    api = api_for(auditor)
    # A CAPA's action evidence, under the CAPA
    action = (
        CapaAction.objects.filter(status__in=["planned", "in_progress"])
        .exclude(capa__status__in=["closed", "cancelled"])
        .first()
    )
    evidence = capa_services.action_add_evidence(
        action,
        actor=staff,
        upload=SimpleUploadedFile("torque-readings.txt", b"12 Nm\n", content_type="text/plain"),
    )
    entries = trail_api(api, record=action.capa.reference)
    models = {e["model"] for e in entries}
    assert {"capa.capa", "capa.capaaction", "capa.actionevidence"} <= models
    (row,) = [e for e in entries if e["model"] == "capa.actionevidence"]
    assert (row["object_id"], row["parent_repr"]) == (evidence.pk, action.capa.reference)
    # A document's sign-offs, versions and the training records of its versions, under the document
    signoff = VersionSignoff.objects.select_related("version__document").order_by("pk").first()
    document = signoff.version.document
    entries = trail_api(api, record=document.number)
    models = {e["model"] for e in entries}
    assert {"documents.document", "documents.documentversion", "documents.versionsignoff"} <= models
    assert all(
        e["parent_repr"] == str(document)
        for e in entries
        if e["kind"] == "history" and e["model"] != "documents.document"
    )
    trained = TrainingAssignment.objects.select_related("document").order_by("pk").first()
    entries = trail_api(api, record=trained.document.number, model="training.trainingassignment")
    assert trained.pk in {e["object_id"] for e in entries}
    # The approvals signed on the versions are in the document's file too
    assert any(e["kind"] == "signature" for e in trail_api(api, record=document.number))


def test_the_complaint_dossier_holds_every_section_of_its_file(demo, client_for):
    staff, auditor = demo["staff"], demo["auditor"]
    complaint = (
        Complaint.objects.filter(status="closed", capas__isnull=False).first()
        or Complaint.objects.filter(capas__isnull=False).first()
    )
    attachment = complaint_services.attachment_add(
        complaint=complaint,
        actor=staff,
        uploaded_file=ContentFile(b"Occlusion test: pass\n", name=FILE_NAME),
    )
    complaint_services.communication_add(
        complaint=complaint, actor=staff, direction="inbound", channel="phone", summary=PHONE_NOTE
    )
    response = client_for(auditor).get(
        f"/audit/records/complaints.complaint/{complaint.pk}/dossier.pdf"
    )
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    for title in (
        "Record",
        "Regulatory decisions",
        "Communications",
        "Attachments",
        "Escalations",
        "Customer survey",
        "Linked CAPAs",
        "History",
        "History of the records filed under it",
        "Electronic signatures",
        "Workflow transitions",
    ):
        assert title in flat, title
    assert attachment.sha256[:32] in flat.replace(" ", "") and FILE_NAME in flat
    assert "Ward sister phoned back" in flat
    capa = complaint.capas.first()
    assert capa.reference in flat and capa.get_status_display() in flat
    if complaint.reportability_decided_by_id:
        assert complaint.reportability_decided_by.full_name in flat
