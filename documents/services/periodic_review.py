"""The periodic review of an effective document (ISO 9001 7.5.3): confirmed with a signature, or a
new revision started; reminders when it falls due and escalation when it is overdue."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from documents.models import (
    Document,
    DocumentVersion,
    PeriodicReview,
    ReminderKind,
    ReviewOutcome,
    ReviewReminder,
)
from documents.services.common import _require_quality
from documents.services.versions import version_create
from documents.workflow import REVIEW_CONFIRMED_MEANING, next_review_date
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed
from qms.history import set_history
from qms.notifications import notify
from qms.signatures import signature_create, verify_signer_password
from qms.versioning import save_versioned


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
