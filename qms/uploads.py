"""Checks every upload passes whatever the app (issue 20 item 4; docs/architecture.md rule 5), and
the headers of every download of an uploaded file.

Each app first checks that the name's extension is one it accepts and that the bytes are of
that type (complaints.services.sniff_upload, documents.uploads.check_upload,
capa.services._clean_upload); then `refuse_dangerous_content` refuses what a browser or an
office program would run, whatever the name:

- markup a browser renders or runs (HTML, SVG, XML style sheets, script, `javascript:` links),
  anywhere in a text file and in the bytes of an image or a PDF (polyglots);
- PDF actions that run code (/JavaScript, /JS, /Launch);
- Office files (docx, xlsx) that are not a well-formed archive, hold macros (vbaProject.bin), or
  would expand beyond QMS_UPLOAD_ARCHIVE_MAX_BYTES or QMS_UPLOAD_ARCHIVE_MAX_ENTRIES: a zip bomb
  is caught by reading, not by trusting the sizes the archive declares;
- and, when CLAMD_SOCKET is set, whatever ClamAV finds (docs/decisions/0028).

Stored files get random names; the name the client sent is kept as data and cleaned only for
the download's Content-Disposition (`download_name`).
"""

import io
import os
import re
import socket
import struct
import unicodedata
import zipfile

from django.conf import settings
from django.utils.text import get_valid_filename

from qms.errors import ValidationFailed

TEXT_EXTENSIONS = frozenset({"txt", "csv", "md", "text", "markdown", "eml"})
ARCHIVE_EXTENSIONS = frozenset({"docx", "xlsx"})
PDF_EXTENSIONS = frozenset({"pdf"})

# Markup that makes a browser render a page or run script, as bytes (case-insensitive).
# In text files the list is wide; in binary files (images, PDF) only the tags that make a
# polyglot, so that compressed data does not trip it by chance.
_TEXT_ACTIVE = re.compile(
    rb"<\s*/?\s*(script|html|head|body|iframe|frame|frameset|object|embed|applet|svg|math|meta|link|form|base|style|img|"
    rb"image|foreignobject|xsl:stylesheet)\b|<!doctype\s+html|<\?xml-stylesheet|(java|vb)script\s*:|\+ADw-",
    re.IGNORECASE,
)
_BINARY_ACTIVE = re.compile(
    rb"<\s*(script|html|body|iframe|svg|object|embed)\b|<!doctype\s+html|<\?xml-stylesheet",
    re.IGNORECASE,
)
# An e-mail (.eml) may carry an HTML part for a mail program; what it may not carry is script.
_EML_ACTIVE = re.compile(
    rb"<\s*(script|iframe|object|embed|applet)\b|(java|vb)script\s*:", re.IGNORECASE
)
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch)\b")
_MACRO_PARTS = re.compile(
    r"(^|/)vbaProject\.bin$|(^|/)activeX/|\.(bin|exe|dll|js|vbs|wsf|hta)$", re.IGNORECASE
)


def refuse_dangerous_content(data: bytes, *, extension: str, field: str = "file") -> None:
    """ValidationFailed when the bytes of an upload named `.extension` are active content, an
    archive beyond the limits, or found by the virus scanner; returns None when they pass."""
    extension = extension.lower()
    if extension in TEXT_EXTENSIONS:
        pattern = _EML_ACTIVE if extension == "eml" else _TEXT_ACTIVE
        if pattern.search(data):
            raise ValidationFailed.on(
                field, "The file contains HTML, SVG or script, which is not accepted."
            )
        if extension == "eml" and data.lstrip()[:1] == b"<":
            raise ValidationFailed.on(
                field, "The file is named .eml but holds a web page, not an e-mail."
            )
    elif extension in ARCHIVE_EXTENSIONS:
        check_archive(data, extension=extension, field=field)
    else:
        if _BINARY_ACTIVE.search(data):
            raise ValidationFailed.on(
                field,
                "The file also holds HTML, SVG or script (a polyglot), which is not accepted.",
            )
        if extension in PDF_EXTENSIONS and _PDF_ACTIVE.search(data):
            raise ValidationFailed.on(
                field, "The PDF contains JavaScript or launch actions, which are not accepted."
            )
    scan_for_viruses(data, field=field)


