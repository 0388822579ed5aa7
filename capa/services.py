"""Every write of the CAPA app (docs/style.md "services"): create, edit, analyse, plan, complete,
verify, transition, and the Celery sweeps' reminders, escalations and automatic reopen.
Keyword-only, atomic, with the history user and reason set explicitly."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from capa.models import (
    DEFAULT_OBSERVATION_DAYS,
    ActionEvidence,
    ActionType,
    Capa,
    CapaAction,
    EffectivenessCheck,
    Escalation,
    FishboneCategory,
    RootCauseAnalysis,
    RootCauseMethod,
    Source,
    risk_level_for,
)
from capa.workflow import (
    ACTION_WORKFLOW,
    ANALYSIS_STATES,
    CAPA_WORKFLOW,
    CHECK_PLANNING_STATES,
    CHECK_WORKFLOW,
    EARLY_VERIFICATION_MEANING,
    OPEN_ACTION_STATES,
    OPEN_STATES,
    PLANNING_STATES,
    CapaStatus,
    CheckResult,
)
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.references import allocate_reference
from qms.services import system_user
from qms.uploads import refuse_dangerous_content
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

MAX_WHYS = 10
MAX_CAUSES_PER_CATEGORY = 12
MAX_TEXT = 10000
MAX_SHORT = 500
# Days past the due date after which an open action is escalated to the Quality Managers.
ACTION_SECOND_LEVEL_DAYS = 7
# Evidence files accepted, detected from the content (never from the name).
EVIDENCE_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/plain": ".txt",
    "text/csv": ".csv",
}


def _require_writer(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers may change CAPAs.")


def _quality_user(user, field: str):
    if user is None:
        raise ValidationFailed.on(field, "Choose a person.")
    if not user.is_active or not qms_roles.has_role(user, *qms_roles.QUALITY) or qms_roles.is_read_only(user):
        raise ValidationFailed.on(field, "Choose an active member of the quality team (Quality Staff or Manager).")
    return user


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.on(field, "Enter text.")
    value = value.strip()
    if required and not value:
        raise ValidationFailed.on(field, "This field is required.")
    if len(value) > max_length:
        raise ValidationFailed.on(field, f"Keep this under {max_length} characters.")
    return value


def _score(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.on(field, "Enter a whole number from 1 to 5.") from None
    if not 1 <= number <= 5:
        raise ValidationFailed.on(field, "Enter a whole number from 1 to 5.")
    return number


def default_check_due_date(implemented_at) -> date:
    return timezone.localdate(implemented_at) + timedelta(days=DEFAULT_OBSERVATION_DAYS)


def quality_managers():
    return qms_roles.users_with_role(qms_roles.MANAGER)


# --- CAPA ------------------------------------------------------------------------------------


@transaction.atomic
def capa_create(
    *,
    actor,
    title: str,
    problem_statement: str,
    owner,
    due_date: date,
    kind: str = "corrective",
    source: str = Source.OTHER,
    severity: int = 3,
    occurrence: int = 3,
    containment_action: str = "",
    containment_by=None,
    containment_at=None,
    complaints=(),
) -> Capa:
    _require_writer(actor)
    severity, occurrence = _score(severity, "severity"), _score(occurrence, "occurrence")
    if due_date is None:
        raise ValidationFailed.on("due_date", "Set a due date.")
    if due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "The due date cannot be in the past.")
    complaints = list(complaints)
    if complaints and source != Source.COMPLAINT:
        raise ValidationFailed.on("source", "A CAPA linked to complaints has the source 'Complaint'.")
    capa = Capa(
        reference=allocate_reference("CAPA", width=4),
        title=_text(title, "title", required=True, max_length=200),
        kind=kind,
        source=source,
        problem_statement=_text(problem_statement, "problem_statement", required=True),
        severity=severity,
        occurrence=occurrence,
        risk_level=risk_level_for(severity, occurrence),
        containment_action=_text(containment_action, "containment_action"),
        containment_by=containment_by,
        containment_at=containment_at,
        owner=_quality_user(owner, "owner"),
        due_date=due_date,
        created_by=actor,
    )
    _check_containment(capa)
    set_history(capa, user=actor, reason="Created", action="create")
    capa.save()
    if complaints:
        capa.complaints.add(*complaints)
    RootCauseAnalysis.objects.create(capa=capa)
    if capa.owner_id != actor.pk:
        notify([capa.owner], subject=f"{capa.reference} is yours: {capa.title}", url=capa.get_absolute_url())
    return capa


def _check_containment(capa) -> None:
    if capa.containment_at and capa.containment_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed.on("containment_at", "Containment cannot be in the future.")
    if (capa.containment_by or capa.containment_at) and not capa.containment_action:
        raise ValidationFailed.on("containment_action", "Say what was done to contain the problem.")


def capa_create_from_complaint(*, complaint, actor, owner=None, due_date: date | None = None, **fields) -> Capa:
    """One click from a complaint: a corrective CAPA with the complaint linked and its facts
    carried over. The caller may override any field (the CAPA form pre-fills with these)."""
    initial = capa_initial_from_complaint(complaint)
    initial.update(fields)
    return capa_create(
        actor=actor,
        owner=owner or actor,
        due_date=due_date or timezone.localdate() + timedelta(days=60),
        complaints=[complaint],
        **initial,
    )


def capa_initial_from_complaint(complaint) -> dict:
    severity = {"low": 2, "medium": 3, "high": 4, "critical": 5}.get(getattr(complaint, "severity", ""), 3)
    product = f" ({complaint.product})" if getattr(complaint, "product_id", None) else ""
    return {
        "title": f"{complaint.title}{product}"[:200],
        "kind": "corrective",
        "source": Source.COMPLAINT,
        "problem_statement": f"Raised from complaint {complaint.reference}.\n\n{complaint.description}".strip()[:MAX_TEXT],
        "severity": severity,
        "occurrence": 3 if getattr(complaint, "is_recurring", False) else 2,
    }


EDITABLE_CAPA_FIELDS = (
    "title",
    "kind",
    "source",
    "problem_statement",
    "severity",
    "occurrence",
    "containment_action",
    "containment_by",
    "containment_at",
    "owner",
    "due_date",
)


@transaction.atomic
def capa_update(capa: Capa, *, actor, reason: str, version, complaints=None, **changes) -> Capa:
    _require_writer(actor)
    reason = _text(reason, "reason", required=True, max_length=4000)
    locked = Capa.objects.select_for_update().get(pk=capa.pk)
    check_version(locked, version)
    if not locked.is_open:
        raise IllegalTransition(f"{locked} is {locked.get_status_display().lower()}; it can no longer be edited.")
    unknown = set(changes) - set(EDITABLE_CAPA_FIELDS)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in changes.items():
        if name in ("title",):
            value = _text(value, name, required=True, max_length=200)
        elif name in ("problem_statement",):
            value = _text(value, name, required=True)
        elif name == "containment_action":
            value = _text(value, name)
        elif name in ("severity", "occurrence"):
            value = _score(value, name)
        elif name == "owner":
            value = _quality_user(value, "owner")
        elif name == "due_date" and value is None:
            raise ValidationFailed.on("due_date", "Set a due date.")
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if {"severity", "occurrence"} & set(changed):
        locked.risk_level = risk_level_for(locked.severity, locked.occurrence)
        changed.append("risk_level")
    _check_containment(locked)
    if complaints is not None and locked.source != Source.COMPLAINT and complaints:
        raise ValidationFailed.on("source", "A CAPA linked to complaints has the source 'Complaint'.")
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    if complaints is not None and {c.pk for c in complaints} != set(locked.complaints.values_list("pk", flat=True)):
        set_history(locked, user=actor, reason=reason, action="link_complaints")
        locked.complaints.set(complaints)
        if not changed:
            save_versioned(locked, actor=actor, reason=reason, fields=[], action="link_complaints")
    return locked


def capa_transition(capa: Capa, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None) -> Capa:
    return transition(CAPA_WORKFLOW, capa, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data)


def notify_reopened(capa: Capa, *, reason: str) -> None:
    """In the reopening transaction (outbox): tell the owner and the Quality Managers."""
    notify(
        [capa.owner, *quality_managers()],
        subject=f"{capa.reference} reopened: the effectiveness check failed",
        body=reason,
        url=capa.get_absolute_url(),
    )


# --- root cause analysis ---------------------------------------------------------------------


def _clean_whys(whys) -> list[dict]:
    if not isinstance(whys, list):
        raise ValidationFailed.on("whys", "Send the 5 Whys as a list of {why, because}.")
    cleaned = []
    for index, item in enumerate(whys, start=1):
        if not isinstance(item, dict):
            raise ValidationFailed.on("whys", f"Why {index}: send an object with 'why' and 'because'.")
        why = _text(item.get("why"), "whys", max_length=MAX_SHORT)
        because = _text(item.get("because"), "whys", max_length=MAX_SHORT)
        if not why and not because:
            continue
        if not why or not because:
            raise ValidationFailed.on("whys", f"Why {index}: give both the question and its answer.")
        cleaned.append({"why": why, "because": because})
    if len(cleaned) > MAX_WHYS:
        raise ValidationFailed.on("whys", f"At most {MAX_WHYS} whys.")
    return cleaned


def _clean_fishbone(fishbone) -> dict:
    if not isinstance(fishbone, dict):
        raise ValidationFailed.on("fishbone", "Send the fishbone as an object of category: [causes].")
    valid = set(FishboneCategory.values)
    unknown = set(fishbone) - valid
    if unknown:
        raise ValidationFailed.on("fishbone", f"Unknown categories: {', '.join(sorted(map(str, unknown)))}; use {', '.join(FishboneCategory.values)}.")
    cleaned = {}
    for category in FishboneCategory.values:
        causes = fishbone.get(category, [])
        if not isinstance(causes, list):
            raise ValidationFailed.on("fishbone", f"{category}: send a list of causes.")
        items = [_text(cause, "fishbone", max_length=200) for cause in causes]
        items = [item for item in items if item]
        if len(items) > MAX_CAUSES_PER_CATEGORY:
            raise ValidationFailed.on("fishbone", f"{category}: at most {MAX_CAUSES_PER_CATEGORY} causes.")
        if items:
            cleaned[category] = items
    return cleaned


@transaction.atomic
def root_cause_save(
    capa: Capa, *, actor, whys, fishbone, conclusion: str, method: str = RootCauseMethod.BOTH, version=None, reason: str = ""
) -> RootCauseAnalysis:
    _require_writer(actor)
    locked_capa = Capa.objects.select_for_update().get(pk=capa.pk)
    if locked_capa.status not in ANALYSIS_STATES:
        raise IllegalTransition(
            f"The analysis can be changed while the CAPA is open, in investigation or in action planning; it is {locked_capa.get_status_display().lower()}."
        )
    if method not in RootCauseMethod.values:
        raise ValidationFailed.on("method", f"Choose one of {', '.join(RootCauseMethod.values)}.")
    analysis, created = RootCauseAnalysis.objects.select_for_update().get_or_create(capa=locked_capa)
    if version is not None:
        check_version(analysis, version)
    before = (analysis.method, analysis.whys, analysis.fishbone, analysis.conclusion)
    analysis.method = method
    analysis.whys = _clean_whys(whys)
    analysis.fishbone = _clean_fishbone(fishbone)
    analysis.conclusion = _text(conclusion, "conclusion")
    if not created and before == (analysis.method, analysis.whys, analysis.fishbone, analysis.conclusion):
        # Saved unchanged: nothing to record, and who analysed it when stays true (issue 15).
        return analysis
    analysis.analysed_by = actor
    analysis.analysed_at = timezone.now()
    save_versioned(
        analysis,
        actor=actor,
        reason=_text(reason, "reason", max_length=4000) or "Root cause analysis updated",
        fields=["method", "whys", "fishbone", "conclusion", "analysed_by", "analysed_at"],
        action="analyse",
    )
    return analysis


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


# --- effectiveness checks --------------------------------------------------------------------


@transaction.atomic
def check_create(capa: Capa, *, actor, criteria: str, verifier, due_date: date | None = None) -> EffectivenessCheck:
    _require_writer(actor)
    locked = Capa.objects.select_for_update().get(pk=capa.pk)
    if locked.status not in CHECK_PLANNING_STATES:
        raise IllegalTransition(
            f"Effectiveness checks are planned from action planning on; {locked} is {locked.get_status_display().lower()}."
        )
    criteria = _text(criteria, "criteria", required=True)
    _quality_user(verifier, "verifier")
    if verifier.pk == locked.owner_id:
        # Separation of duties (ISO 13485 8.5.2 f).
        raise ValidationFailed.on("verifier", "The verifier must be someone other than the CAPA owner.")
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "The due date cannot be in the past.")
    if due_date is None and locked.implemented_at is not None:
        due_date = default_check_due_date(locked.implemented_at)
    check = EffectivenessCheck(capa=locked, criteria=criteria, verifier=verifier, due_date=due_date, created_by=actor)
    set_history(check, user=actor, reason="Effectiveness check planned", action="create")
    check.save()
    if verifier.pk != actor.pk:
        notify([verifier], subject=f"You verify the effectiveness of {locked.reference}", body=criteria[:500], url=check.get_absolute_url())
    return check


@transaction.atomic
def check_update(check: EffectivenessCheck, *, actor, reason: str, version, verifier) -> EffectivenessCheck:
    """Name another verifier for a pending check: an edit with the person's reason in history
    (the named verifier is the only one who records the result, so who it is must not change
    silently). The old and the new verifier are told."""
    _require_writer(actor)
    reason = _text(reason, "reason", required=True, max_length=4000)
    locked = EffectivenessCheck.objects.select_for_update().select_related("capa", "verifier").get(pk=check.pk)
    check_version(locked, version)
    if locked.result != CheckResult.PENDING or not locked.capa.is_open:
        raise IllegalTransition(f"{locked} has its result; its verifier can no longer change.")
    _quality_user(verifier, "verifier")
    if verifier.pk == locked.capa.owner_id:
        # Separation of duties (ISO 13485 8.5.2 f).
        raise ValidationFailed.on("verifier", "The verifier must be someone other than the CAPA owner.")
    if verifier.pk == locked.verifier_id:
        return locked
    previous = locked.verifier
    locked.verifier = verifier
    save_versioned(locked, actor=actor, reason=reason, fields=["verifier"], action="change_verifier")
    url = locked.get_absolute_url()
    notify([verifier], subject=f"You verify the effectiveness of {locked.capa.reference}", body=f"{actor.full_name}: {reason}"[:500], url=url)
    if previous.pk != actor.pk:
        notify([previous], subject=f"You no longer verify {locked.capa.reference}", body=f"{actor.full_name}: {reason}"[:500], url=url)
    return locked


def check_set_due_date(*, check: EffectivenessCheck, due_date: date, actor) -> None:
    check.due_date = due_date
    save_versioned(check, actor=actor, reason="Default due date: 90 days after implementation", fields=["due_date"], action="schedule")


@transaction.atomic
def check_record_result(
    check: EffectivenessCheck, name: str, *, actor, reason: str = "", evidence: str = "", password=None, meaning=None
) -> EffectivenessCheck:
    """Record effective / not effective. A check found not effective sends the CAPA back to
    action planning (`reopen`) in the same transaction, with the check's reason in history.
    `mark_effective_early` (before the observation window ends) is signed with the meaning
    "Early verification" whatever the caller sends, its reason being the justification."""
    if name == "mark_effective_early":
        meaning = EARLY_VERIFICATION_MEANING
    check = transition(
        CHECK_WORKFLOW, check, name, actor=actor, reason=reason, password=password, meaning=meaning, data={"evidence": evidence}
    )
    if check.result == CheckResult.NOT_EFFECTIVE:
        capa = capa_transition(
            Capa.objects.get(pk=check.capa_id),
            "reopen",
            actor=actor,
            reason=f"Effectiveness check not effective: {reason}",
        )
        notify_reopened(capa, reason=reason)
    elif check.result == CheckResult.EFFECTIVE:
        from capa.handoffs import announce_closure

        capa = Capa.objects.get(pk=check.capa_id)
        if capa.status == CapaStatus.EFFECTIVENESS_CHECK and not capa.checks.filter(result=CheckResult.PENDING).exists():
            announce_closure(capa)
    return check


def check_transition(check: EffectivenessCheck, name: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    """The API's transitions/ shape for a check: the evidence comes in `data`."""
    evidence = (data or {}).get("evidence", "")
    if not isinstance(evidence, str):
        raise ValidationFailed.on("evidence", "Enter text.")
    return check_record_result(check, name, actor=actor, reason=reason, evidence=evidence, password=password, meaning=meaning)


