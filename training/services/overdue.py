"""The overdue sweep: reminders before and escalations after the due date."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from qms import roles as qms_roles
from qms.notifications import notify
from training.models import (
    AssignmentStatus,
    NoticeKind,
    TrainingAssignment,
    TrainingNotice,
)
from training.services.common import (
    APPROVED,
    EFFECTIVE,
    ESCALATION_DAYS_AFTER,
    REMINDER_DAYS_BEFORE,
)

# ---------------------------------------------------------------- overdue sweep


def _notice_levels_due(due_date, today) -> list[tuple[str, int]]:
    due = []
    if today >= due_date - datetime.timedelta(days=REMINDER_DAYS_BEFORE):
        due.append((NoticeKind.REMINDER, 1))
    for level, after in ESCALATION_DAYS_AFTER.items():
        if today >= due_date + datetime.timedelta(days=after):
            due.append((NoticeKind.ESCALATION, level))
    return due


def overdue_sweep(*, today=None) -> int:
    """Remind trainees before the due date, escalate to their manager after it. One indexed
    query claims the candidates; the unique (assignment, kind, level) makes reruns no-ops."""
    today = today or timezone.localdate()
    last_level = max(ESCALATION_DAYS_AFTER)
    sent = 0
    with transaction.atomic():
        candidates = list(
            TrainingAssignment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=AssignmentStatus.ASSIGNED, due_date__lte=today + datetime.timedelta(days=REMINDER_DAYS_BEFORE))
            .filter(document_version__status__in=(EFFECTIVE, APPROVED))
            .exclude(Exists(TrainingNotice.objects.filter(assignment=OuterRef("pk"), kind=NoticeKind.ESCALATION, level=last_level)))
            .select_related("user__manager__manager", "document_version__document")
            .order_by("due_date", "pk")[:1000]
        )
        done = defaultdict(set)
        for assignment_id, kind, level in TrainingNotice.objects.filter(assignment__in=candidates).values_list("assignment_id", "kind", "level"):
            done[assignment_id].add((kind, level))
        quality_managers = None
        for assignment in candidates:
            todo = [step for step in _notice_levels_due(assignment.due_date, today) if step not in done[assignment.pk]]
            if not todo:
                continue
            kind, level = todo[-1]  # the most severe notice due now; the earlier ones are recorded too
            user = assignment.user
            if kind == NoticeKind.REMINDER:
                recipients = [user]
                subject = f"Training due {assignment.due_date:%d %b %Y}: {assignment.document_version}"
            else:
                manager = user.manager
                if level >= 2:
                    manager = (manager.manager if manager else None) or None
                if manager is None:
                    if quality_managers is None:
                        quality_managers = list(get_user_model().objects.filter(groups__name=qms_roles.MANAGER, is_active=True))
                    escalate_to = quality_managers
                else:
                    escalate_to = [manager]
                recipients = [user, *escalate_to]
                subject = f"Training overdue (escalation {level}): {user.full_name}, {assignment.document_version}"
            sent_to = ", ".join(u.username for u in recipients)[:500]
            for step_kind, step_level in todo:
                TrainingNotice.objects.create(
                    assignment=assignment, kind=step_kind, level=step_level,
                    recipients=sent_to if (step_kind, step_level) == (kind, level) else "not sent: a later notice was due",
                )
            notify(
                recipients,
                subject=subject,
                body=f"{user.full_name} must read and sign {assignment.document_version.document} (revision "
                f"{assignment.document_version.revision}) by {assignment.due_date:%d %b %Y}.",
                url=assignment.get_absolute_url(),
            )
            sent += 1
    return sent
