"""Hostile uploads (issue 20 item 4): active content is refused whatever its name, Office files
are read for their real size and entry count before they are accepted (zip bombs), stored names
are random with the client's name kept as data, and every download of an uploaded file is an
attachment with nosniff and a sandboxing CSP. ClamAV, when configured, refuses EICAR."""

import io
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints import services as complaint_services
from complaints.models import Attachment
from qms.errors import ValidationFailed
from qms.uploads import check_archive, refuse_dangerous_content

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

ACTIVE = {
    "html as .txt": ("notes.txt", b"<!DOCTYPE html><p>hello</p>"),
    "script as .txt": ("notes.txt", b"Dear team,\n<script>fetch('/api/v1/users/me/')</script>"),
    "svg as .txt": (
        "notes.txt",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "svg without script as .csv": (
        "data.csv",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ),
    "xml style sheet as .txt": (
        "notes.txt",
        b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="#x"?><r/>',
    ),
    "javascript link as .csv": ("data.csv", b"name,link\nx,javascript:alert(1)\n"),
    "iframe as .csv": ("data.csv", b"a,b\n<iframe src=//evil>,2\n"),
    "utf-7 html as .txt": ("notes.txt", b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-"),
    "html page as .eml": ("letter.eml", b"<html><body>Not an e-mail</body></html>"),
    "script in an .eml": (
        "letter.eml",
        b"From: a@example.org\nSubject: hi\n\n<script>alert(1)</script>",
    ),
    "pdf/html polyglot": ("report.pdf", PDF + b"<html><script>alert(1)</script></html>"),
    "pdf with javascript": (
        "report.pdf",
        b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF",
    ),
    "pdf with launch": (
        "report.pdf",
        b"%PDF-1.4\n1 0 obj << /OpenAction << /S /Launch /F (cmd.exe) >> >>\n%%EOF",
    ),
    "png/html polyglot": ("photo.png", PNG + b"<html><body><script>alert(1)</script>"),
    "png/svg polyglot": ("photo.png", PNG + b"<svg onload=alert(1)>"),
}


def office(entries: dict[str, bytes] | None = None, *, main="word/document.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main, "<w:document/>")
        for name, data in (entries or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb_200mb() -> bytes:
    """A .docx whose document part expands to 200 MB of zeros (about 200 KB on the wire)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(200):
                member.write(block)
    return buffer.getvalue()


def attach(complaint, actor, name, data):
    return complaint_services.attachment_add(
        complaint=complaint, actor=actor, uploaded_file=ContentFile(data, name=name)
    )


@pytest.mark.parametrize(("name", "data"), ACTIVE.values(), ids=ACTIVE.keys())
def test_active_content_is_refused_whatever_its_name(api_for, staff, complaint, name, data):
    response = api_for(staff).post(
        f"/api/v1/complaints/{complaint.pk}/attachments/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["file"]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [v for k, v in ACTIVE.items() if "eml" not in k],
    ids=[k for k in ACTIVE if "eml" not in k],
)
def test_capa_evidence_refuses_active_content(name, data):
    from capa.services import _clean_upload

    with pytest.raises(ValidationFailed):
        _clean_upload(SimpleUploadedFile(name, data))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("sop.txt", b"<html><script>alert(1)</script>"),
        ("sop.pdf", PDF + b"<script>alert(1)</script>"),
        ("sop.pdf", b"%PDF-1.7\n<< /JS (x) >>"),
        ("sop.docx", office({"word/vbaProject.bin": b"VBA"})),
    ],
)
def test_document_uploads_refuse_active_content(name, data):
    from documents.uploads import check_upload

    with pytest.raises(ValidationFailed):
        check_upload(SimpleUploadedFile(name, data))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", b"Customer called at 10:05; the pump alarm < 60 dB, a<b and x>y."),
        ("photo.png", PNG),
        ("report.pdf", PDF),
        (
            "letter.eml",
            b"From: a@example.org\nContent-Type: text/html\n\n<html><p>Hello</p></html>",
        ),
        ("minutes.docx", office()),
        ("data.xlsx", office(main="xl/workbook.xml")),
    ],
)
def test_ordinary_files_are_still_accepted(staff, complaint, name, data):
    attachment = attach(complaint, staff, name, data)
    assert attachment.size == len(data)


def test_a_200mb_zip_bomb_named_docx_is_refused(staff, complaint, zip_bomb_200mb):
    assert len(zip_bomb_200mb) < 1024 * 1024
    with pytest.raises(ValidationFailed) as refused:
        attach(complaint, staff, "minutes.docx", zip_bomb_200mb)
    assert "expand to more than 100 MB" in refused.value.field_errors["file"][0]
    assert not Attachment.objects.exists()


def test_an_archive_beyond_the_configured_limit_is_refused(settings):
    settings.QMS_UPLOAD_ARCHIVE_MAX_BYTES = 1024 * 1024
    data = office({"word/media/blob.xml": b"\x00" * (2 * 1024 * 1024)})
    with pytest.raises(ValidationFailed):
        check_archive(data, extension="docx")


def test_declared_sizes_that_lie_do_not_let_a_bomb_through(settings):
    """The central directory says 10 bytes; reading finds (and the CRC check refuses) more."""
    settings.QMS_UPLOAD_ARCHIVE_MAX_BYTES = 1024 * 1024
    data = bytearray(office({"word/media/blob.xml": b"\x00" * (4 * 1024 * 1024)}))
    directory = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/media/blob.xml"))
    data[directory + 24 : directory + 28] = (10).to_bytes(
        4, "little"
    )  # uncompressed size in the directory
    local = data.find(b"PK\x03\x04", 0, data.find(b"word/media/blob.xml"))
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    with pytest.raises(ValidationFailed):
        check_archive(bytes(data), extension="docx")


def test_an_archive_with_too_many_entries_is_refused(settings):
    settings.QMS_UPLOAD_ARCHIVE_MAX_ENTRIES = 50
    with pytest.raises(ValidationFailed) as refused:
        check_archive(office({f"word/part{n}.xml": b"<x/>" for n in range(60)}), extension="docx")
    assert "at most 50" in refused.value.field_errors["file"][0]


@pytest.mark.parametrize(
    "data",
    [
        office({"word/vbaProject.bin": b"VBA"}),
        office({"word/activeX/activeX1.xml": b"<ax/>"}),
        b"PK\x03\x04" + b"\x00" * 100,
        office()[:-30],
    ],
    ids=["macros", "activex", "not a zip", "truncated"],
)
def test_office_files_with_macros_or_broken_archives_are_refused(staff, complaint, data):
    with pytest.raises(ValidationFailed):
        attach(complaint, staff, "minutes.docx", data)


def test_a_zip_without_office_parts_named_docx_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/x.xml", "x")
    with pytest.raises(ValidationFailed):
        refuse_dangerous_content(buffer.getvalue(), extension="docx")


@pytest.mark.parametrize(
    ("raw", "download"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ('a"b\r\nSet-Cookie: x=1.txt', "abSet-Cookie_x1.txt"),
        (".htaccess.txt", "htaccess.txt"),
        ("Prüfbericht ü.txt", "Prufbericht_u.txt"),
    ],
)
def test_stored_names_are_random_and_the_original_name_is_kept_as_data(
    client_for, staff, complaint, raw, download
):
    attachment = attach(complaint, staff, raw, b"plain words")
    assert attachment.original_name == raw
    assert re.fullmatch(r"complaints/\d{4}/\d{2}/[0-9a-f]{32}\.txt", attachment.file.name)
    response = client_for(staff).get(f"/complaints/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{download}"'
    assert (
        "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]
    )


def assert_protected(response):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_complaint_attachment_downloads_are_protected(client_for, staff, complaint):
    attachment = attach(complaint, staff, "notes.txt", b"plain words")
    assert_protected(client_for(staff).get(f"/complaints/attachments/{attachment.pk}/"))


def test_capa_evidence_downloads_are_protected(client_for, staff, manager):
    from capa.models import ActionEvidence
    from capa.services import action_add_evidence, action_create
    from tests.capa.conftest import advance, make_capa, today

    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=manager)
    action = action_create(
        capa,
        actor=staff,
        action_type="fix",
        description="Replace the seal supplier",
        owner=staff,
        due_date=today(),
    )
    evidence = action_add_evidence(
        action, actor=staff, upload=SimpleUploadedFile('Prüf "proof".txt', b"done")
    )
    assert evidence.original_name == 'Prüf "proof".txt'
    assert re.fullmatch(r"[0-9a-f]{32}\.txt", ActionEvidence.objects.get().stored_name)
    response = client_for(staff).get(evidence.get_absolute_url())
    assert_protected(response)
    assert response["Content-Disposition"] == 'attachment; filename="Pruf_proof.txt"'


def test_document_downloads_are_protected(client_for, staff):
    from django.urls import reverse
    from django.utils import timezone

    from documents import services as document_services

    document = document_services.document_create(
        actor=staff,
        title="Incoming inspection",
        doc_type="sop",
        owner=staff,
        content_text="1. Purpose",
        effective_from=timezone.localdate(),
    )
    version = document.versions.get()
    response = client_for(staff).get(
        reverse("documents:version-download", args=[document.pk, version.pk])
    )
    assert_protected(response)


def test_protect_download_refuses_an_inline_response():
    from django.http import HttpResponse

    from qms.uploads import protect_download

    with pytest.raises(ValueError):
        protect_download(HttpResponse("x"))


# --- ClamAV --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    """A ClamAV daemon of the test's own, on a Unix socket, with a one-line signature database
    that knows EICAR (the official databases are downloaded by freshclam, which CI cannot)."""
    binary = shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )
    if binary is None:
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "eicar.hdb").write_text(
        "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n"
    )
    socket_path = root / "clamd.sock"
    (root / "clamd.conf").write_text(
        f"Foreground yes\nLocalSocket {socket_path}\nDatabaseDirectory {root / 'db'}\nTemporaryDirectory {root}\n"
        f"LogFile {root / 'clamd.log'}\n"
    )
    proc = subprocess.Popen(
        [binary, f"--config-file={root / 'clamd.conf'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not socket_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("clamd did not start: " + (root / "clamd.log").read_text(errors="replace"))
        time.sleep(0.2)
    yield str(socket_path)
    proc.terminate()
    proc.wait(timeout=20)


def test_clamav_refuses_eicar_and_passes_clean_files(settings, staff, complaint, clamd):
    settings.CLAMD_SOCKET = clamd
    with pytest.raises(ValidationFailed) as refused:
        attach(complaint, staff, "notes.txt", EICAR)
    assert "Eicar-Test-Signature" in refused.value.field_errors["file"][0]
    assert attach(complaint, staff, "notes.txt", b"plain words").pk


def test_eicar_through_the_api_answers_400_with_clamav(settings, api_for, staff, complaint, clamd):
    settings.CLAMD_SOCKET = clamd
    response = api_for(staff).post(
        f"/api/v1/complaints/{complaint.pk}/attachments/",
        {"file": SimpleUploadedFile("eicar.txt", EICAR)},
        format="multipart",
    )
    assert response.status_code == 400 and "virus scanner" in response.json()["file"][0]


def test_a_configured_scanner_that_does_not_answer_refuses_uploads(
    settings, staff, complaint, tmp_path
):
    settings.CLAMD_SOCKET = str(tmp_path / "no-such.sock")
    with pytest.raises(ValidationFailed) as refused:
        attach(complaint, staff, "notes.txt", b"plain words")
    assert "could not be scanned" in refused.value.field_errors["file"][0]
    assert not Attachment.objects.exists()


def test_without_clamav_eicar_is_a_plain_text_file(staff, complaint):
    # No scanner configured (the default): nothing pretends to scan.
    assert attach(complaint, staff, "notes.txt", EICAR).pk
