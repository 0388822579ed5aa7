"""Checking an uploaded document file (docs/architecture.md rule 5: uploads are checked for size and
type). The type is read from the content, never trusted from the name or the browser's
Content-Type: binary formats by their signature (the `filetype` package), text and Markdown by
explicit rules (valid UTF-8, no NUL bytes, no active HTML). The extension must agree with the
content. The original name is kept only as a cleaned label; the stored name is random."""

import hashlib
import os
import re
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile

from documents.models import FileKind
from qms.errors import ValidationFailed
from qms.uploads import clean_file_name as shared_clean_file_name
from qms.uploads import refuse_dangerous_content

BINARY_KINDS = {
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
TEXT_KINDS = {"txt": "text/plain", "md": "text/markdown"}
CONTENT_TYPES = {kind: mime for kind, (_ext, mime) in BINARY_KINDS.items()} | TEXT_KINDS
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "xlsx": "xlsx", "txt": "txt", "text": "txt", "md": "md", "markdown": "md"}

# Text that a browser would run or render as a page if it ever were shown inline.
ACTIVE_TEXT = re.compile(rb"<\s*(script|html|body|iframe|object|embed|svg|meta|link|form)\b|<!doctype|javascript:", re.IGNORECASE)


@dataclass
class CheckedFile:
    name: str  # cleaned original name, for display and the download name
    kind: str  # FileKind value
    size: int
    sha256: str
    content: ContentFile  # to save under a random name


def clean_file_name(raw: str) -> str:
    """The last path component, ASCII, no leading dots, at most 120 characters."""
    return shared_clean_file_name(raw, default="document")


def check_upload(uploaded, *, field: str = "file") -> CheckedFile:
    max_bytes = settings.QMS_UPLOAD_MAX_BYTES
    size = getattr(uploaded, "size", None) or 0
    if size > max_bytes:
        raise ValidationFailed.on(field, f"The file is {size / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB.")
    data = uploaded.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationFailed.on(field, f"The file is larger than the limit of {max_bytes / 1048576:.0f} MB.")
    if not data.strip():
        raise ValidationFailed.on(field, "The file is empty.")
    name = clean_file_name(getattr(uploaded, "name", ""))
    ext = EXTENSIONS.get(os.path.splitext(name)[1].lstrip(".").lower())
    if ext is None:
        raise ValidationFailed.on(field, "Upload a PDF, Word (.docx), Excel (.xlsx), text (.txt) or Markdown (.md) file.")
    guessed = filetype.guess(data)
    if ext in BINARY_KINDS:
        if guessed is None or guessed.extension != BINARY_KINDS[ext][0]:
            found = f"a {guessed.extension.upper()} file" if guessed else "not a recognised file"
            raise ValidationFailed.on(field, f"The file is named .{ext} but its content is {found}.")
    else:
        if guessed is not None:
            raise ValidationFailed.on(field, f"The file is named .{ext} but its content is a {guessed.extension.upper()} file.")
        _check_text(data, field)
    refuse_dangerous_content(data, extension=ext, field=field)
    return CheckedFile(
        name=name,
        kind=FileKind(ext).value,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=ContentFile(data, name=f"{uuid.uuid4().hex}.{ext}"),
    )


def _check_text(data: bytes, field: str) -> None:
    if b"\x00" in data:
        raise ValidationFailed.on(field, "The file is not text (it contains binary data).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.on(field, "Text files must be UTF-8 encoded.") from None
    if ACTIVE_TEXT.search(data):
        raise ValidationFailed.on(field, "The text contains HTML or script markup, which is not accepted in a controlled document.")
