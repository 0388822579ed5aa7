"""The escalation sweep: SLA steps due, in batches, each step once (docs/architecture.md rule 4)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints.models import (
    Complaint,
    Escalation,
)
from complaints.services.deadlines import (
    _set,
    escalation_thresholds,
    load_calendars,
    schedule_next_escalation,
    sla_policies,
)
from complaints.services.intake import _local
from qms import roles as qms_roles
from qms.history import bulk_history, save_versioned_bulk, set_history
from qms.notifications import notify, notify_many
from qms.services import system_user
from qms.versioning import save_versioned

# --- Escalation sweep ----------------------------------------------------------------------


class RecipientResolver:
    """Who a step's notify targets mean; the Quality Managers are read once per sweep."""

    def __init__(self):
        self._managers = None

    def managers(self):
        if self._managers is None:
            User = get_user_model()
            self._managers = list(User.objects.filter(groups__name=qms_roles.MANAGER, is_active=True).order_by("id"))
        return self._managers

    def resolve(self, complaint: Complaint, targets: list[str]) -> list:
        people = []
        for target in targets:
            if target == "assignee":
                people.append(complaint.assignee) if complaint.assignee else people.extend(self.managers())
            elif target == "assignee_manager":
                manager = complaint.assignee.manager if complaint.assignee else None
                people.extend([manager] if manager else self.managers())
            elif target == "quality_managers":
                people.extend(self.managers())
            elif target == "head_of_quality":
                heads = [u for u in self.managers() if u.job_function.strip().lower() == "head of quality"]
                people.extend(heads or self.managers())
        return [p for p in dict.fromkeys(people) if p is not None and p.is_active]


def _due_steps(complaint: Complaint, *, now, done: set, calendar_cache: dict, thresholds=None) -> list[tuple]:
    """(kind, level, percent, notify, due_at) of the steps that are due and not yet taken."""
    if thresholds is None:
        thresholds = escalation_thresholds(complaint, calendar_cache=calendar_cache)
    return [step for step in thresholds if step[4] <= now and (step[0], step[1]) not in done]


def _escalation_notice(complaint: Complaint, escalation: Escalation, people: list) -> dict:
    """The notification of one step taken (notify()'s arguments)."""
    label = Escalation.Kind(escalation.kind).label.lower()
    state = "breached" if escalation.percent >= 100 else f"{escalation.percent}% of the time used"
    deadline = complaint.first_response_due if escalation.kind == Escalation.Kind.FIRST_RESPONSE else complaint.resolution_due
    return {
        "recipients": people,
        "subject": f"Escalation level {escalation.level}: {complaint.reference} {label} deadline {state}"[:200],
        "body": (
            f"{complaint.title}\nSeverity {complaint.get_severity_display()}, status "
            f"{complaint.get_status_display().lower()}. The {label} deadline is {_local(deadline)}."
        ),
        "url": complaint.get_absolute_url(),
    }


def _escalated(
    complaint: Complaint, taken: list[Escalation], *, done: set, now, calendar_cache: dict, thresholds=None
) -> tuple[list, str, str]:
    """After the steps `taken`: raise the level, reschedule the next step; (fields, reason,
    action) of the versioned save that records it (every claimed complaint gets one).
    `thresholds`: the complaint's escalation_thresholds() when the caller has them."""
    fields: list[str] = []
    if taken:
        highest = max(e.level for e in taken)
        if highest > complaint.escalation_level:
            _set(complaint, fields, "escalation_level", highest)
    if thresholds is None:
        schedule_next_escalation(complaint, fields=fields, now=now, calendar_cache=calendar_cache, done=done)
    else:  # schedule_next_escalation's rule, on the thresholds read once (its status is unchanged)
        pending = [due_at for kind, level, _percent, _notify, due_at in thresholds if (kind, level) not in done]
        _set(complaint, fields, "next_escalation_at", min(pending) if pending else None)
    steps = ", ".join(f"{e.kind} level {e.level} ({e.percent}%)" for e in taken)
    reason = f"SLA escalation: {steps}" if taken else "SLA escalation schedule updated"
    return fields or ["next_escalation_at"], reason, "escalate" if taken else ""


def complaint_escalate(complaint: Complaint, *, now, actor, calendar_cache: dict, recipients: RecipientResolver) -> list[Escalation]:
    """Take every escalation step of a locked complaint that is due and not yet taken: an
    Escalation row (unique per complaint, kind and level), the level raised with history, and
    notifications written in this transaction (delivered on commit). The sweep does this for a
    whole batch at once (_escalate_batch); this one-by-one form is its fallback."""
    done = set(complaint.escalations.values_list("kind", "level"))
    taken = []
    for kind, level, percent, targets, due_at in _due_steps(complaint, now=now, done=done, calendar_cache=calendar_cache):
        people = recipients.resolve(complaint, targets)
        try:
            with transaction.atomic():  # a savepoint: the unique constraint is the last line of defence
                escalation = Escalation(
                    complaint=complaint, kind=kind, level=level, percent=percent, due_at=due_at, at=now,
                    notified=[p.username for p in people],
                )
                set_history(escalation, user=actor, reason=f"SLA escalation: {kind} level {level} ({percent}%)")
                escalation.save()
        except IntegrityError:
            continue
        done.add((kind, level))
        taken.append(escalation)
        notify(**_escalation_notice(complaint, escalation, people))
    fields, reason, action = _escalated(complaint, taken, done=done, now=now, calendar_cache=calendar_cache)
    save_versioned(complaint, actor=actor, reason=reason, fields=fields, action=action)
    return taken


