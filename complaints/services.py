"""Every write of the complaints app (STYLE.md "services.py"): views, the API, tasks, the demo
data and the admin call these; none of them writes complaint state by itself.

Deadlines are stored as columns (ARCHITECTURE.md rule 4): `first_response_due` and
`resolution_due` when the complaint is received (recomputed when its severity or received time
changes, and when a pause ends), and `next_escalation_at`, the earliest escalation step not yet
taken, which the sweep selects with one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef
from django.urls import reverse
from django.utils import timezone

from complaints import sla
from complaints.models import (
    Attachment,
    BusinessCalendar,
    Category,
    Channel,
    Communication,
    Complaint,
    Customer,
    Escalation,
    Holiday,
    Product,
    Severity,
    SlaPolicy,
    Survey,
)
from complaints.workflow import COMPLAINT_WORKFLOW, ComplaintStatus
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import bulk_history, save_versioned_bulk, set_history
from qms.notifications import email_outside_user, notify, notify_many
from qms.references import allocate_reference
from qms.services import system_user
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

SURVEY_VALID_DAYS = 30
CLOCK_SKEW = timedelta(minutes=2)  # a browser clock slightly ahead is not "in the future"


def recurrence_window_days() -> int:
    return int(getattr(settings, "COMPLAINT_RECURRENCE_WINDOW_DAYS", 90))


def _require_quality(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers may change complaints.")


# --- SLA -----------------------------------------------------------------------------------


def sla_policies():
    """SLA policies with their calendar joined and, on PostgreSQL, the calendar's holidays as an
    array in the same row: the deadlines of a create or a step cost one query, not three."""
    policies = SlaPolicy.objects.select_related("calendar")
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        policies = policies.annotate(
            holiday_dates=ArraySubquery(Holiday.objects.filter(calendar=OuterRef("calendar_id")).values("date"))
        )
    return policies


def calendar_for(policy: SlaPolicy | None, cache: dict | None = None) -> sla.Calendar | None:
    """The business calendar a policy counts on, or None when it counts elapsed hours."""
    if policy is None or not policy.counts_business_time:
        return None
    if cache is None:
        # Without the caller's cache, the policy row keeps the calendar it was counted on, so
        # one request reads the holidays once (a create or a step counts several deadlines).
        cache = policy.__dict__.setdefault("_sla_calendars", {})
    if policy.calendar_id in cache:
        return cache[policy.calendar_id]
    holidays = getattr(policy, "holiday_dates", None)
    if holidays is None:
        holidays = list(policy.calendar.holidays.values_list("date", flat=True))
    calendar = sla.Calendar.from_model(policy.calendar, holidays=holidays)
    cache[policy.calendar_id] = calendar
    return calendar


def policy_of(complaint: Complaint) -> SlaPolicy | None:
    """The complaint's SLA policy with its calendar joined (one query, not one for each)."""
    if complaint.sla_policy_id is None:
        return None
    if not Complaint._meta.get_field("sla_policy").is_cached(complaint):
        complaint.sla_policy = sla_policies().get(pk=complaint.sla_policy_id)
    return complaint.sla_policy


def _set(complaint, fields: set | list, name: str, value) -> None:
    setattr(complaint, name, value)
    if isinstance(fields, set):
        fields.add(name)
    elif name not in fields:
        fields.append(name)


def compute_deadlines(complaint: Complaint, *, fields, calendar_cache: dict | None = None) -> None:
    """Pick the severity's policy and store both deadlines, counted from received_at."""
    policy = sla_policies().filter(severity=complaint.severity).first()
    _set(complaint, fields, "sla_policy", policy)
    if policy is None:
        _set(complaint, fields, "first_response_due", None)
        _set(complaint, fields, "resolution_due", None)
        return
    calendar = calendar_for(policy, calendar_cache)
    _set(complaint, fields, "first_response_due", sla.add_hours(complaint.received_at, policy.first_response_hours, calendar))
    _set(
        complaint,
        fields,
        "resolution_due",
        sla.add_hours(complaint.received_at, policy.resolution_hours + complaint.sla_paused_hours, calendar),
    )


