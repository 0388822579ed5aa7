"""Attachments (checked by content, decision 0028) and the communication log."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from complaints.models import (
    Attachment,
    Channel,
    Communication,
    Complaint,
)
from complaints.services.common import CLOCK_SKEW, _require_quality
from qms.errors import ValidationFailed
from qms.history import set_history
from qms.uploads import refuse_dangerous_content

# --- Attachments and communication log -----------------------------------------------------

ALLOWED_UPLOADS = {
    # extension: content types accepted for it (sniffed from the bytes, not the client's claim)
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
    "txt": {"text/plain"},
    "csv": {"text/csv"},
    "eml": {"message/rfc822"},
}
TEXT_EXTENSIONS = {"txt": "text/plain", "csv": "text/csv", "eml": "message/rfc822"}


def sniff_upload(uploaded_file) -> tuple[str, str, bytes]:
    """(extension, content type, bytes) of an upload, or ValidationFailed: size and type are
    checked on the bytes, so a renamed executable is refused, and active content (HTML, SVG,
    script, PDF JavaScript, macros, zip bombs) is refused whatever the name (qms.uploads)."""
    import filetype

    name = (uploaded_file.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    limit = settings.QMS_UPLOAD_MAX_BYTES
    if uploaded_file.size is None or uploaded_file.size == 0:
        raise ValidationFailed.on("file", "The file is empty.")
    if uploaded_file.size > limit:
        raise ValidationFailed.on("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_UPLOADS:
        raise ValidationFailed.on(
            "file", f"Files of this type are not accepted; use one of: {', '.join(sorted(ALLOWED_UPLOADS))}."
        )
    uploaded_file.seek(0)
    data = uploaded_file.read(limit + 1)
    uploaded_file.seek(0)
    if len(data) > limit:
        raise ValidationFailed.on("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
    if extension in TEXT_EXTENSIONS:
        if b"\x00" in data:
            raise ValidationFailed.on("file", "The file's content does not match its name.")
        content_type = TEXT_EXTENSIONS[extension]
    else:
        kind = filetype.guess(data[:8192])
        if kind is None or kind.mime not in ALLOWED_UPLOADS[extension]:
            raise ValidationFailed.on("file", "The file's content does not match its name.")
        content_type = kind.mime if kind.mime != "application/zip" else next(iter(sorted(ALLOWED_UPLOADS[extension])))
    refuse_dangerous_content(data, extension=extension)
    return extension, content_type, data


@transaction.atomic
def attachment_add(*, complaint: Complaint, actor, uploaded_file, description: str = "") -> Attachment:
    """The file is stored under a random name; the name the client gave is kept as data
    (`original_name`) and cleaned only for the download (issue 20 item 4)."""
    _require_quality(actor)
    extension, content_type, data = sniff_upload(uploaded_file)
    name = (uploaded_file.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    attachment = Attachment(
        complaint=complaint,
        file=ContentFile(data, name=f"{uuid.uuid4().hex}.{extension}"),
        original_name=(uploaded_file.name or "file")[:255],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        description=(description or "").strip()[:300],
        uploaded_by=actor,
    )
    set_history(attachment, user=actor, reason=f"Attached {name} to {complaint.reference}")
    attachment.save()
    return attachment


@transaction.atomic
def communication_add(
    *, complaint: Complaint, actor, direction: str, channel: str, summary: str, at=None
) -> Communication:
    _require_quality(actor)
    now = timezone.now()
    at = at or now
    if direction not in Communication.Direction.values:
        raise ValidationFailed.on("direction", "Choose inbound or outbound.")
    if channel not in Channel.values:
        raise ValidationFailed.on("channel", f"Choose one of: {', '.join(Channel.values)}.")
    if not (summary or "").strip():
        raise ValidationFailed.on("summary", "Say what was said.")
    if len(summary) > 10000:
        raise ValidationFailed.on("summary", "At most 10000 characters.")
    if at > now + CLOCK_SKEW:
        raise ValidationFailed.on("at", "The time cannot be in the future.")
    entry = Communication(
        complaint=complaint, direction=direction, channel=channel, summary=summary.strip(), author=actor, at=at
    )
    set_history(entry, user=actor, reason=f"Logged a {channel.replace('_', ' ')} communication with the customer")
    entry.save()
    return entry
