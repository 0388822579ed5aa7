"""Every write of the documents app (docs/style.md "services"): keyword-only, atomic, with the actor
and the reason in history. Views, the API, tasks, the admin and the demo data call these."""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from documents.models import (
    NUMBER_PREFIXES,
    SIGNOFF_ROLES,
    STRICT_RULE,
    ApprovalRule,
    Document,
    DocumentType,
    DocumentVersion,
    PeriodicReview,
    ReminderKind,
    ReviewOutcome,
    ReviewReminder,
    SignoffKind,
    VersionStatus,
)
from documents.uploads import check_upload
from documents.workflow import REVIEW_CONFIRMED_MEANING, VERSION_WORKFLOW, next_review_date
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, StaleVersion, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.reasons import person_reason
from qms.references import allocate_reference
from qms.services import system_user
from qms.signatures import signature_create, signatures_for, verify_signer_password
from qms.versioning import check_version, save_versioned
from qms.workflow import TransitionContext, transition

log = logging.getLogger(__name__)

DOCUMENT_FIELDS = ("title", "doc_type", "owner", "department", "review_period_months")
# Changing these is itself a controlled change (issue 15): Quality Managers only.
CONTROLLED_DOCUMENT_FIELDS = ("owner", "review_period_months")
VERSION_FIELDS = ("change_summary", "content_text", "effective_from")
MAX_TEXT_CHARS = 200_000