def escalation_thresholds(complaint: Complaint, *, status: str | None = None, calendar_cache: dict | None = None):
    """(kind, level, percent, notify, due_at) of every step that still applies to the complaint:
    first-response steps until it is acknowledged, resolution steps while it is worked on and
    not paused."""
    policy = policy_of(complaint)
    status = status or complaint.status
    if policy is None or not policy.escalation_steps:
        return []
    calendar = calendar_for(policy, calendar_cache)
    kinds = []
    if status == ComplaintStatus.NEW and complaint.acknowledged_at is None:
        kinds.append((Escalation.Kind.FIRST_RESPONSE, policy.first_response_hours, Decimal("0")))
    if status in (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING):
        kinds.append((Escalation.Kind.RESOLUTION, policy.resolution_hours, complaint.sla_paused_hours))
    thresholds = []
    for kind, hours, paused in kinds:
        for step in policy.escalation_steps:
            share = Decimal(hours) * Decimal(step["percent"]) / Decimal(100)
            due_at = sla.add_hours(complaint.received_at, share + paused, calendar)
            thresholds.append((kind, int(step["level"]), int(step["percent"]), list(step.get("notify", [])), due_at))
    return thresholds


def schedule_next_escalation(
    complaint: Complaint, *, fields, now=None, status: str | None = None, calendar_cache=None, done: set | None = None
) -> None:
    """Store when the next escalation step falls due (None when nothing is left to escalate).
    `done` is the set of (kind, level) taken already, when the caller has read it."""
    if done is None:
        done = set(complaint.escalations.values_list("kind", "level")) if complaint.pk else set()
    pending = [
        due_at
        for kind, level, _percent, _notify, due_at in escalation_thresholds(complaint, status=status, calendar_cache=calendar_cache)
        if (kind, level) not in done
    ]
    _set(complaint, fields, "next_escalation_at", min(pending) if pending else None)


def end_pause(complaint: Complaint, *, fields, now) -> None:
    """The customer answered: the paused working time moves the resolution deadline on."""
    if complaint.sla_paused_at is None:
        return
    policy = policy_of(complaint)
    calendar = calendar_for(policy)
    paused = sla.hours_between(complaint.sla_paused_at, now, calendar)
    _set(complaint, fields, "sla_paused_hours", complaint.sla_paused_hours + paused)
    _set(complaint, fields, "sla_paused_at", None)
    if complaint.sla_policy is not None:
        _set(
            complaint,
            fields,
            "resolution_due",
            sla.add_hours(complaint.received_at, complaint.sla_policy.resolution_hours + complaint.sla_paused_hours, calendar),
        )


def find_recurrence(complaint: Complaint) -> Complaint | None:
    """The latest complaint about the same product and category received within the window
    before this one (ISO 9001 10.2.1 c: determine whether similar nonconformities exist)."""
    if complaint.product_id is None or complaint.category_id is None:
        return None
    since = complaint.received_at - timedelta(days=recurrence_window_days())
    return (
        Complaint.objects.filter(
            product_id=complaint.product_id,
            category_id=complaint.category_id,
            received_at__gte=since,
            received_at__lte=complaint.received_at,
        )
        .exclude(pk=complaint.pk)
        .exclude(status=ComplaintStatus.REJECTED)
        .order_by("-received_at", "-id")
        .first()
    )


def apply_triage(complaint: Complaint, *, fields, actor, **decision) -> None:
    """Set the regulated triage fields and who decided, when they change."""
    if "investigation_required" in decision or "no_investigation_reason" in decision:
        changed = False
        for name in ("investigation_required", "no_investigation_reason"):
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if changed:
            _set(complaint, fields, "investigation_decided_by", actor)
    if "is_reportable" in decision or "reportability_reason" in decision:
        changed = False
        for name in ("is_reportable", "reportability_reason"):
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if changed:
            _set(complaint, fields, "reportability_decided_by", actor)