# --- recurrence ------------------------------------------------------------------------------


def recurrence_complaints(capa: Capa, *, since=None):
    """Complaints that repeat the problem of the CAPA's complaints (the same recurrence key, by
    the rule the recurrence KPI counts with: complaints.selectors.complaint_repeats), received
    since implementation or `since` (None when the CAPA has no such complaints or is not
    implemented)."""
    from complaints.selectors import complaint_repeats

    since = since or capa.implemented_at
    if since is None:
        return None
    # The page prefetches the complaints; the sweep reads them here (one query either way).
    linked = [(c.pk, c.recurrence_key) for c in capa.complaints.all()]
    keys = {key for _pk, key in linked if key}
    if not keys:
        return None
    return complaint_repeats(keys, since=since).exclude(pk__in=[pk for pk, _key in linked]).order_by("received_at")


# --- the sweeps (docs/architecture.md rule 4) ------------------------------------------------


def _record_once(**fields) -> Escalation | None:
    """Insert the escalation row unless this (record, kind, level) exists: None means another
    sweep got there first and nothing more must be done."""
    try:
        with transaction.atomic():
            return Escalation.objects.create(**fields)
    except IntegrityError:
        return None


def _names(users) -> str:
    return ", ".join(sorted({u.username for u in users if u is not None}))[:500]