def _require_quality(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers change controlled documents.")


def revision_label(index: int) -> str:
    """1, 2, 3 ... or A, B, ... Z, AA, AB ... (settings.QMS_DOCUMENT_REVISION_SCHEME)."""
    if getattr(settings, "QMS_DOCUMENT_REVISION_SCHEME", "numeric") != "alpha":
        return str(index)
    label = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def _validate_document(fields: dict) -> None:
    errors = {}
    if not (fields.get("title") or "").strip():
        errors["title"] = ["Give the document a title."]
    if fields.get("doc_type") not in DocumentType.values:
        errors["doc_type"] = ["Choose a document type."]
    period = fields.get("review_period_months")
    if not isinstance(period, int) or not 1 <= period <= 120:
        errors["review_period_months"] = ["The review period is 1 to 120 months."]
    owner = fields.get("owner")
    if owner is None or not owner.is_active or not qms_roles.has_role(owner, *qms_roles.QUALITY):
        errors["owner"] = ["The owner must be an active member of Quality Staff or a Quality Manager."]
    if errors:
        raise ValidationFailed("The document is not valid.", field_errors=errors)


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


@transaction.atomic
def document_create(
    *,
    actor,
    title: str,
    doc_type: str,
    owner,
    department=None,
    review_period_months: int = 24,
    content_text: str = "",
    upload=None,
    effective_from: datetime.date | None = None,
    change_summary: str = "",
    reason: str = "",
) -> Document:
    """A new register entry with its first revision as a draft."""
    _require_quality(actor)
    fields = {"title": title, "doc_type": doc_type, "owner": owner, "department": department,
              "review_period_months": review_period_months}
    _validate_document(fields)
    _validate_text(content_text or "")
    document = Document(
        number=allocate_reference(NUMBER_PREFIXES[DocumentType(doc_type)], width=3, per_year=False),
        title=title.strip(),
        doc_type=doc_type,
        owner=owner,
        department=department,
        review_period_months=review_period_months,
        created_by=actor,
    )
    set_history(document, user=actor, reason=reason or "New controlled document", action="create")
    document.save()
    version_create(
        document=document, actor=actor, content_text=content_text, upload=upload, effective_from=effective_from,
        change_summary=change_summary or "First issue.", copy_effective=False,
    )
    return document


@transaction.atomic
def document_update(document: Document, *, actor, reason: str, expected_version, **changes) -> Document:
    """Change the register entry (title, type, owner, department, review period). The number
    never changes; the type keeps its number (SOP-014 stays SOP-014)."""
    _require_quality(actor)
    locked = Document.objects.select_for_update().get(pk=document.pk)
    check_version(locked, expected_version)
    reason = person_reason(reason, ask="Say why the document entry changes.")
    unknown = set(changes) - set(DOCUMENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed here.")
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    controlled = [name for name in CONTROLLED_DOCUMENT_FIELDS if name in changed]
    if controlled and not qms_roles.has_role(actor, qms_roles.MANAGER):
        # Who keeps a document right and how often it is re-checked are part of its control
        # (ISO 9001 7.5.2, 7.5.3): a Quality Manager decides them, not any editor.
        labels = " and ".join("the review period" if n == "review_period_months" else "the owner" for n in controlled)
        raise NotAllowed(f"Only a Quality Manager may change {labels} of a controlled document.")
    for name in changed:
        setattr(locked, name, changes[name])
    _validate_document({name: getattr(locked, name) for name in DOCUMENT_FIELDS})
    if "review_period_months" in changed and locked.effective_version_id:
        # The period counts from the last confirmed review, else from the release.
        last_confirmed = locked.periodic_reviews.filter(outcome=ReviewOutcome.NO_CHANGE).values_list("reviewed_at", flat=True).first()
        start = timezone.localdate(last_confirmed) if last_confirmed else locked.effective_version.effective_from
        locked.next_review_due = next_review_date(start, locked.review_period_months)
        changed.append("next_review_due")
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked


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
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
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


# ---------------------------------------------------------------- the approval matrix

RULE_FIELDS = tuple(STRICT_RULE)
MAX_JOB_FUNCTIONS = 50


def _clean_roles(value, field: str) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed.on(field, "Give a list of role names.")
    roles = list(dict.fromkeys(item.strip() for item in value))
    unknown = [role for role in roles if role not in SIGNOFF_ROLES]
    if unknown:
        raise ValidationFailed.on(field, f"Only {' and '.join(SIGNOFF_ROLES)} take part in review and approval; not {', '.join(unknown)[:200]}.")
    if not roles:
        raise ValidationFailed.on(field, "Name at least one role.")
    return [role for role in SIGNOFF_ROLES if role in roles]


def _clean_job_functions(value, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed.on(field, "Give a list of job functions.")
    names = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if len(names) > MAX_JOB_FUNCTIONS:
        raise ValidationFailed.on(field, f"At most {MAX_JOB_FUNCTIONS} job functions.")
    if any(len(name) > 120 or any(ord(ch) < 32 for ch in name) for name in names):
        raise ValidationFailed.on(field, "A job function is at most 120 characters of plain text.")
    return names


def _clean_rule(changes: dict) -> dict:
    cleaned = {
        "reviewer_roles": _clean_roles(changes["reviewer_roles"], "reviewer_roles"),
        "reviewer_job_functions": _clean_job_functions(changes["reviewer_job_functions"], "reviewer_job_functions"),
        "approver_roles": _clean_roles(changes["approver_roles"], "approver_roles"),
        "approver_job_functions": _clean_job_functions(changes["approver_job_functions"], "approver_job_functions"),
    }
    required = changes["required_approver_role"] or ""
    if not isinstance(required, str) or (required.strip() and required.strip() not in SIGNOFF_ROLES):
        raise ValidationFailed.on("required_approver_role", f"Choose {' or '.join(SIGNOFF_ROLES)}, or leave it empty.")
    cleaned["required_approver_role"] = required = required.strip()
    if required and required not in cleaned["approver_roles"]:
        raise ValidationFailed.on("required_approver_role", f"A {required} can only be required when the approvers may be {required}s.")
    return cleaned


def approval_rule_set(*, actor, doc_type: str, reason: str, expected_version, **changes) -> ApprovalRule:
    """Set the approval matrix row of a document type (a site policy, issue 16): Quality
    Managers only, with their reason, in the history. The first change of a type that still
    runs on the strict default creates its row (from version 1, the default's version)."""
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, qms_roles.MANAGER):
        raise NotAllowed("Only a Quality Manager sets the approval matrix.")
    if doc_type not in DocumentType.values:
        raise ValidationFailed.on("doc_type", "Choose a document type.")
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed here.")
    try:
        with transaction.atomic():
            locked = ApprovalRule.objects.select_for_update().filter(doc_type=doc_type).first()
            current = locked or ApprovalRule(doc_type=doc_type, **STRICT_RULE)
            check_version(current, expected_version)
            reason = person_reason(reason, ask="Say why the approval matrix changes.")
            cleaned = _clean_rule({name: changes.get(name, getattr(current, name)) for name in RULE_FIELDS})
            changed = [name for name, value in cleaned.items() if getattr(current, name) != value]
            for name in changed:
                setattr(current, name, cleaned[name])
            if locked is None:
                set_history(current, user=actor, reason=reason, action="create")
                current.save()
            elif changed:
                save_versioned(current, actor=actor, reason=reason, fields=changed, action="update")
    except IntegrityError:  # another manager created the row first
        raise StaleVersion("Someone else set this approval rule after you opened it; reload and apply your change again.") from None
    return current


# ---------------------------------------------------------------- release on the effective date


def versions_due_for_release(today: datetime.date | None = None) -> list[int]:
    today = today or timezone.localdate()
    return list(
        DocumentVersion.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=today)
        .order_by("effective_from", "pk")
        .values_list("pk", flat=True)
    )


def versions_make_due_effective() -> int:
    """The beat sweep: release every approved version whose effective date has come, as the
    system user. Each release is its own transaction; a version taken by a concurrent sweep or
    by a person in between is skipped (the workflow refuses it), so running twice is harmless."""
    actor = system_user()
    released = 0
    for version_id in versions_due_for_release():
        with transaction.atomic():
            version = DocumentVersion.objects.select_for_update(skip_locked=True).filter(pk=version_id, status=VersionStatus.APPROVED).first()
            if version is None:
                continue
            try:
                transition(VERSION_WORKFLOW, version, "make_effective", actor=actor,
                           reason=f"Effective date {version.effective_from:%d %b %Y} reached (scheduled release).")
            except IllegalTransition as exc:
                log.info("version %s not released: %s", version_id, exc.message)
                continue
        released += 1
    return released


# ---------------------------------------------------------------- the hook for other apps


TRAINING_TASK = "training.assign_for_version"


def on_version_approved(version_id: int) -> None:
    """Runs after the transaction that approved a version has committed (the approve step's
    after_commit, i.e. transaction.on_commit). Training hooks in here too: the task named
    TRAINING_TASK assigns a release-gated version's trainees now, at approval (issue 16 item 6);
    for other versions it does nothing. If the broker is down, the approval stays committed and
    the beat sweep "training.prepare_gated_versions" assigns them."""
    if TRAINING_TASK in current_app.tasks:
        try:
            current_app.send_task(TRAINING_TASK, args=[version_id])
        except Exception:  # the broker's connection errors vary by transport
            log.warning("could not queue %s for version %s; the beat sweep will assign", TRAINING_TASK, version_id, exc_info=True)
    notify_approved(version_id)


def on_version_effective(version_id: int) -> None:
    """Runs after the transaction that made a version effective has committed.

    Training (ISO 13485 6.2) hooks in HERE: when the task named TRAINING_TASK is registered
    (training/tasks.py with `@shared_task(name="training.assign_for_version")` taking the
    version id), it is queued for every release, whether a person or the scheduled sweep
    released the version. Add any further reaction to a release as one more explicit line below.
    """
    if TRAINING_TASK in current_app.tasks:
        current_app.send_task(TRAINING_TASK, args=[version_id])
    notify_effective(version_id)


# ---------------------------------------------------------------- notifications


def _version_with_people(version_id: int) -> DocumentVersion:
    return DocumentVersion.objects.select_related("document__owner", "author").get(pk=version_id)


def notify_submitted(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        for signoff in version.signoffs.filter(round=version.review_round).select_related("user"):
            what = "review" if signoff.kind == SignoffKind.REVIEW else "approve"
            notify([signoff.user], subject=f"Please {what} {version}: {version.document.title}",
                   body=f"{version.author.full_name} submitted revision {version.revision}. {version.change_summary}",
                   url=version.get_absolute_url())


def notify_approved(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author, version.document.owner], subject=f"{version} approved",
               body=f"Every approver signed. It becomes effective on {version.effective_from:%d %b %Y}.",
               url=version.get_absolute_url())


def notify_rejected(version_id: int, *, reason: str, by: str) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author], subject=f"{version} returned to draft", body=f"Rejected by {by}: {reason}",
               url=version.get_absolute_url())


