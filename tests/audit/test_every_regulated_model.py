"""Every regulated model, discovered from the history registry (so each new app is covered
without editing this test), records who created and changed it and why, and shows up in the
audit trail with that user and reason."""

import datetime
import decimal
import uuid

import pytest
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from qms.audit.registry import historical_models, tracked_fields
from qms.audit.selectors import TrailFilter, audit_trail
from qms.history import set_history

REGULATED = [h.instance_type for h in historical_models()]


class CannotBuild(Exception):
    pass


def sample_value(field, actor, depth):
    if field.choices:
        return field.choices[0][0]
    if field.is_relation:
        if field.related_model is type(actor):
            return actor
        return build(field.related_model, actor, depth + 1)
    if isinstance(field, models.EmailField):
        return f"{uuid.uuid4().hex[:8]}@example.com"
    if isinstance(field, models.CharField | models.SlugField):
        return f"T{uuid.uuid4().hex}"[: field.max_length or 30]
    if isinstance(field, models.TextField):
        return "Text written by the audit test."
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField):
        return 1
    if isinstance(field, models.DecimalField):
        return decimal.Decimal("1")
    if isinstance(field, models.FloatField):
        return 1.0
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.DurationField):
        return datetime.timedelta(hours=1)
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.FileField):
        return "audit-test/evidence.txt"
    if isinstance(field, models.JSONField):
        return {}
    raise CannotBuild(f"no sample value for {field.__class__.__name__} {field.name}")


def build(model, actor, depth=0):
    """A minimal saved row of `model` (and of what it needs), each with history user and reason."""
    if depth > 4:
        raise CannotBuild(f"{model.__name__} is nested too deep")
    obj = model()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default() or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if isinstance(field, models.CharField | models.TextField) and field.blank and not field.choices and not field.unique:
            continue
        setattr(obj, field.name, sample_value(field, actor, depth))
    set_history(obj, user=actor, reason="Created by the audit test")
    obj.save()
    return obj


def is_append_only(model) -> bool:
    from django.db import connection

    from qms.db import trigger_name

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", [trigger_name(model._meta.db_table, "update")])
        return cursor.fetchone() is not None


def editable_field(model):
    historical = next(h for h in historical_models() if h.instance_type is model)
    for field in tracked_fields(historical):
        if isinstance(field, models.CharField | models.TextField) and not field.choices and not field.unique and not field.primary_key:
            return field
    return None


@pytest.mark.parametrize("model", REGULATED, ids=[m._meta.label_lower for m in REGULATED])
def test_create_and_update_are_recorded_with_user_and_reason(model, administrator):
    try:
        with transaction.atomic():
            record = build(model, administrator)
    except (CannotBuild, IntegrityError, ValueError, TypeError) as exc:
        pytest.skip(f"{model._meta.label} cannot be built generically here: {exc}")
    created = record.history.order_by("-history_id").first()
    assert created.history_type == "+"
    assert created.history_user == administrator
    assert created.history_change_reason == "Created by the audit test"

    # Some regulated records are themselves append-only (evidence, records of completion).
    field = None if is_append_only(model) else editable_field(model)
    new_value = "Changed by the audit test"[: field.max_length] if field is not None and field.max_length else "Changed by the audit test"
    if field is not None:
        setattr(record, field.attname, new_value)
        set_history(record, user=administrator, reason="Updated by the audit test")
        record.save()
        updated = record.history.order_by("-history_id").first()
        assert updated.history_type == "~"
        assert updated.history_user == administrator
        assert updated.history_change_reason == "Updated by the audit test"

    entries = list(audit_trail(TrailFilter(model=model._meta.label_lower, record=str(record.pk)))[:50])
    assert entries, "the record's history is missing from the audit trail"
    assert {e.username for e in entries} == {"administrator"}
    assert entries[-1].action == "created" and entries[-1].reason == "Created by the audit test"
    if field is not None:
        change = entries[0]
        assert change.reason == "Updated by the audit test"
        assert [c.field for c in change.changes] == [field.name]
        assert change.changes[0].new_display == new_value


def test_the_kernel_models_are_covered(db):
    labels = {m._meta.label_lower for m in REGULATED}
    assert {"qms.user", "qms.department"} <= labels


@pytest.mark.parametrize("historical", historical_models(), ids=[h._meta.label_lower for h in historical_models()])
def test_every_history_table_has_user_reason_action_and_chain(historical):
    names = {f.name for f in historical._meta.concrete_fields}
    assert {"history_user", "history_change_reason", "history_action", "history_date", "prev_hash", "entry_hash"} <= names


def test_an_admin_edit_is_in_the_trail_under_the_admins_name(administrator, auditor, quality, client_for):
    response = client_for(administrator).post(f"/admin/qms/department/{quality.pk}/change/", {"name": "Quality Assurance"})
    assert response.status_code == 302
    entries = client_for(auditor).get("/audit/", {"model": "qms.department", "record": str(quality.pk)}).context["entries"]
    latest = entries[0]
    assert latest.username == "administrator"
    assert [(c.label, c.old_display, c.new_display) for c in latest.changes] == [("Name", "Quality", "Quality Assurance")]


def test_an_api_write_is_in_the_trail_under_the_callers_name(signed_specimen, staff, auditor, api_for, client_for):
    from tests.kernel_app.models import Specimen

    other = Specimen.objects.create(reference="SPC-API-1", title="Via the API", owner=staff)
    response = api_for(staff).post(f"/api/v1/kernel-test/specimens/{other.pk}/transitions/", {"action": "withdraw", "reason": "Duplicate of SPC-1"}, format="json")
    assert response.status_code == 200, response.content
    entries = client_for(auditor).get("/audit/", {"record": "SPC-API-1"}).context["entries"]
    assert (entries[0].username, entries[0].action, entries[0].reason) == ("staff", "withdraw", "Duplicate of SPC-1")


def test_a_browser_transition_is_in_the_trail_with_user_and_reason(staff, auditor, client_for):
    from tests.kernel_app.models import Specimen

    record = Specimen.objects.create(reference="SPC-WEB-1", title="Via the browser", owner=staff)
    response = client_for(staff).post(f"/kernel-test/specimens/{record.pk}/transition/", {"action": "withdraw", "reason": "Raised twice"})
    assert response.status_code == 302
    latest = client_for(auditor).get("/audit/", {"record": "SPC-WEB-1"}).context["entries"][0]
    assert (latest.username, latest.action, latest.reason) == ("staff", "withdraw", "Raised twice")
    assert [(c.label, c.old_display, c.new_display) for c in latest.changes] == [("Status", "Draft", "Withdrawn")]