def check_archive(data: bytes, *, extension: str, field: str = "file") -> None:
    """An Office file is a zip: refuse it unless its entries are few enough and expand to no more
    than the limit when actually read (declared sizes can lie), and it holds no macros."""
    max_entries = settings.QMS_UPLOAD_ARCHIVE_MAX_ENTRIES
    max_bytes = settings.QMS_UPLOAD_ARCHIVE_MAX_BYTES
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise ValidationFailed.on(
            field, f"The file is named .{extension} but is not a readable Office file."
        ) from None
    if len(entries) > max_entries:
        raise ValidationFailed.on(
            field, f"The archive holds {len(entries)} entries; at most {max_entries} are accepted."
        )
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        raise ValidationFailed.on(
            field, f"The file is named .{extension} but is not an Office document."
        )
    if any(_MACRO_PARTS.search(name) for name in names):
        raise ValidationFailed.on(
            field, "The file contains macros or embedded programs, which are not accepted."
        )
    too_big = f"The archive would expand to more than {max_bytes // (1024 * 1024)} MB; it is not accepted."
    if sum(entry.file_size for entry in entries) > max_bytes:
        raise ValidationFailed.on(field, too_big)
    expanded = 0
    try:
        for entry in entries:
            if entry.is_dir():
                continue
            with archive.open(entry) as member:
                while chunk := member.read(1024 * 1024):
                    expanded += len(chunk)
                    if expanded > max_bytes:
                        raise ValidationFailed.on(field, too_big)
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError, RuntimeError):
        # RuntimeError: an encrypted entry; the others: a corrupt or unsupported one.
        raise ValidationFailed.on(
            field, f"The file is named .{extension} but is not a readable Office file."
        ) from None


# --- ClamAV (optional) -----------------------------------------------------------------------


class ScannerUnavailable(Exception):
    pass


def clamd_instream(data: bytes, *, address: str, timeout: float = 30.0) -> str:
    """Send `data` to clamd with the INSTREAM command and return its answer, e.g. "stream: OK"
    or "stream: Eicar-Signature FOUND". `address` is a Unix socket path or tcp://host:port."""
    if address.startswith("tcp://"):
        host, _, port = address[len("tcp://") :].rpartition(":")
        family, target = socket.AF_INET, (host or "127.0.0.1", int(port))
    else:
        family, target = socket.AF_UNIX, address
    try:
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(target)
            conn.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(data), 64 * 1024):
                chunk = view[start : start + 64 * 1024]
                conn.sendall(struct.pack("!L", len(chunk)) + chunk)
            conn.sendall(struct.pack("!L", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                part = conn.recv(4096)
                if not part:
                    break
                answer += part
    except OSError as exc:
        raise ScannerUnavailable(str(exc)) from exc
    return answer.rstrip(b"\0").decode("utf-8", errors="replace").strip()


def scan_for_viruses(data: bytes, *, field: str = "file") -> None:
    address = settings.CLAMD_SOCKET
    if not address:
        return
    try:
        answer = clamd_instream(data, address=address, timeout=settings.CLAMD_TIMEOUT_SECONDS)
    except ScannerUnavailable:
        # Fail closed: a configured scanner that cannot answer must not let files through.
        raise ValidationFailed.on(
            field, "The file could not be scanned for viruses just now; try again later."
        ) from None
    if answer.endswith("FOUND"):
        name = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        raise ValidationFailed.on(field, f"The virus scanner refused the file ({name}).")
    if not answer.endswith("OK"):
        raise ValidationFailed.on(
            field, "The file could not be scanned for viruses just now; try again later."
        )


# --- names and downloads ---------------------------------------------------------------------


def clean_file_name(raw: str, *, default: str = "file") -> str:
    """A safe download name for what the client called the file: the last path component,
    ASCII, no leading dots, at most 100 characters plus a short extension."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = get_valid_filename(name.strip()) if name.strip(" ._") else ""
    name = name.lstrip(".-_")
    stem, ext = os.path.splitext(name)
    return (stem[:100] or default) + ext[:10].lower()


DOWNLOAD_CSP = "default-src 'none'; sandbox"


def protect_download(response):
    """Headers of every download of an uploaded file: never rendered inline, never sniffed into
    something else, and sandboxed should a browser open it anyway."""
    if not str(response.get("Content-Disposition", "")).startswith("attachment"):
        raise ValueError("An uploaded file must be served as an attachment.")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
