"""One diff for every reader (issue 15, item 2): the same workflow step of a complaint, a CAPA,
a document version and a training assignment shows the same non-empty changes on
`<record>/history/`, the trail API, the trail page, the record page and the CSV export.

simple-history's diff_against leaves out non-editable fields (status, deadlines, timestamps),
so `<record>/history/` used to answer `"changes": []` for every workflow step."""

import csv
import io

import pytest
from django.core.management import call_command

from capa.models import Capa
from complaints.models import Complaint
from documents.models import DocumentVersion
from qms.models import Transition
from training.models import TrainingAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=io.StringIO())


# (model, API path, workflow action, a field the step must show as changed)
STEPS = [
    (Complaint, "complaints", "acknowledge", "status"),
    (Complaint, "complaints", "resume", "status"),
    (Complaint, "complaints", "close", "closed_at"),
    (Capa, "capas", "close", "status"),
    (DocumentVersion, "documents/versions", "approve", "status"),
    (TrainingAssignment, "training/assignments", "waive", "status"),
]


def history_path(record) -> str:
    if isinstance(record, DocumentVersion):
        return f"/api/v1/documents/{record.document_id}/versions/{record.pk}/history/"
    base = {Complaint: "complaints", Capa: "capas", TrainingAssignment: "training/assignments"}[
        type(record)
    ]
    return f"/api/v1/{base}/{record.pk}/history/"


def triples(changes) -> list[tuple]:
    return [(c["field"], c["old"], c["new"]) for c in changes]


def shown(changes) -> list[tuple]:
    return [(c["label"], c["old_display"], c["new_display"]) for c in changes]


def take_missing_steps():
    """Steps the demo data does not take, taken here through the services on demo records."""
    from django.contrib.auth import get_user_model

    from complaints import services as complaint_services

    manager = get_user_model().objects.get(username="manager")
    if not Transition.objects.filter(action="resume").exists():
        waiting = Complaint.objects.filter(status="awaiting_customer").order_by("pk").first()
        complaint_services.complaint_transition(
            waiting, "resume", actor=manager, reason="The customer sent the photos", data={}
        )


def test_every_workflow_step_shows_the_same_non_empty_diff_everywhere(demo, api_for, client_for):
    """One seed of the demo data for all the steps (seeding costs ~20 s)."""
    take_missing_steps()
    for model, _path, action, field in STEPS:
        check_step(model, action, field, api_for, client_for)


def check_step(model, action, field, api_for, client_for):
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.utils.html import escape

    auditor = get_user_model().objects.get(username="auditor")
    # Given a demo record that went through the step
    step = (
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(model), action=action
        )
        .order_by("-id")
        .first()
    )
    assert step is not None, f"the demo data has no {model.__name__} {action}"
    record = model._base_manager.get(pk=step.object_id)
    row = record.history.filter(history_action=action).order_by("-history_id").first()
    label = model._meta.label_lower

    # When each reader is asked for it
    history = api_for(auditor).get(history_path(record))
    assert history.status_code == 200, history.content
    (own,) = [
        e
        for e in history.json()
        if e["action"] == action
        and e["reason"] == row.history_change_reason
        and e["at"] == _api_time(row.history_date)
    ][:1]
    trail = api_for(auditor).get(
        "/api/v1/audit-trail/", {"model": label, "object_id": record.pk, "action": action}
    )
    assert trail.status_code == 200
    (in_trail,) = [e for e in trail.json()["results"] if e["at"] == own["at"]]

    # Then the diff is the same, and names the fields the step wrote
    assert own["changes"], f"{action}: no changes on {history_path(record)}"
    assert field in [c["field"] for c in own["changes"]]
    assert triples(own["changes"]) == triples(in_trail["changes"])
    assert shown(own["changes"]) == shown(in_trail["changes"])

    csv_body = b"".join(
        client_for(auditor)
        .get("/audit/export.csv", {"model": label, "record": record.pk, "action": action})
        .streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(csv_body)))
    header = rows.index(next(r for r in rows if r and r[0] == "at"))
    data = [dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 :]]
    exported = [
        (d["field"], d["old"], d["new"])
        for d in data
        if d["reason"] == own["reason"] and d["at"] == row.history_date.isoformat()
    ]
    assert exported == shown(own["changes"])

    page = (
        client_for(auditor)
        .get("/audit/", {"model": label, "record": record.pk, "action": action})
        .content.decode()
    )
    record_page = client_for(auditor).get(f"/audit/records/{label}/{record.pk}/").content.decode()
    for _label, _old, new in shown(own["changes"]):
        assert escape(new)[:100] in page
        assert escape(new)[:100] in record_page


def _api_time(value) -> str:
    from rest_framework.fields import DateTimeField

    return DateTimeField().to_representation(value)