def escalate_overdue_actions(*, today: date | None = None, limit: int = 200) -> int:
    """Level 1 the day after the due date (action owner and CAPA owner), level 2 after
    ACTION_SECOND_LEVEL_DAYS more days (Quality Managers)."""
    today = today or timezone.localdate()
    system = system_user()
    done = 0
    for level, late_days in ((1, 0), (2, ACTION_SECOND_LEVEL_DAYS)):
        with transaction.atomic():
            due = list(
                CapaAction.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status__in=OPEN_ACTION_STATES,
                    due_date__lt=today - timedelta(days=late_days),
                    escalation_level__lt=level,
                    capa__status__in=OPEN_STATES,
                )
                .select_related("capa", "owner", "capa__owner")
                .order_by("due_date", "id")[:limit]
            )
            managers = list(quality_managers()) if level == 2 and due else []
            for action in due:
                recipients = [action.owner, action.capa.owner] if level == 1 else [*managers, action.capa.owner]
                row = _record_once(
                    capa=action.capa,
                    action=action,
                    kind=Escalation.Kind.ACTION_OVERDUE,
                    level=level,
                    notified=_names(recipients),
                    detail=f"due {action.due_date:%d %b %Y}",
                )
                action.escalation_level = level
                set_history(action, user=system, reason=f"Overdue since {action.due_date:%d %b %Y}: escalation level {level}", action="escalate")
                action.save(update_fields=["escalation_level"])
                if row is None:
                    continue
                notify(
                    recipients,
                    subject=f"Overdue CAPA action {action} (level {level})",
                    body=f"{action.description[:300]}\nDue {action.due_date:%d %b %Y}; owner {action.owner.full_name}.",
                    url=action.get_absolute_url(),
                )
                done += 1
    return done


def _pending_checks(today: date):
    return (
        EffectivenessCheck.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(result=CheckResult.PENDING, due_date__isnull=False, capa__status=CapaStatus.EFFECTIVENESS_CHECK)
        .select_related("capa", "verifier", "capa__owner")
    )


def remind_due_checks(*, today: date | None = None, limit: int = 200) -> int:
    """Remind the verifier when a check falls due; escalate to the Quality Managers once it is
    overdue. One row per (check, kind, level)."""
    today = today or timezone.localdate()
    done = 0
    steps = (
        (Escalation.Kind.CHECK_DUE, Q(due_date__lte=today)),
        (Escalation.Kind.CHECK_OVERDUE, Q(due_date__lt=today)),
    )
    for kind, due_filter in steps:
        with transaction.atomic():
            already = Escalation.objects.filter(check_record=OuterRef("pk"), kind=kind, level=1)
            checks = list(_pending_checks(today).filter(due_filter).filter(~Exists(already)).order_by("due_date", "id")[:limit])
            managers = list(quality_managers()) if kind == Escalation.Kind.CHECK_OVERDUE and checks else []
            for check in checks:
                recipients = [check.verifier] if kind == Escalation.Kind.CHECK_DUE else [check.verifier, *managers]
                row = _record_once(
                    capa=check.capa, check_record=check, kind=kind, level=1, notified=_names(recipients), detail=f"due {check.due_date:%d %b %Y}"
                )
                if row is None:
                    continue
                if kind == Escalation.Kind.CHECK_DUE:
                    subject = f"Effectiveness check of {check.capa.reference} is due"
                else:
                    subject = f"Overdue effectiveness check of {check.capa.reference}"
                notify(recipients, subject=subject, body=f"Criteria: {check.criteria[:400]}", url=check.get_absolute_url())
                done += 1
    return done


def detect_recurrences(*, today: date | None = None, limit: int = 200) -> int:
    """The check runs itself where it can: a new complaint with the same product and category
    during the observation window marks the check not effective and reopens the CAPA."""
    today = today or timezone.localdate()
    system = system_user()
    reopened = 0
    with transaction.atomic():
        already = Escalation.objects.filter(check_record=OuterRef("pk"), kind=Escalation.Kind.RECURRENCE)
        checks = list(
            _pending_checks(today)
            .filter(due_date__gte=today, capa__implemented_at__isnull=False, capa__source=Source.COMPLAINT)
            .filter(~Exists(already))
            .order_by("due_date", "id")[:limit]
        )
        for check in checks:
            recurrences = recurrence_complaints(check.capa)
            if recurrences is None:
                continue
            found = list(recurrences.values_list("reference", flat=True)[:20])
            if not found:
                continue
            with transaction.atomic():
                row = _record_once(
                    capa=check.capa,
                    check_record=check,
                    kind=Escalation.Kind.RECURRENCE,
                    level=1,
                    notified=_names([check.capa.owner, check.verifier]),
                    detail=f"{len(found)} new complaint(s): {', '.join(found)}"[:300],
                )
                if row is None:
                    continue
                reason = (
                    f"Recurrence during the observation window: {len(found)} new complaint(s) with the same "
                    f"problem since implementation ({', '.join(found)})."
                )
                check_record_result(check, "mark_not_effective", actor=system, reason=reason, evidence=reason)
                # check_record_result told the owner and the managers (notify_reopened).
                notify(
                    [check.verifier],
                    subject=f"{check.capa.reference} reopened automatically: the problem recurred",
                    body=reason,
                    url=check.capa.get_absolute_url(),
                )
                reopened += 1
    return reopened


