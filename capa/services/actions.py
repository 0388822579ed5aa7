"""Corrective and preventive actions: plan, update, progress (document revised, role trained),
evidence files."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from capa.models import (
    ActionEvidence,
    ActionType,
    Capa,
    CapaAction,
)
from capa.services.common import EVIDENCE_TYPES, _quality_user, _require_writer, _text
from capa.workflow import (
    ACTION_WORKFLOW,
    PLANNING_STATES,
)
from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.uploads import refuse_dangerous_content
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

# --- actions ---------------------------------------------------------------------------------


@dataclass
class Progress:
    is_done: bool
    message: str
    baseline: str = ""
    current: str = ""


def effective_revision_of(document) -> tuple[int, str]:
    """(revision_index, revision label) of the document's effective version; (0, "") if none."""
    version = document.effective_version
    return (version.revision_index, str(version.revision)) if version else (0, "")


def action_progress(action: CapaAction) -> Progress | None:
    """Whether the system can see that the action is done, for the two types it can check:
    - "revise a controlled document": a newer revision than the one effective at planning
      time is effective;
    - "retrain a role" on a document: every active member of the role has completed (or been
      waived from) training on the effective revision or a later one.
    None for the other types (and a retraining without a document): evidence decides."""
    if action.action_type == ActionType.DOCUMENT_REVISION:
        return _document_progress(action)
    if action.action_type == ActionType.RETRAINING and action.document_id and action.role_id:
        return _training_progress(action)
    return None


def _document_progress(action: CapaAction) -> Progress:
    if action.document_id is None:
        return Progress(False, "Name the controlled document to revise.")
    current_index, current = effective_revision_of(action.document)
    baseline = action.baseline_revision
    if current_index > action.baseline_revision_index:
        return Progress(True, f"Revision {current} is effective (was {baseline or 'none'}).", baseline, current)
    return Progress(
        False,
        f"{action.document} has no newer effective revision yet (still {current or 'none'}); the action is done once the revision is effective.",
        baseline,
        current,
    )


def _training_progress(action: CapaAction) -> Progress:
    from training.models import DONE_STATUSES, TrainingAssignment

    version = action.document.effective_version
    if version is None:
        return Progress(False, f"{action.document} has no effective revision to train on.")
    people = get_user_model().objects.filter(groups=action.role_id, is_active=True)
    total = people.count()
    if total == 0:
        return Progress(True, f"Nobody holds the role {action.role.name}.", current=str(version.revision))
    trained = (
        TrainingAssignment.objects.filter(
            document=action.document,
            document_version__revision_index__gte=version.revision_index,
            status__in=DONE_STATUSES,
            user__in=people,
        )
        .values("user")
        .distinct()
        .count()
    )
    message = f"{trained} of {total} in {action.role.name} trained on revision {version.revision} of {action.document.number}."
    return Progress(trained == total, message if trained == total else message + " The action is done once all are.", current=str(version.revision))


def _validate_action_fields(capa, *, action_type, description, owner, due_date, document, role):
    if action_type not in ActionType.values:
        raise ValidationFailed.on("action_type", f"Choose one of {', '.join(ActionType.values)}.")
    description = _text(description, "description", required=True)
    _quality_user(owner, "owner")
    if due_date is None:
        raise ValidationFailed.on("due_date", "Set a due date.")
    if action_type == ActionType.DOCUMENT_REVISION and document is None:
        raise ValidationFailed.on("document", "Name the controlled document to revise.")
    if action_type == ActionType.RETRAINING and role is None:
        raise ValidationFailed.on("role", "Name the role to retrain.")
    return description