def notify_effective(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author, version.document.owner], subject=f"{version} is effective",
               body=f"{version.document.title}, revision {version.revision}, is in use from {version.effective_from:%d %b %Y}.",
               url=version.document.get_absolute_url(), email=False)


# ---------------------------------------------------------------- periodic review


def periodic_review_confirm(document: Document, *, actor, password: str | None, comment: str = "") -> PeriodicReview:
    """The owner (or a Quality Manager) confirms the effective version is still right: signed
    "Reviewed, no change"; the next review date moves one period on from today."""
    _may_review(document, actor)
    verify_signer_password(actor, password)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.effective_version_id is None:
            raise IllegalTransition(f"{locked.number} has no effective version to review.")
        today = timezone.localdate()
        review = PeriodicReview(
            document=locked,
            version_id=locked.effective_version_id,
            outcome=ReviewOutcome.NO_CHANGE,
            reviewed_by=actor,
            comment=(comment or "").strip(),
            due_on=locked.next_review_due,
            next_review_due=next_review_date(today, locked.review_period_months),
        )
        review.signature = signature_create(locked, signer=actor, meaning=REVIEW_CONFIRMED_MEANING, reason=review.comment)
        set_history(review, user=actor, reason=review.comment, action="confirm_review")
        review.save()
        locked.next_review_due = review.next_review_due
        save_versioned(locked, actor=actor, reason=f"Periodic review: no change. {review.comment}".strip(),
                       fields=["next_review_due"], action="confirm_review")
    return review


