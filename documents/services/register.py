"""The document register entry: create a controlled document (with its first revision) and change
its entry (title, type, owner, department, review period)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from documents.models import NUMBER_PREFIXES, Document, DocumentType, ReviewOutcome
from documents.services.common import _require_quality
from documents.services.content import _validate_text
from documents.services.versions import version_create
from documents.workflow import next_review_date
from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.history import set_history
from qms.reasons import person_reason
from qms.references import allocate_reference
from qms.versioning import check_version, save_versioned

DOCUMENT_FIELDS = ("title", "doc_type", "owner", "department", "review_period_months")
# Changing these is itself a controlled change (issue 15): Quality Managers only.
CONTROLLED_DOCUMENT_FIELDS = ("owner", "review_period_months")


def _validate_document(fields: dict) -> None:
    errors = {}
    if not (fields.get("title") or "").strip():
        errors["title"] = ["Give the document a title."]
    if fields.get("doc_type") not in DocumentType.values:
        errors["doc_type"] = ["Choose a document type."]
    period = fields.get("review_period_months")
    if not isinstance(period, int) or not 1 <= period <= 120:
        errors["review_period_months"] = ["The review period is 1 to 120 months."]
    owner = fields.get("owner")
    if owner is None or not owner.is_active or not qms_roles.has_role(owner, *qms_roles.QUALITY):
        errors["owner"] = ["The owner must be an active member of Quality Staff or a Quality Manager."]
    if errors:
        raise ValidationFailed("The document is not valid.", field_errors=errors)


@transaction.atomic
def document_create(
    *,
    actor,
    title: str,
    doc_type: str,
    owner,
    department=None,
    review_period_months: int = 24,
    content_text: str = "",
    upload=None,
    effective_from: datetime.date | None = None,
    change_summary: str = "",
    reason: str = "",
) -> Document:
    """A new register entry with its first revision as a draft."""
    _require_quality(actor)
    fields = {"title": title, "doc_type": doc_type, "owner": owner, "department": department,
              "review_period_months": review_period_months}
    _validate_document(fields)
    _validate_text(content_text or "")
    document = Document(
        number=allocate_reference(NUMBER_PREFIXES[DocumentType(doc_type)], width=3, per_year=False),
        title=title.strip(),
        doc_type=doc_type,
        owner=owner,
        department=department,
        review_period_months=review_period_months,
        created_by=actor,
    )
    set_history(document, user=actor, reason=reason or "New controlled document", action="create")
    document.save()
    version_create(
        document=document, actor=actor, content_text=content_text, upload=upload, effective_from=effective_from,
        change_summary=change_summary or "First issue.", copy_effective=False,
    )
    return document


@transaction.atomic
def document_update(document: Document, *, actor, reason: str, expected_version, **changes) -> Document:
    """Change the register entry (title, type, owner, department, review period). The number
    never changes; the type keeps its number (SOP-014 stays SOP-014)."""
    _require_quality(actor)
    locked = Document.objects.select_for_update().get(pk=document.pk)
    check_version(locked, expected_version)
    reason = person_reason(reason, ask="Say why the document entry changes.")
    unknown = set(changes) - set(DOCUMENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed here.")
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    controlled = [name for name in CONTROLLED_DOCUMENT_FIELDS if name in changed]
    if controlled and not qms_roles.has_role(actor, qms_roles.MANAGER):
        # Who keeps a document right and how often it is re-checked are part of its control
        # (ISO 9001 7.5.2, 7.5.3): a Quality Manager decides them, not any editor.
        labels = " and ".join("the review period" if n == "review_period_months" else "the owner" for n in controlled)
        raise NotAllowed(f"Only a Quality Manager may change {labels} of a controlled document.")
    for name in changed:
        setattr(locked, name, changes[name])
    _validate_document({name: getattr(locked, name) for name in DOCUMENT_FIELDS})
    if "review_period_months" in changed and locked.effective_version_id:
        # The period counts from the last confirmed review, else from the release.
        last_confirmed = locked.periodic_reviews.filter(outcome=ReviewOutcome.NO_CHANGE).values_list("reviewed_at", flat=True).first()
        start = timezone.localdate(last_confirmed) if last_confirmed else locked.effective_version.effective_from
        locked.next_review_due = next_review_date(start, locked.review_period_months)
        changed.append("next_review_due")
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked
