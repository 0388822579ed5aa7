"""Minimal controlled documents for the CAPA tests: rows in the states the documents app
produces (its own workflow is tested in tests/documents)."""

from django.db import transaction
from django.utils import timezone

from documents.models import Document, DocumentVersion
from qms.references import allocate_reference


def make_effective_document(*, actor, title="Seal assembly SOP"):
    with transaction.atomic():
        document = Document.objects.create(number=allocate_reference("SOP", width=3, per_year=False), title=title, doc_type="sop", owner=actor, created_by=actor)
        version = DocumentVersion.objects.create(
            document=document, revision_index=1, revision="1", status="effective", content_text="Assemble the seal.",
            effective_from=timezone.localdate(), effective_at=timezone.now(), author=actor,
        )
        document.effective_version = version
        document.save(update_fields=["effective_version"])
    return document


def make_next_revision_effective(document, *, actor):
    with transaction.atomic():
        old = document.effective_version
        new = DocumentVersion.objects.create(
            document=document, revision_index=old.revision_index + 1, revision=str(old.revision_index + 1), status="draft",
            change_summary="Seal inspection added.", content_text="Assemble and inspect the seal.",
            effective_from=timezone.localdate(), author=actor,
        )
        old.status = "superseded"
        old.superseded_at = timezone.now()
        old.save(update_fields=["status", "superseded_at"])
        new.status = "effective"
        new.effective_at = timezone.now()
        new.save(update_fields=["status", "effective_at"])
        document.effective_version = new
        document.save(update_fields=["effective_version"])
    return new