def recurrence_after_closure_days() -> int:
    return int(getattr(settings, "CAPA_RECURRENCE_AFTER_CLOSURE_DAYS", 365))


def flag_recurrences_after_closure(*, now=None, limit: int = 200) -> int:
    """A repeat of a closed CAPA's problem (received after its closure, within
    CAPA_RECURRENCE_AFTER_CLOSURE_DAYS) raises the CAPA's "recurrence after closure" flag once,
    with history, and gives its owner the task of assessing it (ISO 13485 8.5.2 f: review the
    effectiveness of the action taken). The flag column is the once-marker: a second sweep finds
    nothing to do."""
    now = now or timezone.now()
    system = system_user()
    flagged = 0
    with transaction.atomic():
        capas = list(
            Capa.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=CapaStatus.CLOSED,
                source=Source.COMPLAINT,
                recurred_after_closure_at__isnull=True,
                closed_at__gte=now - timedelta(days=recurrence_after_closure_days()),
            )
            .select_related("owner")
            .prefetch_related("complaints")
            .order_by("closed_at", "id")[:limit]
        )
        for capa in capas:
            repeats = recurrence_complaints(capa, since=capa.closed_at)
            found = list(repeats.values_list("reference", flat=True)[:20]) if repeats is not None else []
            if not found:
                continue
            capa.recurred_after_closure_at = now
            capa.recurrence_after_closure = ", ".join(found)[:300]
            reason = f"Recurrence after closure: {', '.join(found)} repeat the problem of {capa.reference}."
            save_versioned(
                capa, actor=system, reason=reason, fields=["recurred_after_closure_at", "recurrence_after_closure"],
                action="flag",
            )
            notify(
                [capa.owner],
                subject=f"{capa.reference}: the problem recurred after closure; assess it",
                body=f"{reason}\nDecide whether the CAPA's actions were effective and raise a new CAPA if not.",
                url=capa.get_absolute_url(),
            )
            flagged += 1
    return flagged


# --- Workflow hooks ------------------------------------------------------------------------
# The steps of the CAPA workflows that need these services, registered under the names the
# workflows give them (qms/workflow.py).


@CAPA_WORKFLOW.hook("start_observation")
def hook_start_observation(ctx):
    """Implementation is complete: the effectiveness observation window starts now, and checks
    without a due date get the default (90 days after implementation)."""
    ctx.set("implemented_at", ctx.at)
    due = default_check_due_date(ctx.at)
    for check in ctx.record.checks.filter(result=CheckResult.PENDING, due_date__isnull=True):
        check_set_due_date(check=check, due_date=due, actor=ctx.actor)


@ACTION_WORKFLOW.hook("check_progress")
def hook_check_progress(ctx):
    progress = action_progress(ctx.record)  # document revised / role trained, where the system can see it
    if progress is not None and not progress.is_done:
        raise IllegalTransition(progress.message)
