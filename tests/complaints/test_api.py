"""The REST API of docs/api.md: fields, filters, writes through services, 400/403/409 answers."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints.models import Complaint, Escalation
from tests.complaints.conftest import advance, hours_ago

pytestmark = pytest.mark.django_db

API_FIELDS = {
    "id", "reference", "title", "description", "channel", "customer", "product", "lot_number", "udi", "category",
    "severity", "status", "assignee", "received_at", "acknowledged_at", "resolved_at", "closed_at",
    "first_response_due", "resolution_due", "sla_paused_hours", "escalation_level", "is_recurring", "recurrence_of",
    "investigation_required", "no_investigation_reason", "is_reportable", "reportability_reason", "resolution",
    "capas", "version",
}


def test_complaint_has_every_field_of_api_md(api_for, staff, complaint):
    data = api_for(staff).get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert set(data) >= API_FIELDS
    assert data["reference"] == complaint.reference and data["status"] == "new" and data["version"] == 1
    assert data["capas"] == []


def test_create_through_the_api(api_for, staff, customer, product, category, policies):
    response = api_for(staff).post(
        "/api/v1/complaints/",
        {"title": "Leaking bag", "description": "Bag leaks at the seam.", "customer": customer.pk, "product": product.pk,
         "category": category.pk, "severity": "critical", "channel": "email", "lot_number": "L1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("CMP-") and body["first_response_due"] and body["status"] == "new"


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "title"),
        ({"title": "t"}, "description"),
        ({"title": "t", "description": "d"}, "customer"),
        ({"title": "t", "description": "d", "customer": "abc"}, "customer"),
        ({"title": "t", "description": "d", "customer": 999999}, "customer"),
        ({"title": "x" * 201, "description": "d", "customer": None}, "title"),
        ({"title": "t", "description": "x" * 10001}, "description"),
        ({"title": "t", "description": "d", "severity": "huge"}, "severity"),
        ({"title": "t", "description": "d", "received_at": "soon"}, "received_at"),
        ({"title": ["t"], "description": "d"}, "title"),
        ({"title": "t", "description": "d", "investigation_required": "maybe"}, "investigation_required"),
    ],
)
def test_bad_input_answers_400_with_field_messages(api_for, staff, customer, policies, payload, field):
    if payload.get("customer", "unset") is None or "customer" not in payload:
        payload = {**payload, "customer": customer.pk} if field != "customer" else payload
    response = api_for(staff).post("/api/v1/complaints/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Complaint.objects.exists()


def test_future_received_at_is_refused(api_for, staff, customer, policies):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = api_for(staff).post(
        "/api/v1/complaints/", {"title": "t", "description": "d", "customer": customer.pk, "received_at": future}, format="json"
    )
    assert response.status_code == 400 and "received_at" in response.json()


def test_update_needs_version_and_reason_and_stale_is_409(api_for, staff, complaint):
    client = api_for(staff)
    url = f"/api/v1/complaints/{complaint.pk}/"
    assert client.patch(url, {"title": "New"}, format="json").status_code == 400  # no version
    assert client.patch(url, {"title": "New", "version": 1}, format="json").status_code == 400  # no reason
    ok = client.patch(url, {"title": "New", "version": 1, "reason": "clearer", "severity": "high"}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.json()["severity"] == "high"
    stale = client.patch(url, {"title": "Older", "version": 1, "reason": "late"}, format="json")
    assert stale.status_code == 409 and "detail" in stale.json()
    assert Complaint.objects.get().title == "New"


def test_status_is_not_writable_by_patch(api_for, staff, complaint):
    response = api_for(staff).patch(
        f"/api/v1/complaints/{complaint.pk}/", {"status": "closed", "version": 1, "reason": "skip"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    assert Complaint.objects.get().status == "new"


def test_transitions_list_and_take_and_illegal_is_409(api_for, staff, complaint):
    client = api_for(staff)
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    assert [a["action"] for a in client.get(url).json()] == ["acknowledge", "reject"]
    assert client.post(url, {"action": "acknowledge", "reason": "called back"}, format="json").json()["status"] == "acknowledged"
    illegal = client.post(url, {"action": "resolve", "resolution": "x"}, format="json")
    assert illegal.status_code == 409
    unknown = client.post(url, {"action": "teleport"}, format="json")
    assert unknown.status_code == 409
    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "action" in missing.json()
    client.post(url, {"action": "investigate"}, format="json")
    no_resolution = client.post(url, {"action": "resolve"}, format="json")
    assert no_resolution.status_code == 400 and "resolution" in no_resolution.json()
    resolved = client.post(url, {"action": "resolve", "resolution": "Replaced"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]


def test_close_with_wrong_password_is_403_and_changes_nothing(api_for, staff, manager, complaint):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    body = {"action": "close", "investigation_required": True, "is_reportable": False, "reportability_reason": "No harm",
            "password": "wrong"}
    assert api_for(manager).post(url, body, format="json").status_code == 403
    assert Complaint.objects.get().status == "resolved"
    no_decision = api_for(manager).post(url, {"action": "close", "password": "Correct-Horse-9"}, format="json")
    assert no_decision.status_code == 400 and "is_reportable" in no_decision.json()
    body["password"] = "Correct-Horse-9"
    closed = api_for(manager).post(url, body, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    signatures = api_for(staff).get(f"/api/v1/complaints/{complaint.pk}/signatures/").json()
    assert signatures[0]["meaning"] == "Approved for closure"


def test_history_escalations_and_communications(api_for, staff, make_complaint):
    from complaints import services

    complaint = make_complaint(received_at=hours_ago(5), assignee=staff)
    services.escalate_due_complaints()
    client = api_for(staff)
    escalations = client.get(f"/api/v1/complaints/{complaint.pk}/escalations/").json()
    assert [(e["kind"], e["level"]) for e in escalations] == [("first_response", 1), ("first_response", 2)]
    assert set(escalations[0]) >= {"level", "kind", "at", "notified"}
    history = client.get(f"/api/v1/complaints/{complaint.pk}/history/").json()
    assert history[0]["action"] == "escalate" and history[-1]["action"] == "created"
    url = f"/api/v1/complaints/{complaint.pk}/communications/"
    created = client.post(url, {"direction": "outbound", "channel": "phone", "summary": "Called back"}, format="json")
    assert created.status_code == 201 and created.json()["author"] == "staff"
    assert client.post(url, {"direction": "up", "channel": "phone", "summary": "x"}, format="json").status_code == 400
    assert client.post(url, {"direction": "inbound", "channel": "phone"}, format="json").status_code == 400
    assert [c["summary"] for c in client.get(url).json()] == ["Called back"]
    assert Escalation.objects.count() == 2


def test_attachment_upload_through_the_api(api_for, staff, complaint, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = api_for(staff)
    url = f"/api/v1/complaints/{complaint.pk}/attachments/"
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", content_type="application/pdf")
    response = client.post(url, {"file": pdf, "description": "Lab report"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "application/pdf"
    settings.QMS_UPLOAD_MAX_BYTES = 10
    too_big = client.post(url, {"file": SimpleUploadedFile("a.txt", b"hello world, this is long")}, format="multipart")
    assert too_big.status_code == 400 and "file" in too_big.json()
    assert client.post(url, {}, format="multipart").status_code == 400
    assert len(client.get(url).json()) == 1


def test_filters_search_ordering_and_bad_filters(api_for, staff, make_complaint, product, failure_mode):
    a = make_complaint(title="Alpha", severity="low", received_at=hours_ago(30), product=product, failure_mode=failure_mode)
    b = make_complaint(title="Bravo", severity="critical", product=product, failure_mode=failure_mode)
    client = api_for(staff)
    assert [c["id"] for c in client.get("/api/v1/complaints/?severity=critical").json()["results"]] == [b.pk]
    assert [c["id"] for c in client.get("/api/v1/complaints/?search=alpha").json()["results"]] == [a.pk]
    assert [c["id"] for c in client.get("/api/v1/complaints/?ordering=received_at").json()["results"]] == [a.pk, b.pk]
    assert [c["id"] for c in client.get("/api/v1/complaints/?recurring=true").json()["results"]] == [b.pk]
    assert [c["id"] for c in client.get("/api/v1/complaints/?overdue=true").json()["results"]] == [a.pk]
    page = client.get("/api/v1/complaints/?page_size=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert client.get("/api/v1/complaints/?severity=huge").status_code == 400
    assert client.get("/api/v1/complaints/?received_from=yesterday").status_code == 400
    assert client.get("/api/v1/complaints/?page=99").status_code == 404


def test_customers_products_policies_and_surveys(api_for, staff, manager, complaint, policies):
    client = api_for(staff)
    customers = client.get("/api/v1/customers/?search=jane").json()["results"]
    assert customers[0]["name"] == "Jane Roe" and set(customers[0]) >= {"id", "name", "email", "organisation"}
    assert client.post("/api/v1/customers/", {"name": ""}, format="json").status_code == 400
    assert client.post("/api/v1/products/", {"code": "X-1", "name": "Thing"}, format="json").status_code == 201
    assert client.post("/api/v1/products/", {"code": "X-1", "name": "Again"}, format="json").status_code == 400
    policy = client.get("/api/v1/sla-policies/").json()[0]
    assert set(policy) >= {"severity", "first_response_hours", "resolution_hours", "escalation_steps"}
    url = f"/api/v1/sla-policies/{policy['id']}/"
    assert client.patch(url, {"first_response_hours": "2", "version": policy["version"], "reason": "x"}, format="json").status_code == 403
    bad_steps = api_for(manager).patch(url, {"escalation_steps": [{"level": "one"}], "version": policy["version"], "reason": "x"}, format="json")
    assert bad_steps.status_code == 400
    ok = api_for(manager).patch(url, {"first_response_hours": "2", "version": policy["version"], "reason": "Tighter"}, format="json")
    assert ok.status_code == 200 and ok.json()["first_response_hours"] == "2.00"
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    surveys = client.get("/api/v1/surveys/").json()["results"]
    assert surveys[0]["complaint"] == complaint.pk and surveys[0]["answered_at"] is None
    assert set(surveys[0]) >= {"complaint", "sent_at", "answered_at", "csat", "ces", "nps", "comment"}
    assert client.get("/api/v1/surveys/?answered=true").json()["count"] == 0


def test_openapi_schema_lists_the_complaint_endpoints(api_for, staff):
    schema = api_for(staff).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/complaints/", "/api/v1/complaints/{id}/transitions/", "/api/v1/complaints/{id}/escalations/",
                 "/api/v1/complaints/{id}/communications/", "/api/v1/sla-policies/", "/api/v1/surveys/", "/api/v1/customers/"):
        assert path in paths, path


def test_triage_decisions_need_their_reasons(api_for, staff, complaint):
    url = f"/api/v1/complaints/{complaint.pk}/"
    client = api_for(staff)
    no_reason = client.patch(url, {"investigation_required": False, "version": 1, "reason": "triage"}, format="json")
    assert no_reason.status_code == 400 and "no_investigation_reason" in no_reason.json()
    reportable = client.patch(url, {"is_reportable": True, "version": 1, "reason": "triage"}, format="json")
    assert reportable.status_code == 400 and "reportability_reason" in reportable.json()
    ok = client.patch(
        url,
        {"investigation_required": False, "no_investigation_reason": "Same root cause as CMP-2026-00001",
         "is_reportable": False, "reportability_reason": "No harm possible", "version": 1, "reason": "triage"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["investigation_decided_by"] == "staff" and ok.json()["reportability_decided_by"] == "staff"
