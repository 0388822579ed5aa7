"""Hostile and valid uploads (docs/architecture.md rule 5): the type is read from the content, the
size is capped, the name is cleaned, and whatever is served back is an attachment."""

import pytest
from django.urls import reverse

from documents import services
from documents.models import DocumentVersion
from qms.errors import ValidationFailed
from tests.documents.conftest import PDF_BYTES, PNG_BYTES, docx_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_document):
    return make_document().versions.get()


def edit_url(version):
    return reverse("documents:version-edit", args=[version.document_id, version.pk])


def post_file(client, version, file):
    return client.post(edit_url(version), {
        "change_summary": "", "content_text": version.content_text, "effective_from": version.effective_from.isoformat(),
        "version": version.version, "reason": "New file.", "file": file,
    })


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("procedure.pdf", PNG_BYTES, "named .pdf but its content is a PNG"),
        ("procedure.docx", PDF_BYTES, "named .docx but its content is a PDF"),
        ("procedure.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "named .pdf but its content is a"),
        ("procedure.pdf", b"just some words", "named .pdf but its content is not a recognised file"),
        ("procedure.txt", PDF_BYTES, "named .txt but its content is a PDF"),
        ("procedure.txt", b"\xff\xfe\x00b\x00a\x00d", "not text"),
        ("procedure.md", b"# Title\n<script>alert(1)</script>\n", "HTML or script"),
        ("page.txt", b"<!DOCTYPE html><html><body onload=alert(1)>", "HTML or script"),
        ("run.exe", b"MZ\x90\x00", "Upload a PDF"),
        ("procedure.txt", b"", "empty"),
        ("procedure.txt", b"   \n\n  ", "empty"),
    ],
)
def test_hostile_upload_is_refused_on_the_form_and_nothing_changes(client_for, staff, draft, name, data, message):
    response = post_file(client_for(staff), draft, upload(name, data, "application/pdf"))
    assert response.status_code == 200
    assert message in response.content.decode()
    fresh = DocumentVersion.objects.get(pk=draft.pk)
    assert (fresh.file.name, fresh.version) == ("", draft.version)


def test_oversized_upload_is_refused(client_for, staff, draft, settings):
    settings.QMS_UPLOAD_MAX_BYTES = 1024
    response = post_file(client_for(staff), draft, upload("big.txt", b"a" * 2048, "text/plain"))
    assert "the limit is" in response.content.decode()
    assert not DocumentVersion.objects.get(pk=draft.pk).file


def test_oversized_upload_through_the_api_is_400(api_for, staff, draft, settings):
    settings.QMS_UPLOAD_MAX_BYTES = 1024
    url = reverse("api-document-version-detail", args=[draft.document_id, draft.pk])
    response = api_for(staff).patch(url, {"version": draft.version, "reason": "Scan attached", "upload": upload("big.pdf", PDF_BYTES + b"0" * 2048)}, format="multipart")
    assert response.status_code == 400
    assert "limit" in response.json()["file"][0]
    assert not DocumentVersion.objects.get(pk=draft.pk).file


def test_path_traversal_in_the_name_is_cleaned_and_storage_name_is_random(staff, draft):
    services.version_update(draft, actor=staff, reason="Edited.", expected_version=draft.version,
                            upload=upload("../../../etc/cron.d/evil procedure.txt", b"1. Purpose\nSafe text.\n"))
    fresh = DocumentVersion.objects.get(pk=draft.pk)
    assert fresh.file_name == "evil_procedure.txt"
    assert ".." not in fresh.file.name and fresh.file.name.startswith("documents/")
    assert fresh.file.name.rsplit("/", 1)[1] != "evil_procedure.txt"
    assert fresh.file_kind == "txt"


@pytest.mark.parametrize(("name", "data", "kind", "content_type"), [
    ("procedure.pdf", PDF_BYTES, "pdf", "application/pdf"),
    ("form.docx", docx_bytes(), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("notes.md", b"# Cleaning\n\n1. Wipe the bench.\n", "md", "text/markdown"),
])
def test_valid_file_is_stored_and_downloaded_as_a_stamped_attachment(client_for, staff, draft, name, data, kind, content_type):
    response = post_file(client_for(staff), draft, upload(name, data))
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = DocumentVersion.objects.get(pk=draft.pk)
    assert (fresh.file_kind, fresh.file_size) == (kind, len(data))
    download = client_for(staff).get(reverse("documents:version-download", args=[fresh.document_id, fresh.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"SOP-001_rev1_controlled-copy_draft_incoming-inspection.{kind}" in disposition
    assert b"".join(download.streaming_content) == data


def test_script_written_in_the_browser_is_escaped_on_the_page_and_downloaded_never_inline(client_for, staff, draft):
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    services.version_update(draft, actor=staff, reason="Edited.", expected_version=draft.version, content_text=hostile)
    client = client_for(staff)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    download = client.get(reverse("documents:version-download", args=[draft.document_id, draft.pk]) + "?part=text")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    body = download.content.decode()
    assert body.startswith("DRAFT - not for use: SOP-001 revision 1")
    assert "Uncontrolled when printed" in body and hostile in body


def test_service_refuses_a_wrong_type_with_a_field_message(staff, draft):
    with pytest.raises(ValidationFailed) as refused:
        services.version_update(draft, actor=staff, reason="Edited.", expected_version=draft.version, upload=upload("x.xlsx", docx_bytes()))
    assert refused.value.field_errors["file"] == ["The file is named .xlsx but its content is a DOCX file."]


def test_fake_extension_through_the_api_is_400_and_nothing_is_created(api_for, staff, effective_document):
    url = reverse("api-document-version-list", args=[effective_document.pk])
    response = api_for(staff).post(url, {"change_summary": "x", "upload": upload("sop.pdf", PNG_BYTES, "application/pdf")},
                                   format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is named .pdf but its content is a PNG file."]}
    assert effective_document.versions.count() == 1