@transaction.atomic
def periodic_review_start_revision(document: Document, *, actor, comment: str = "") -> DocumentVersion:
    """The owner's periodic review found a change is needed: record it and start the next
    revision from the effective text. The review date resets when that revision is released."""
    _may_review(document, actor)
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.effective_version_id is None:
        raise IllegalTransition(f"{locked.number} has no effective version to review.")
    version = version_create(document=locked, actor=actor, change_summary=comment, reason="Periodic review: revision needed")
    review = PeriodicReview(document=locked, version_id=locked.effective_version_id, outcome=ReviewOutcome.REVISION_STARTED,
                            reviewed_by=actor, comment=(comment or "").strip(), due_on=locked.next_review_due)
    set_history(review, user=actor, reason=review.comment, action="start_revision")
    review.save()
    return version


def _may_review(document: Document, actor) -> None:
    _require_quality(actor)
    if actor.pk != document.owner_id and not qms_roles.has_role(actor, qms_roles.MANAGER):
        raise NotAllowed("Only the document owner or a Quality Manager may record the periodic review.")


REMIND_DAYS_BEFORE = 30
ESCALATE_EVERY_DAYS = 30


def review_reminders_sweep(today: datetime.date | None = None) -> int:
    """Remind the owner when a periodic review falls due (30 days ahead) and escalate to the
    owner's manager and the Quality Managers when it is overdue, once more every 30 days.
    One indexed query selects what is due; the unique (document, due_on, kind, level) row makes
    a second run a no-op (docs/architecture.md rule 4). Returns the number of reminders sent."""
    today = today or timezone.localdate()
    sent = 0
    with transaction.atomic():
        due = (
            Document.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_review_due__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE), effective_version__isnull=False)
            .select_related("owner__manager")
            .order_by("next_review_due", "pk")
        )
        done = set(
            ReviewReminder.objects.filter(document__in=[d.pk for d in due]).values_list("document_id", "due_on", "kind", "level")
        )
        managers = None
        for document in due:
            days_late = (today - document.next_review_due).days
            if days_late <= 0:
                kind, level = ReminderKind.DUE, 0
            else:
                kind, level = ReminderKind.OVERDUE, 1 + (days_late - 1) // ESCALATE_EVERY_DAYS
            if (document.pk, document.next_review_due, kind, level) in done:
                continue
            recipients = [document.owner]
            if kind == ReminderKind.OVERDUE:
                if managers is None:
                    managers = list(qms_roles_users(qms_roles.MANAGER))
                recipients += [document.owner.manager, *managers]
            recipients = [r for r in dict.fromkeys(recipients) if r is not None]
            reminder = ReviewReminder(document=document, due_on=document.next_review_due, kind=kind, level=level,
                                      recipients=", ".join(r.username for r in recipients)[:500])
            try:
                with transaction.atomic():
                    reminder.save()
            except IntegrityError:  # a concurrent sweep wrote it first: nothing more to do
                continue
            url = reverse("documents:detail", args=[document.pk])
            if kind == ReminderKind.DUE:
                notify(recipients, subject=f"Periodic review of {document.number} due {document.next_review_due:%d %b %Y}",
                       body=f"Please review {document} and confirm it is still right, or start a new revision.", url=url)
            else:
                notify(recipients, subject=f"Periodic review of {document.number} overdue by {days_late} days",
                       body=f"{document} was due for review on {document.next_review_due:%d %b %Y}. Owner: {document.owner.full_name}.",
                       url=url)
            sent += 1
    return sent


def qms_roles_users(role: str):
    return qms_roles.users_with_role(role)


# ---------------------------------------------------------------- workflow hooks
# What happens once a step of VERSION_WORKFLOW has committed, registered under the names the
# workflow gives them (qms/workflow.py).


@VERSION_WORKFLOW.hook("after_submit")
def hook_after_submit(ctx: TransitionContext) -> None:
    notify_submitted(ctx.record.pk)


@VERSION_WORKFLOW.hook("after_approve")
def hook_after_approve(ctx: TransitionContext) -> None:
    on_version_approved(ctx.record.pk)


@VERSION_WORKFLOW.hook("after_reject")
def hook_after_reject(ctx: TransitionContext) -> None:
    notify_rejected(ctx.record.pk, reason=ctx.reason, by=ctx.actor.full_name)


@VERSION_WORKFLOW.hook("after_make_effective")
def hook_after_make_effective(ctx: TransitionContext) -> None:
    on_version_effective(ctx.record.pk)
