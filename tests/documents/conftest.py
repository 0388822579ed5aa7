"""Builders for documents tests: later states are reached through the services, so transition,
signature and history rows exist as they would in real use."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from documents import services
from documents.models import DocumentType
from qms import roles as qms_roles
from tests.conftest import PASSWORD, make_user

SOP_TEXT = "1. Purpose\nDescribe how incoming goods are inspected.\n\n2. Steps\n2.1 Check the delivery note.\n2.2 Sample 5 units.\n"


@pytest.fixture
def manager2(db):
    return make_user("manager2", qms_roles.MANAGER)


@pytest.fixture
def make_document(staff):
    def make(title="Incoming inspection", *, actor=None, text=SOP_TEXT, effective_from=None, doc_type=DocumentType.SOP, **extra):
        actor = actor or staff
        return services.document_create(
            actor=actor, title=title, doc_type=doc_type, owner=extra.pop("owner", actor),
            content_text=text, effective_from=effective_from or timezone.localdate(), **extra,
        )

    return make


def submit(version, *, actor, approvers, reviewers=()):
    return services.version_transition(
        version, "submit", actor=actor, data={"approvers": [u.pk for u in approvers], "reviewers": [u.pk for u in reviewers]}
    )


def approve(version, approver, password=PASSWORD):
    return services.version_transition(version, "approve", actor=approver, password=password, meaning="Approved")


def release(version, *, author, approver, reviewers=()):
    """draft -> effective through the workflow (effective_from must be today or earlier)."""
    submit(version, actor=author, approvers=[approver], reviewers=reviewers)
    for reviewer in reviewers:
        services.version_transition(version, "review", actor=reviewer, reason="Looks right.")
    approve(version, approver)
    return services.version_transition(version, "make_effective", actor=author)


@pytest.fixture
def effective_document(make_document, staff, manager):
    document = make_document()
    release(document.versions.get(), author=staff, approver=manager)
    document.refresh_from_db()
    return document


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)
