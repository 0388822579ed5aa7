"""A version's content: its text (checked) and its uploaded file (documents.uploads)."""

from __future__ import annotations

from documents.models import DocumentVersion
from documents.uploads import check_upload
from qms.errors import ValidationFailed

MAX_TEXT_CHARS = 200_000


def _validate_text(content_text: str) -> None:
    if len(content_text) > MAX_TEXT_CHARS:
        raise ValidationFailed.on("content_text", f"The text is longer than {MAX_TEXT_CHARS:,} characters; upload a file instead.")
    if "\x00" in content_text:
        raise ValidationFailed.on("content_text", "The text contains a NUL character.")


def _attach_upload(version: DocumentVersion, upload) -> list[str]:
    checked = check_upload(upload)
    version.file.save(checked.content.name, checked.content, save=False)
    version.file_name = checked.name
    version.file_kind = checked.kind
    version.file_size = checked.size
    version.file_sha256 = checked.sha256
    return ["file", "file_name", "file_kind", "file_size", "file_sha256"]


def _clear_file(version: DocumentVersion) -> list[str]:
    # The old file stays in storage: history rows still name it (nothing is deleted).
    version.file = ""
    version.file_name = version.file_kind = version.file_sha256 = ""
    version.file_size = None
    return ["file", "file_name", "file_kind", "file_size", "file_sha256"]