@transaction.atomic
def action_create(
    capa: Capa, *, actor, action_type: str, description: str, owner, due_date: date, document=None, role=None
) -> CapaAction:
    _require_writer(actor)
    locked = Capa.objects.select_for_update().get(pk=capa.pk)
    if locked.status not in PLANNING_STATES:
        raise IllegalTransition(
            f"Actions are planned during investigation, action planning or implementation; {locked} is {locked.get_status_display().lower()}."
        )
    description = _validate_action_fields(
        locked, action_type=action_type, description=description, owner=owner, due_date=due_date, document=document, role=role
    )
    if due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "The due date cannot be in the past.")
    number = (locked.actions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    action = CapaAction(
        capa=locked,
        number=number,
        action_type=action_type,
        description=description,
        owner=owner,
        due_date=due_date,
        document=document if action_type in (ActionType.DOCUMENT_REVISION, ActionType.RETRAINING) else None,
        baseline_revision_index=effective_revision_of(document)[0] if document is not None else 0,
        baseline_revision=effective_revision_of(document)[1] if document is not None else "",
        role=role if action_type == ActionType.RETRAINING else None,
        created_by=actor,
    )
    set_history(action, user=actor, reason="Action planned", action="create")
    action.save()
    if owner.pk != actor.pk:
        notify([owner], subject=f"New CAPA action for you: {action}", body=description[:500], url=action.get_absolute_url())
    return action


@transaction.atomic
def action_update(action: CapaAction, *, actor, reason: str, version, **changes) -> CapaAction:
    _require_writer(actor)
    reason = _text(reason, "reason", required=True, max_length=4000)
    locked = CapaAction.objects.select_for_update().select_related("capa").get(pk=action.pk)
    check_version(locked, version)
    if not locked.is_open or locked.capa.status not in PLANNING_STATES:
        raise IllegalTransition(f"{locked} can no longer be edited.")
    allowed = {"description", "owner", "due_date"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    values = {"description": locked.description, "owner": locked.owner, "due_date": locked.due_date, **changes}
    values["description"] = _validate_action_fields(
        locked.capa,
        action_type=locked.action_type,
        document=locked.document,
        role=locked.role,
        **values,
    )
    changed = [name for name in allowed if getattr(locked, name) != values[name]]
    for name in changed:
        setattr(locked, name, values[name])
    if "due_date" in changed and locked.due_date >= timezone.localdate():
        locked.escalation_level = 0  # a new deadline starts a new escalation ladder
        changed.append("escalation_level")
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked


def action_transition(action: CapaAction, name: str, *, actor, reason: str = "", password=None, meaning=None, data=None) -> CapaAction:
    return transition(ACTION_WORKFLOW, action, name, actor=actor, reason=reason, password=password, meaning=meaning, data=data)


def _clean_upload(upload) -> tuple[bytes, str, str]:
    if upload is None:
        raise ValidationFailed.on("file", "Choose a file.")
    limit = settings.QMS_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed.on("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed.on("file", f"The file is larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise ValidationFailed.on("file", "The file is empty.")
    # The name as the client gave it is kept as data; the stored name is random and the
    # download name is cleaned (qms.uploads.clean_file_name).
    name = (upload.name or "").strip()[:200] or "evidence"
    kind = filetype.guess(data)
    if kind is not None:
        mime = kind.mime
    else:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            mime = ""
        else:
            mime = "text/csv" if name.lower().endswith(".csv") else "text/plain"
    if mime not in EVIDENCE_TYPES:
        raise ValidationFailed.on("file", "Upload a PDF, PNG, JPEG, Word, Excel, text or CSV file.")
    refuse_dangerous_content(data, extension=EVIDENCE_TYPES[mime].lstrip("."))
    return data, name, mime


@transaction.atomic
def action_add_evidence(action: CapaAction, *, actor, upload) -> ActionEvidence:
    _require_writer(actor)
    locked = CapaAction.objects.select_for_update().select_related("capa").get(pk=action.pk)
    if not locked.is_open or not locked.capa.is_open:
        raise IllegalTransition(f"{locked} is {locked.get_status_display().lower()}; evidence is added before it is done.")
    data, name, mime = _clean_upload(upload)
    stored_name = f"{uuid.uuid4().hex}{EVIDENCE_TYPES[mime]}"
    evidence = ActionEvidence(
        action=locked,
        stored_name=stored_name,
        original_name=name,
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    evidence.file.save(stored_name, ContentFile(data), save=False)
    set_history(evidence, user=actor, reason=f"Evidence for {locked}", action="upload")
    evidence.save()
    return evidence
