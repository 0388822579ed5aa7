"""Tamper evidence (21 CFR 11.10(e), EU GMP Annex 11 section 9): re-compute every hash chain.

Each chained table (every historical table, the signatures) is read in insertion order. A row
whose content no longer gives its stored hash was changed; a row whose `prev_hash` is not the
hash of the row before it follows a deleted row or was inserted. Each run also stores an anchor
per table (its newest row and that row's hash): the next run checks that the anchor row is
still there and unchanged, so cutting rows off the end of a table is caught as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from qms.audit.models import AuditVerification
from qms.audit.registry import chained_models
from qms.history import chain_content, chain_hash

CHANGED = "changed"
LINK_BROKEN = "link_broken"
ANCHOR_CHANGED = "anchor_changed"
ANCHOR_MISSING = "anchor_missing"

PROBLEMS = {
    CHANGED: "The row's content no longer matches its hash: it was changed after it was written.",
    LINK_BROKEN: "The row does not link to the row before it: a row before it was deleted, or this row was inserted.",
    ANCHOR_CHANGED: "The newest row seen by the last verification has changed.",
    ANCHOR_MISSING: "The newest row seen by the last verification is gone: rows were deleted from the end of the table.",
}


@dataclass
class TableResult:
    table: str
    model: str
    rows: int = 0
    first_break: dict | None = None
    anchor: dict = field(default_factory=dict)


def _parent_history(row):
    """The history row a many-to-many history row belongs to (a user's roles at that time)."""
    field = next((f for f in type(row)._meta.concrete_fields if f.name == "history" and f.is_relation), None)
    if field is None or not hasattr(field.related_model, "instance_type"):
        return None
    return field.related_model._base_manager.filter(pk=getattr(row, field.attname)).first()


def _row_time(row):
    for name in ("history_date", "signed_at", "at", "created_at"):
        value = getattr(row, name, None)
        if value is not None:
            return value
    parent = _parent_history(row)
    return parent.history_date if parent is not None else None


def _record_of(row) -> tuple[str, object]:
    """(model label, object id) of the record a chained row is about."""
    parent = _parent_history(row)
    if parent is not None:
        return parent.instance_type._meta.label_lower, parent.id
    instance_type = getattr(type(row), "instance_type", None)
    if instance_type is not None:
        return instance_type._meta.label_lower, getattr(row, instance_type._meta.pk.attname, None)
    if hasattr(row, "content_type_id") and hasattr(row, "object_id"):
        from django.contrib.contenttypes.models import ContentType

        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        return (model._meta.label_lower if model else ""), row.object_id
    return type(row)._meta.label_lower, row.pk


def _describe(model, row, problem: str, *, pk=None) -> dict:
    if row is None:
        return {
            "table": model._meta.db_table,
            "model": model._meta.label_lower,
            "row_id": pk,
            "record_model": "",
            "record_id": None,
            "at": None,
            "problem": problem,
            "message": PROBLEMS[problem],
        }
    record_model, record_id = _record_of(row)
    at = _row_time(row)
    return {
        "table": model._meta.db_table,
        "model": model._meta.label_lower,
        "row_id": row.pk,
        "record_model": record_model,
        "record_id": record_id,
        "at": at.isoformat() if at else None,
        "problem": problem,
        "message": PROBLEMS[problem],
    }


def verify_table(model, anchor: dict | None = None, *, chunk_size: int = 2000) -> TableResult:
    """Walk one chained table in insertion (primary key) order; memory stays flat."""
    result = TableResult(table=model._meta.db_table, model=model._meta.label_lower)
    pk_name = model._meta.pk.attname
    expected_prev = ""
    anchor_seen = not anchor
    for row in model._base_manager.order_by(pk_name).iterator(chunk_size=chunk_size):
        result.rows += 1
        if result.first_break is None:
            if chain_hash(chain_content(row)) != row.entry_hash:
                result.first_break = _describe(model, row, CHANGED)
            elif row.prev_hash != expected_prev:
                result.first_break = _describe(model, row, LINK_BROKEN)
        if anchor and row.pk == anchor.get("pk"):
            anchor_seen = True
            if row.entry_hash != anchor.get("hash") and result.first_break is None:
                result.first_break = _describe(model, row, ANCHOR_CHANGED)
        expected_prev = row.entry_hash
        result.anchor = {"pk": row.pk, "hash": row.entry_hash, "rows": result.rows}
    if not anchor_seen and result.first_break is None:
        result.first_break = _describe(model, None, ANCHOR_MISSING, pk=anchor.get("pk"))
    return result


def verify_audit_trail(*, triggered_by: str = AuditVerification.Trigger.COMMAND, store: bool = True) -> AuditVerification:
    """Check every chain; store and return the result (the trail page shows the latest)."""
    previous = AuditVerification.objects.order_by("-started_at", "-id").first()
    anchors = previous.anchors if previous else {}
    started_at = timezone.now()
    results = [verify_table(model, anchors.get(model._meta.db_table)) for model in chained_models()]
    breaks = [r.first_break for r in results if r.first_break]
    breaks.sort(key=lambda b: b["at"] or "")
    verification = AuditVerification(
        started_at=started_at,
        finished_at=timezone.now(),
        is_intact=not breaks,
        tables_checked=len(results),
        rows_checked=sum(r.rows for r in results),
        breaks=breaks,
        anchors={r.table: r.anchor for r in results if r.anchor},
        triggered_by=triggered_by,
    )
    if store:
        with transaction.atomic():
            verification.save()
    return verification


def latest_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-started_at", "-id").first()