def _escalate_batch(due: list[Complaint], *, now, actor, calendar_cache: dict, recipients: RecipientResolver) -> int:
    """complaint_escalate() for a batch of locked complaints, with a number of queries that does
    not depend on the batch's size: one read of the steps taken, one INSERT of the Escalation
    rows, one of the notifications and one of the e-mails, one UPDATE of the complaints and their
    chained history rows (qms.history.save_versioned_bulk). Returns the number of steps taken."""
    if not due:
        return 0
    done: dict[int, set] = {complaint.pk: set() for complaint in due}
    for complaint_id, kind, level in Escalation.objects.filter(complaint__in=due).values_list("complaint_id", "kind", "level"):
        done[complaint_id].add((kind, level))
    thresholds = {complaint.pk: escalation_thresholds(complaint, calendar_cache=calendar_cache) for complaint in due}
    planned = []  # (complaint, escalation, people), in the order complaint_escalate takes them
    for complaint in due:
        steps = _due_steps(complaint, now=now, done=done[complaint.pk], calendar_cache=calendar_cache, thresholds=thresholds[complaint.pk])
        for kind, level, percent, targets, due_at in steps:
            people = recipients.resolve(complaint, targets)
            escalation = Escalation(
                complaint=complaint, kind=kind, level=level, percent=percent, due_at=due_at, at=now,
                notified=[p.username for p in people],
            )
            planned.append((complaint, escalation, people))
    if planned:
        try:
            with transaction.atomic():  # a savepoint: the unique constraint is the last line of defence
                written = Escalation.objects.bulk_create([escalation for _, escalation, _ in planned])
                # bulk_create skips simple-history: the creation rows, chained, in one INSERT.
                for escalation in written:
                    set_history(escalation, user=actor, reason=f"SLA escalation: {escalation.kind} level {escalation.level} ({escalation.percent}%)")
                bulk_history(written, history_type="+")
        except IntegrityError:
            # A step was written by someone not holding the complaint's lock: take the batch one
            # complaint and one step at a time, skipping the steps that exist (nothing is written yet).
            return sum(
                len(complaint_escalate(c, now=now, actor=actor, calendar_cache=calendar_cache, recipients=recipients)) for c in due
            )
    taken: dict[int, list] = {complaint.pk: [] for complaint in due}
    for complaint, escalation, _people in planned:
        done[complaint.pk].add((escalation.kind, escalation.level))
        taken[complaint.pk].append(escalation)
    notify_many(_escalation_notice(complaint, escalation, people) for complaint, escalation, people in planned)
    fields: list[str] = []
    for complaint in due:
        changed, reason, action = _escalated(
            complaint, taken[complaint.pk], done=done[complaint.pk], now=now, calendar_cache=calendar_cache,
            thresholds=thresholds[complaint.pk],
        )
        fields.extend(changed)
        set_history(complaint, user=actor, reason=reason, action=action)
    save_versioned_bulk(due, fields=fields)
    return len(planned)


def escalate_due_complaints(*, now=None, batch_size: int = 100, max_batches: int = 50) -> int:
    """The beat sweep: claim what is due with one indexed query (rows another worker holds are
    skipped, not waited for) and escalate the batch with a constant number of queries. A worker
    that dies mid-batch rolls its batch back; the next sweep takes it up again. Returns the
    number of escalation steps taken."""
    actor = system_user()
    calendar_cache: dict = {}
    recipients = RecipientResolver()
    total = 0
    for _ in range(max_batches):
        moment = now or timezone.now()
        with transaction.atomic():
            due = list(
                Complaint.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_escalation_at__lte=moment)
                .order_by("next_escalation_at")[:batch_size]
            )
            if due:
                # The calendars of the batch's terms and its assignees (with their managers) in
                # one query each, shared by their complaints: a join would build them again for
                # each row. Complaints stored before their terms were kept read their policy.
                load_calendars({c.sla_terms.get("calendar_id") for c in due if (c.sla_terms or {}).get("counts_business_time")}, calendar_cache)
                if any(not c.sla_terms and c.sla_policy_id for c in due):
                    policies = sla_policies().in_bulk()
                    for complaint in due:
                        if complaint.sla_policy_id in policies:
                            complaint.sla_policy = policies[complaint.sla_policy_id]
                people = get_user_model().objects.select_related("manager").in_bulk({c.assignee_id for c in due} - {None})
                for complaint in due:
                    if complaint.assignee_id in people:
                        complaint.assignee = people[complaint.assignee_id]
            total += _escalate_batch(due, now=moment, actor=actor, calendar_cache=calendar_cache, recipients=recipients)
        if len(due) < batch_size:
            break
    return total
