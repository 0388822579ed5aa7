"""Revisions of a document: start one as a draft, edit the draft, and every workflow step of it
(review, approval with its signatures, release)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction

from documents.models import Document, DocumentVersion, SignoffKind, VersionStatus
from documents.services.common import _require_quality
from documents.services.content import _attach_upload, _clear_file, _validate_text
from documents.workflow import VERSION_WORKFLOW
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.reasons import person_reason
from qms.signatures import signatures_for, verify_signer_password
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

VERSION_FIELDS = ("change_summary", "content_text", "effective_from")


def revision_label(index: int) -> str:
    """1, 2, 3 ... or A, B, ... Z, AA, AB ... (settings.QMS_DOCUMENT_REVISION_SCHEME)."""
    if getattr(settings, "QMS_DOCUMENT_REVISION_SCHEME", "numeric") != "alpha":
        return str(index)
    label = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


@transaction.atomic
def version_create(
    *,
    document: Document,
    actor,
    content_text: str | None = None,
    upload=None,
    effective_from: datetime.date | None = None,
    change_summary: str = "",
    copy_effective: bool = True,
    reason: str = "",
) -> DocumentVersion:
    """Start the next revision as a draft. With copy_effective the text (and file) of the
    effective version are the starting point. At most one revision is in progress
    (constraint documents_one_open_version): a second one is refused with a clear message."""
    _require_quality(actor)
    document = Document.objects.select_for_update().get(pk=document.pk)
    open_version = document.versions.filter(status__in=["draft", "in_review", "approved"]).first()
    if open_version is not None:
        raise IllegalTransition(f"Revision {open_version.revision} is still {open_version.get_status_display().lower()}; finish or reject it first.")
    if document.versions.filter(status=VersionStatus.OBSOLETE).exists() and document.effective_version_id is None:
        raise IllegalTransition(f"{document.number} is obsolete; create a new document instead.")
    last_index = document.versions.order_by("-revision_index").values_list("revision_index", flat=True).first() or 0
    index = last_index + 1
    source = document.effective_version if copy_effective else None
    version = DocumentVersion(
        document=document,
        revision_index=index,
        revision=revision_label(index),
        change_summary=(change_summary or "").strip(),
        content_text=content_text if content_text is not None else (source.content_text if source else ""),
        effective_from=effective_from,
        author=actor,
    )
    _validate_text(version.content_text)
    if upload is not None:
        _attach_upload(version, upload)
    elif source is not None and source.file:
        version.file, version.file_name, version.file_kind = source.file.name, source.file_name, source.file_kind
        version.file_size, version.file_sha256 = source.file_size, source.file_sha256
    set_history(version, user=actor, reason=reason or f"Revision {version.revision} started", action="create")
    version.save()
    return version


@transaction.atomic
def version_update(
    version: DocumentVersion,
    *,
    actor,
    reason: str,
    expected_version,
    upload=None,
    remove_file: bool = False,
    **changes,
) -> DocumentVersion:
    """Edit a draft. Anything past draft is refused: a released version never changes
    (ISO 9001 7.5.3.2; a change means a new revision), and an approved one would no longer be
    what its approvers signed."""
    _require_quality(actor)
    locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.DRAFT:
        raise IllegalTransition(
            f"{locked} is {locked.get_status_display().lower()} and cannot be edited; "
            + ("start a new revision to change it." if locked.is_released else "reject it back to draft first.")
        )
    check_version(locked, expected_version)
    reason = person_reason(reason, ask="Say what you change in the draft and why.")
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed.")
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, changes[name])
    _validate_text(locked.content_text)
    if upload is not None:
        changed += _attach_upload(locked, upload)
    elif remove_file and locked.file:
        changed += _clear_file(locked)
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked


def version_transition(
    version: DocumentVersion,
    action: str,
    *,
    actor,
    reason: str = "",
    password: str | None = None,
    meaning: str | None = None,
    data: dict | None = None,
) -> DocumentVersion:
    """The one entry point for version workflow steps (pages, API, tasks)."""
    if action in {"sign_approval", "supersede"}:
        raise IllegalTransition(f"'{action}' is taken by the system, not requested.")
    if action != "approve":
        return transition(VERSION_WORKFLOW, version, action, actor=actor, reason=reason, password=password,
                          meaning=meaning, data=data)
    # Approval: decided under the row lock, so concurrent approvers queue and exactly the
    # last signature moves the version to approved. The password is checked first, outside
    # the transaction, so that a failed attempt stays recorded (qms.signatures).
    if not qms_roles.may_act(actor, *qms_roles.QUALITY):
        raise NotAllowed("Your role may not approve this record.")
    verify_signer_password(actor, password)
    with transaction.atomic():
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        others_pending = (
            locked.signoffs.filter(round=locked.review_round, kind=SignoffKind.APPROVAL, completed_at__isnull=True)
            .exclude(user=actor)
            .exists()
        )
        step = "sign_approval" if others_pending else "approve"
        transition(VERSION_WORKFLOW, locked, step, actor=actor, reason=reason, password=password, meaning=meaning, data=data)
        signoff = locked.signoffs.get(round=locked.review_round, kind=SignoffKind.APPROVAL, user=actor)
        signoff.signature = signatures_for(locked).filter(signer=actor).order_by("-id").first()
        signoff.save(update_fields=["signature"])
    version.refresh_from_db()
    return version
