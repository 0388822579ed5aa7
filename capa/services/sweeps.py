"""Recurrence after closure and the sweeps beat runs (docs/architecture.md rule 4): overdue
actions, checks due, recurrences."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from capa.models import (
    Capa,
    CapaAction,
    EffectivenessCheck,
    Escalation,
    Source,
)
from capa.services.checks import check_record_result
from capa.services.common import ACTION_SECOND_LEVEL_DAYS, quality_managers
from capa.workflow import (
    OPEN_ACTION_STATES,
    OPEN_STATES,
    CapaStatus,
    CheckResult,
)
from qms.history import set_history
from qms.notifications import notify
from qms.services import system_user
from qms.versioning import save_versioned

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