def check_triage(complaint: Complaint) -> None:
    """A "no investigation" decision needs its justification (820.198(b)), and a reportability
    decision needs its reason; both are checked whenever the decision is recorded."""
    errors = {}
    if complaint.investigation_required is False and not complaint.no_investigation_reason.strip():
        errors["no_investigation_reason"] = ["Say why no investigation is needed."]
    if complaint.is_reportable is not None and not complaint.reportability_reason.strip():
        errors["reportability_reason"] = ["Give the reason for the reportability decision."]
    if errors:
        raise ValidationFailed("The regulatory decision is incomplete.", field_errors=errors)


# --- Complaints ----------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "description",
    "channel",
    "customer",
    "product",
    "category",
    "severity",
    "lot_number",
    "udi",
    "assignee",
    "received_at",
    "investigation_required",
    "no_investigation_reason",
    "is_reportable",
    "reportability_reason",
)
TRIAGE_FIELDS = {"investigation_required", "no_investigation_reason", "is_reportable", "reportability_reason"}


def _check_received_at(received_at, *, now) -> None:
    if received_at is None:
        raise ValidationFailed.on("received_at", "When was the complaint received?")
    if timezone.is_naive(received_at):
        raise ValidationFailed.on("received_at", "Give the time with its time zone.")
    if received_at > now + CLOCK_SKEW:
        raise ValidationFailed.on("received_at", "The received time cannot be in the future.")


def _check_assignee(assignee) -> None:
    if assignee is not None and not (assignee.is_active and qms_roles.has_role(assignee, *qms_roles.QUALITY)):
        raise ValidationFailed.on("assignee", "Assign the complaint to an active member of the quality team.")


@transaction.atomic
def complaint_create(
    *,
    actor,
    title: str,
    description: str,
    customer: Customer,
    channel: str = Channel.EMAIL,
    severity: str = Severity.MEDIUM,
    product: Product | None = None,
    category: Category | None = None,
    lot_number: str = "",
    udi: str = "",
    assignee=None,
    received_at=None,
    investigation_required: bool | None = None,
    no_investigation_reason: str = "",
    is_reportable: bool | None = None,
    reportability_reason: str = "",
    reason: str = "",
    public: bool = False,
) -> Complaint:
    """Log a complaint: reference, SLA deadlines from received_at, recurrence link, history."""
    now = timezone.now()
    if not public:
        _require_quality(actor)
    received_at = received_at or now
    _check_received_at(received_at, now=now)
    if not (title or "").strip():
        raise ValidationFailed.on("title", "Give the complaint a short title.")
    if not (description or "").strip():
        raise ValidationFailed.on("description", "Describe the complaint.")
    if severity not in Severity.values:
        raise ValidationFailed.on("severity", f"Choose one of: {', '.join(Severity.values)}.")
    if channel not in Channel.values:
        raise ValidationFailed.on("channel", f"Choose one of: {', '.join(Channel.values)}.")
    _check_assignee(assignee)
    complaint = Complaint(
        reference=allocate_reference("CMP", at=received_at),
        title=title.strip(),
        description=description.strip(),
        customer=customer,
        channel=channel,
        severity=severity,
        product=product,
        category=category,
        lot_number=lot_number.strip(),
        udi=udi.strip(),
        assignee=assignee,
        received_at=received_at,
        created_by=actor,
        created_at=now,
    )
    fields: list[str] = []
    apply_triage(
        complaint,
        fields=fields,
        actor=actor,
        investigation_required=investigation_required,
        no_investigation_reason=no_investigation_reason.strip(),
        is_reportable=is_reportable,
        reportability_reason=reportability_reason.strip(),
    )
    check_triage(complaint)
    compute_deadlines(complaint, fields=fields)
    recurrence = find_recurrence(complaint)
    if recurrence is not None:
        complaint.recurrence_of = recurrence
        complaint.is_recurring = True
    schedule_next_escalation(complaint, fields=fields, now=now)
    set_history(complaint, user=actor, reason=reason or "Complaint received", action="create")
    complaint.save()
    if assignee is not None and assignee != actor:
        _notify_assigned(complaint)
    return complaint


@transaction.atomic
def complaint_update(complaint: Complaint, *, actor, reason: str, version, **changes) -> Complaint:
    """Edit the record's fields (never its status); severity or received time changes move the
    deadlines. Needs the version the editor read and a reason for the audit trail."""
    _require_quality(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the complaint is changed.")
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    check_version(locked, version)
    if locked.status in (ComplaintStatus.CLOSED, ComplaintStatus.REJECTED):
        raise IllegalTransition(f"{locked} is {locked.get_status_display().lower()}; reopen it before changing it.")
    now = timezone.now()
    if "received_at" in changes:
        _check_received_at(changes["received_at"], now=now)
    if "assignee" in changes:
        _check_assignee(changes["assignee"])
    for name in ("title", "description"):
        if name in changes and not (changes[name] or "").strip():
            raise ValidationFailed.on(name, "This field is required.")
    fields: list[str] = []
    triage = {name: changes.pop(name) for name in list(changes) if name in TRIAGE_FIELDS}
    old_assignee_id = locked.assignee_id
    for name, value in changes.items():
        current = getattr(locked, name)
        if current != value:
            _set(locked, fields, name, value.strip() if isinstance(value, str) else value)
    apply_triage(locked, fields=fields, actor=actor, **triage)
    check_triage(locked)
    if {"severity", "received_at"} & set(fields):
        # Deadlines follow the new severity's policy, still counted from received_at (with history).
        compute_deadlines(locked, fields=fields)
    if {"severity", "received_at", "product", "category"} & set(fields):
        schedule_next_escalation(locked, fields=fields, now=now)
    if {"product", "category", "received_at"} & set(fields) and not locked.is_recurring:
        recurrence = find_recurrence(locked)
        if recurrence is not None:
            _set(locked, fields, "recurrence_of", recurrence)
            _set(locked, fields, "is_recurring", True)
    if fields:
        save_versioned(locked, actor=actor, reason=reason.strip(), fields=fields, action="update")
        if "assignee" in fields and locked.assignee_id and locked.assignee_id != old_assignee_id and locked.assignee != actor:
            _notify_assigned(locked)
    return locked


def complaint_transition(complaint, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    """Take a workflow step (the only way a complaint's status changes)."""
    return transition(
        COMPLAINT_WORKFLOW, complaint, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data
    )


def _notify_assigned(complaint: Complaint) -> None:
    notify(
        [complaint.assignee],
        subject=f"{complaint.reference} assigned to you: {complaint.title}"[:200],
        body=f"Severity {complaint.get_severity_display()}. First response due {_local(complaint.first_response_due)}.",
        url=complaint.get_absolute_url(),
    )


def _local(value) -> str:
    return timezone.localtime(value).strftime("%d %b %Y %H:%M") if value else "not set"


# --- Public intake ------------------------------------------------------------------------


@transaction.atomic
def complaint_submit_public(
    *, name: str, email: str, phone: str = "", organisation: str = "", title: str, description: str,
    product: Product | None = None, lot_number: str = "",
) -> Complaint:
    """A complaint from the public form: the customer is found by e-mail or created; the
    complaint is logged by the system user and lands in the team's queue as new."""
    actor = system_user()
    email = email.strip()
    customer = Customer.objects.filter(email__iexact=email).order_by("-id").first() if email else None
    if customer is None:
        customer = Customer(name=name.strip(), email=email, phone=phone.strip(), organisation=organisation.strip())
        set_history(customer, user=actor, reason="Public complaint form", action="create")
        customer.save()
    complaint = complaint_create(
        actor=actor,
        title=title,
        description=description,
        customer=customer,
        channel=Channel.WEB_FORM,
        product=product,
        lot_number=lot_number,
        reason="Submitted through the public complaint form",
        public=True,
    )
    # The receipt is the first reply to the customer, so it goes into the communication log too.
    receipt = (
        f"Dear {customer.name},\n\nthank you for telling us about: {complaint.title}\n\nYour tracking reference is "
        f"{complaint.reference}. Please quote it when you contact us. A member of our quality team will "
        f"reply to you.\n\n{settings.QMS_ORGANISATION_NAME}"
    )
    if email:
        email_outside_user(to_email=email, subject=f"We received your complaint {complaint.reference}", body=receipt)
        receipt_entry = Communication(
            complaint=complaint, direction=Communication.Direction.OUTBOUND, channel=Channel.EMAIL, author=actor,
            summary=f"Automatic receipt e-mailed to {email} with the tracking reference.",
        )
        set_history(receipt_entry, user=actor, reason="Receipt sent to the customer with the tracking reference")
        receipt_entry.save()
    managers = get_user_model().objects.filter(groups__name=qms_roles.MANAGER, is_active=True)
    notify(
        managers,
        subject=f"New complaint from the web form: {complaint.reference}",
        body=f"{customer}: {complaint.title}",
        url=complaint.get_absolute_url(),
    )
    return complaint


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
                # The few policies and the batch's assignees (with their managers) in one query
                # each, shared by their complaints: a join would build them again for each row.
                policies = sla_policies().in_bulk()
                people = get_user_model().objects.select_related("manager").in_bulk({c.assignee_id for c in due} - {None})
                for complaint in due:
                    if complaint.sla_policy_id in policies:
                        complaint.sla_policy = policies[complaint.sla_policy_id]
                    if complaint.assignee_id in people:
                        complaint.assignee = people[complaint.assignee_id]
            total += _escalate_batch(due, now=moment, actor=actor, calendar_cache=calendar_cache, recipients=recipients)
        if len(due) < batch_size:
            break
    return total


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


def sniff_upload(uploaded_file) -> tuple[str, str]:
    """(extension, content type) of an upload, or ValidationFailed: size and type are checked
    on the bytes, so a renamed executable is refused."""
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
    head = uploaded_file.read(8192)
    uploaded_file.seek(0)
    if extension in TEXT_EXTENSIONS:
        if b"\x00" in head:
            raise ValidationFailed.on("file", "The file's content does not match its name.")
        return extension, TEXT_EXTENSIONS[extension]
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_UPLOADS[extension]:
        raise ValidationFailed.on("file", "The file's content does not match its name.")
    return extension, kind.mime if kind.mime != "application/zip" else next(iter(sorted(ALLOWED_UPLOADS[extension])))


@transaction.atomic
def attachment_add(*, complaint: Complaint, actor, uploaded_file, description: str = "") -> Attachment:
    _require_quality(actor)
    _extension, content_type = sniff_upload(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    name = (uploaded_file.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    attachment = Attachment(
        complaint=complaint,
        file=uploaded_file,
        original_name=name,
        content_type=content_type,
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
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


# --- Customers, products, categories -------------------------------------------------------


@transaction.atomic
def customer_create(*, actor, name: str, organisation: str = "", email: str = "", phone: str = "", address: str = "") -> Customer:
    _require_quality(actor)
    if not (name or "").strip():
        raise ValidationFailed.on("name", "The customer needs a name.")
    customer = Customer(name=name.strip(), organisation=organisation.strip(), email=email.strip(), phone=phone.strip(), address=address.strip())
    set_history(customer, user=actor, reason="Customer created", action="create")
    customer.save()
    return customer


@transaction.atomic
def customer_update(customer: Customer, *, actor, version, reason: str = "", **changes) -> Customer:
    _require_quality(actor)
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    check_version(locked, version)
    fields = []
    for name in ("name", "organisation", "email", "phone", "address"):
        if name in changes and getattr(locked, name) != changes[name]:
            _set(locked, fields, name, (changes[name] or "").strip())
    if not locked.name:
        raise ValidationFailed.on("name", "The customer needs a name.")
    if fields:
        save_versioned(locked, actor=actor, reason=reason or "Customer details updated", fields=fields, action="update")
    return locked


@transaction.atomic
def product_create(*, actor, code: str, name: str) -> Product:
    _require_quality(actor)
    if Product.objects.filter(code__iexact=code.strip()).exists():
        raise ValidationFailed.on("code", "A product with this code exists already.")
    product = Product(code=code.strip(), name=name.strip())
    set_history(product, user=actor, reason="Product created", action="create")
    product.save()
    return product


@transaction.atomic
def category_create(*, actor, name: str, description: str = "") -> Category:
    _require_manager(actor, "maintains the list of categories")
    if Category.objects.filter(name__iexact=name.strip()).exists():
        raise ValidationFailed.on("name", "This category exists already.")
    category = Category(name=name.strip(), description=description.strip())
    set_history(category, user=actor, reason="Category created", action="create")
    category.save()
    return category


@transaction.atomic
def sla_policy_update(policy: SlaPolicy, *, actor, version, reason: str, **changes) -> SlaPolicy:
    """Quality Managers set the targets. Existing complaints keep the deadlines they were given
    when received (they are stored); new and re-triaged complaints use the new targets."""
    _require_manager(actor, "sets SLA policies")
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the policy changes.")
    locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    check_version(locked, version)
    fields = []
    for name in ("first_response_hours", "resolution_hours", "counts_business_time", "calendar", "escalation_steps"):
        if name in changes and getattr(locked, name) != changes[name]:
            _set(locked, fields, name, changes[name])
    if "escalation_steps" in changes:
        validate_escalation_steps(changes["escalation_steps"])
    for name in ("first_response_hours", "resolution_hours"):
        if name in changes and (changes[name] is None or Decimal(changes[name]) < Decimal("0.25")):
            raise ValidationFailed.on(name, "At least 0.25 hours.")
    if fields:
        save_versioned(locked, actor=actor, reason=reason.strip(), fields=fields, action="update")
    return locked


def _require_manager(actor, what: str) -> None:
    if not qms_roles.has_role(actor, qms_roles.MANAGER) or qms_roles.is_read_only(actor):
        raise NotAllowed(f"Only a Quality Manager {what}.")


@transaction.atomic
def holiday_add(*, actor, calendar: BusinessCalendar, date, name: str) -> Holiday:
    """A day off on a business calendar. Deadlines already stored stay as they are."""
    _require_manager(actor, "maintains the business calendars")
    if not (name or "").strip():
        raise ValidationFailed.on("name", "Name the holiday.")
    if Holiday.objects.filter(calendar=calendar, date=date).exists():
        raise ValidationFailed.on("date", "This day is a holiday on this calendar already.")
    holiday = Holiday(calendar=calendar, date=date, name=name.strip())
    set_history(holiday, user=actor, reason="Holiday added", action="create")
    holiday.save()
    return holiday


@transaction.atomic
def calendar_update(calendar: BusinessCalendar, *, actor, version, reason: str, **changes) -> BusinessCalendar:
    _require_manager(actor, "maintains the business calendars")
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the calendar changes.")
    locked = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    check_version(locked, version)
    fields = []
    for name in ("name", "time_zone", "working_days", "working_periods"):
        if name in changes and getattr(locked, name) != changes[name]:
            _set(locked, fields, name, changes[name])
    try:
        locked.full_clean(exclude=["version"])
    except DjangoValidationError as exc:
        raise ValidationFailed("The calendar is not valid.", field_errors=exc.message_dict) from None
    if fields:
        save_versioned(locked, actor=actor, reason=reason.strip(), fields=fields, action="update")
    return locked


NOTIFY_TARGETS = {"assignee", "assignee_manager", "quality_managers", "head_of_quality"}


def validate_escalation_steps(steps) -> None:
    if not isinstance(steps, list):
        raise ValidationFailed.on("escalation_steps", "A list of steps.")
    levels = []
    for step in steps:
        if not isinstance(step, dict) or set(step) - {"level", "percent", "notify"}:
            raise ValidationFailed.on("escalation_steps", 'Each step is {"level": 1, "percent": 75, "notify": ["assignee"]}.')
        level, percent, targets = step.get("level"), step.get("percent"), step.get("notify", [])
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 9:
            raise ValidationFailed.on("escalation_steps", "level is a whole number from 1 to 9.")
        if not isinstance(percent, int) or isinstance(percent, bool) or not 1 <= percent <= 1000:
            raise ValidationFailed.on("escalation_steps", "percent is a whole number from 1 to 1000.")
        if not isinstance(targets, list) or not targets or set(targets) - NOTIFY_TARGETS:
            raise ValidationFailed.on("escalation_steps", f"notify lists some of: {', '.join(sorted(NOTIFY_TARGETS))}.")
        levels.append(level)
    if len(set(levels)) != len(levels):
        raise ValidationFailed.on("escalation_steps", "Each level appears once.")


# --- Surveys -------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def survey_invite(*, complaint: Complaint, now=None) -> Survey | None:
    """Create the one-time survey invitation and queue its e-mail (outbox, sent on commit).
    One survey per complaint: a complaint resolved again after a reopen is not surveyed twice."""
    now = now or timezone.now()
    email = complaint.customer.email
    if not email or complaint.surveys.exists():
        return None
    token = secrets.token_urlsafe(32)
    survey = Survey(
        complaint=complaint, email=email, token_hash=token_digest(token), sent_at=now,
        expires_at=now + timedelta(days=SURVEY_VALID_DAYS),
    )
    set_history(survey, user=system_user(), reason=f"Survey invitation e-mailed to {email}")
    survey.save()
    link = f"{settings.SITE_URL}{reverse('complaints:survey', args=[token])}"
    email_outside_user(
        to_email=email,
        subject=f"How did we handle your complaint {complaint.reference}?",
        body=(
            f"Dear {complaint.customer.name},\n\nyour complaint {complaint.reference} ({complaint.title}) has been "
            f"resolved. Please tell us in one minute how we did:\n\n{link}\n\nThe link works once and "
            f"expires on {timezone.localtime(survey.expires_at):%d %B %Y}.\n\n{settings.QMS_ORGANISATION_NAME}"
        ),
    )
    return survey


class SurveyState:
    OPEN = "open"
    UNKNOWN = "unknown"
    ANSWERED = "answered"
    EXPIRED = "expired"


def survey_by_token(token: str, *, now=None, lock: bool = False) -> tuple[Survey | None, str]:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None, SurveyState.UNKNOWN
    queryset = Survey.objects.select_related("complaint")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    survey = queryset.filter(token_hash=token_digest(token)).first()
    if survey is None:
        return None, SurveyState.UNKNOWN
    if survey.is_answered:
        return survey, SurveyState.ANSWERED
    if survey.is_expired(now):
        return survey, SurveyState.EXPIRED
    return survey, SurveyState.OPEN


def _score(value, name: str, low: int, high: int) -> int:
    """A whole number in [low, high], sent as a number or as its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 2:
        number = int(value.strip())
    else:
        raise ValidationFailed.on(name, f"Choose a number from {low} to {high}.")
    if not low <= number <= high:
        raise ValidationFailed.on(name, f"Choose a number from {low} to {high}.")
    return number


@transaction.atomic
def survey_answer(*, token: str, csat, ces, nps, comment: str = "", now=None) -> Survey:
    """Record the customer's answer once; a used or expired token is refused (IllegalTransition)."""
    now = now or timezone.now()
    survey, state = survey_by_token(token, now=now, lock=True)
    if state == SurveyState.UNKNOWN:
        raise ValidationFailed("This survey link is not valid.")
    if state != SurveyState.OPEN:
        raise IllegalTransition(f"This survey is {state}.")
    errors = {}
    values = {}
    for name, low, high, value in (("csat", 1, 5, csat), ("ces", 1, 7, ces), ("nps", 0, 10, nps)):
        try:
            values[name] = _score(value, name, low, high)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
    comment = (comment or "").strip()
    if len(comment) > 4000:
        errors["comment"] = ["At most 4000 characters."]
    if errors:
        raise ValidationFailed("Please answer every question.", field_errors=errors)
    survey.csat, survey.ces, survey.nps = values["csat"], values["ces"], values["nps"]
    survey.comment = comment
    survey.answered_at = now
    # The customer has no login: the named system user writes what they answered.
    set_history(survey, user=system_user(), reason="Answered by the customer through the one-time survey link")
    survey.save(update_fields=["csat", "ces", "nps", "comment", "answered_at"])
    return survey
