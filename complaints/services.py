"""Every write of the complaints app (docs/style.md "services.py"): views, the API, tasks, the demo
data and the admin call these; none of them writes complaint state by itself.

Deadlines are stored as columns (docs/architecture.md rule 4): `first_response_due` and
`resolution_due` when the complaint is received (recomputed when its severity or received time
changes, and when a pause ends), and `next_escalation_at`, the earliest escalation step not yet
taken, which the sweep selects with one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
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
    FailureMode,
    Holiday,
    NoInvestigationBasis,
    Product,
    Severity,
    SlaPolicy,
    Survey,
)
from complaints.workflow import COMPLAINT_WORKFLOW, ComplaintStatus, data_text, data_yes_no
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import bulk_history, save_versioned_bulk, set_history
from qms.notifications import email_outside_user, notify, notify_many
from qms.reasons import person_reason
from qms.references import allocate_reference
from qms.services import system_user
from qms.uploads import refuse_dangerous_content
from qms.versioning import check_version, save_versioned
from qms.workflow import TransitionContext, transition

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


def terms_of(complaint: Complaint) -> sla.Terms | None:
    """The SLA terms the complaint was given (decision 0022). A complaint stored before the
    terms were kept with it falls back to its policy as it is now."""
    if complaint.sla_terms:
        return sla.Terms.from_json(complaint.sla_terms)
    policy = policy_of(complaint)
    return sla.Terms.from_policy(policy) if policy is not None else None


def business_calendars():
    """Business calendars with, on PostgreSQL, their holidays as an array in the same row."""
    calendars = BusinessCalendar.objects.all()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        calendars = calendars.annotate(
            holiday_dates=ArraySubquery(Holiday.objects.filter(calendar=OuterRef("pk")).values("date"))
        )
    return calendars


def load_calendars(calendar_ids, cache: dict) -> None:
    """Put the sla.Calendar of each id not in `cache` yet into it (one query for all of them)."""
    missing = {pk for pk in calendar_ids if pk is not None and pk not in cache}
    if not missing:
        return
    for calendar in business_calendars().filter(pk__in=missing):
        holidays = getattr(calendar, "holiday_dates", None)
        if holidays is None:
            holidays = list(calendar.holidays.values_list("date", flat=True))
        cache[calendar.pk] = sla.Calendar.from_model(calendar, holidays=holidays)


def terms_calendar(complaint: Complaint, terms: sla.Terms | None, cache: dict | None = None) -> sla.Calendar | None:
    """The business calendar the complaint's terms count on, or None for elapsed hours. The
    calendar is the team's working time, read as it is now (holidays declared later count)."""
    if terms is None or not terms.counts_business_time or terms.calendar_id is None:
        return None
    if cache is None:
        cache = complaint.__dict__.setdefault("_sla_calendars", {})
    if terms.calendar_id not in cache:
        policy = complaint.sla_policy if Complaint._meta.get_field("sla_policy").is_cached(complaint) else None
        if policy is not None and policy.calendar_id == terms.calendar_id:
            calendar_for(policy, cache)  # the policy row read already carries this calendar
        else:
            load_calendars([terms.calendar_id], cache)
    return cache.get(terms.calendar_id)


def _set(complaint, fields: set | list, name: str, value) -> None:
    setattr(complaint, name, value)
    if isinstance(fields, set):
        fields.add(name)
    elif name not in fields:
        fields.append(name)


def compute_deadlines(complaint: Complaint, *, fields, calendar_cache: dict | None = None, new_terms: bool = True) -> None:
    """Store both deadlines, counted from received_at. With `new_terms` (receipt, a severity
    change) the terms are taken from the severity's policy as it is now and stored with the
    complaint; without (a corrected received time) the stored terms are kept."""
    if new_terms or not complaint.sla_terms:
        policy = sla_policies().filter(severity=complaint.severity).first()
        _set(complaint, fields, "sla_policy", policy)
        terms = sla.Terms.from_policy(policy) if policy is not None else None
        _set(complaint, fields, "sla_terms", terms.to_json() if terms is not None else {})
        if policy is not None:
            calendar_for(policy, complaint.__dict__.setdefault("_sla_calendars", {}) if calendar_cache is None else calendar_cache)
    else:
        terms = terms_of(complaint)
    if terms is None:
        _set(complaint, fields, "first_response_due", None)
        _set(complaint, fields, "resolution_due", None)
        return
    calendar = terms_calendar(complaint, terms, calendar_cache)
    _set(complaint, fields, "first_response_due", sla.add_hours(complaint.received_at, terms.first_response_hours, calendar))
    _set(
        complaint,
        fields,
        "resolution_due",
        sla.add_hours(complaint.received_at, terms.resolution_hours + complaint.sla_paused_hours, calendar),
    )


def escalation_thresholds(complaint: Complaint, *, status: str | None = None, calendar_cache: dict | None = None):
    """(kind, level, percent, notify, due_at) of every step that still applies to the complaint:
    first-response steps until it is acknowledged, resolution steps while it is worked on and
    not paused. Counted on the complaint's stored terms."""
    terms = terms_of(complaint)
    status = status or complaint.status
    if terms is None or not terms.escalation_steps:
        return []
    calendar = terms_calendar(complaint, terms, calendar_cache)
    kinds = []
    if status == ComplaintStatus.NEW and complaint.acknowledged_at is None:
        kinds.append((Escalation.Kind.FIRST_RESPONSE, terms.first_response_hours, Decimal("0")))
    if status in (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING):
        kinds.append((Escalation.Kind.RESOLUTION, terms.resolution_hours, complaint.sla_paused_hours))
    thresholds = []
    for kind, hours, paused in kinds:
        for step in terms.escalation_steps:
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
    """The customer answered: the paused working time moves the resolution deadline on, on the
    terms the complaint was given (a policy edited meanwhile does not shorten it)."""
    if complaint.sla_paused_at is None:
        return
    terms = terms_of(complaint)
    calendar = terms_calendar(complaint, terms)
    paused = sla.hours_between(complaint.sla_paused_at, now, calendar)
    _set(complaint, fields, "sla_paused_hours", complaint.sla_paused_hours + paused)
    _set(complaint, fields, "sla_paused_at", None)
    if terms is not None:
        _set(
            complaint,
            fields,
            "resolution_due",
            sla.add_hours(complaint.received_at, terms.resolution_hours + complaint.sla_paused_hours, calendar),
        )


RECURRENCE_KEY_PARTS = {"product": "product_id", "failure_mode": "failure_mode_id", "category": "category_id", "lot": "lot_number"}


def recurrence_key_parts() -> list[str]:
    """The parts of the recurrence key, from settings.COMPLAINT_RECURRENCE_KEY (decision 0023)."""
    parts = [part.strip() for part in str(settings.COMPLAINT_RECURRENCE_KEY).split(",") if part.strip()]
    unknown = set(parts) - set(RECURRENCE_KEY_PARTS)
    if not parts or unknown:
        raise ImproperlyConfigured(
            f"COMPLAINT_RECURRENCE_KEY lists some of {', '.join(RECURRENCE_KEY_PARTS)}; got {settings.COMPLAINT_RECURRENCE_KEY!r}."
        )
    return parts


def recurrence_key_for(complaint: Complaint) -> str:
    """"product=3|failure_mode=12" (the configured parts, in that order); "" when a part is
    missing, so a complaint without a failure mode is matched with nothing."""
    values = []
    for part in recurrence_key_parts():
        value = getattr(complaint, RECURRENCE_KEY_PARTS[part])
        value = value.strip().upper() if isinstance(value, str) else value
        if value in (None, ""):
            return ""
        values.append(f"{part}={value}")
    return "|".join(values)[:200]


def counts_for_recurrence(complaint: Complaint, *, status: str | None = None) -> bool:
    """selectors.recurrence_counted() on one row: not rejected, not closed as no product problem.
    `status`: the state the complaint is entering, when a workflow step asks."""
    status = status or complaint.status
    if status == ComplaintStatus.REJECTED:
        return False
    return not (status == ComplaintStatus.CLOSED and complaint.is_product_problem is False)


def find_recurrence(complaint: Complaint, *, status: str | None = None, excluding=()) -> Complaint | None:
    """The latest complaint with the same recurrence key received within the window before this
    one (ISO 9001 10.2.1 c: determine whether similar nonconformities exist)."""
    from complaints.selectors import complaint_repeats

    key = recurrence_key_for(complaint)
    if not key or not counts_for_recurrence(complaint, status=status):
        return None
    since = complaint.received_at - timedelta(days=recurrence_window_days())
    return (
        complaint_repeats({key}, since=since, until=complaint.received_at)
        .exclude(pk__in=[complaint.pk, *excluding])
        .order_by("-received_at", "-id")
        .first()
    )


def refresh_recurrence(complaint: Complaint, *, fields, status: str | None = None, excluding=()) -> None:
    """Recompute the key and the link to the earlier complaint it repeats (on intake, when the
    key's fields change, and when the complaint is rejected, closed or reopened)."""
    key = recurrence_key_for(complaint)
    if complaint.recurrence_key != key:
        _set(complaint, fields, "recurrence_key", key)
    earlier = find_recurrence(complaint, status=status, excluding=excluding)
    if complaint.recurrence_of_id != (earlier.pk if earlier else None):
        _set(complaint, fields, "recurrence_of", earlier)
    if complaint.is_recurring != (earlier is not None):
        _set(complaint, fields, "is_recurring", earlier is not None)


def relink_repeats_of(complaint: Complaint, *, actor, status: str) -> None:
    """A complaint that stops counting (rejected, closed as no product problem) is no longer
    the earlier occurrence of the complaints linked to it: link them again, with history."""
    if counts_for_recurrence(complaint, status=status):
        return
    for later in Complaint.objects.select_for_update().filter(recurrence_of_id=complaint.pk).order_by("received_at", "id"):
        fields: list[str] = []
        refresh_recurrence(later, fields=fields, excluding=(complaint.pk,))
        if fields:
            save_versioned(
                later, actor=actor, reason=f"Recurrence link updated: {complaint.reference} no longer counts", fields=fields,
                action="update",
            )


def _check_failure_mode(failure_mode, category):
    """The failure mode is active and belongs to the category; the category it implies when none."""
    if failure_mode is None:
        return category
    if not failure_mode.is_active:
        raise ValidationFailed.on("failure_mode", "This failure mode is no longer in use; choose another.")
    if category is not None and failure_mode.category_id != category.pk:
        raise ValidationFailed.on("failure_mode", f"{failure_mode.name!r} is not a failure mode of {category.name}.")
    return category or failure_mode.category


TRIAGE_DECISION_FIELDS = ("investigation_required", "no_investigation_reason", "no_investigation_reference")
REPORTABILITY_FIELDS = ("is_reportable", "reportability_reason")


def complaint_by_reference(value) -> Complaint | None:
    """A complaint named by the user: the row, its id, or its reference (CMP-2026-00042)."""
    if value is None or value == "":
        return None
    if isinstance(value, Complaint):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        found = Complaint.objects.filter(pk=value).first()
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 12:
        found = Complaint.objects.filter(pk=int(value.strip())).first()
    elif isinstance(value, str) and len(value.strip()) <= 20:
        found = Complaint.objects.filter(reference__iexact=value.strip()).first()
    else:
        found = None
    if found is None:
        raise ValidationFailed.on("no_investigation_reference", f"No complaint {str(value)[:40]!r} is known.")
    return found


def apply_triage(complaint: Complaint, *, fields, actor, **decision) -> None:
    """Set the regulated triage fields and who decided, when they change. The basis of a "no
    investigation" decision is derived: the earlier complaint it names, else the written text."""
    if "no_investigation_reference" in decision:
        decision["no_investigation_reference"] = complaint_by_reference(decision["no_investigation_reference"])
    if any(name in decision for name in TRIAGE_DECISION_FIELDS):
        changed = False
        for name in TRIAGE_DECISION_FIELDS:
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if complaint.investigation_required is False:
            basis = (
                NoInvestigationBasis.EARLIER_INVESTIGATION
                if complaint.no_investigation_reference_id
                else NoInvestigationBasis.JUSTIFICATION
            )
        else:
            basis = ""
            if complaint.no_investigation_reference_id is not None:
                _set(complaint, fields, "no_investigation_reference", None)
        if complaint.no_investigation_basis != basis:
            _set(complaint, fields, "no_investigation_basis", basis)
        if changed:
            _set(complaint, fields, "investigation_decided_by", actor)
    if any(name in decision for name in REPORTABILITY_FIELDS):
        changed = False
        for name in REPORTABILITY_FIELDS:
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if changed:
            _set(complaint, fields, "reportability_decided_by", actor)


REPORTABLE_NEEDS_INVESTIGATION = (
    "A reportable complaint must be investigated (21 CFR 820.198(d)): set \"investigation required\" to yes."
)
NO_INVESTIGATION_NEEDS_BASIS = (
    "Name the earlier complaint that was investigated for the same problem, or give a written justification."
)


def triage_errors(
    complaint: Complaint,
    *,
    investigation_required,
    no_investigation_reason: str,
    no_investigation_reference,
    is_reportable,
    reportability_reason: str,
    closing: bool = False,
) -> dict[str, list[str]]:
    """The one rule of the regulatory decision (21 CFR 820.198(b), (d); QMSR 820.35), checked
    when it is recorded (create, edit, API) and again at closure, where it must be complete."""
    errors: dict[str, list[str]] = {}
    if investigation_required is None and closing:
        errors["investigation_required"] = ["Record whether an investigation was required."]
    if investigation_required is False:
        if is_reportable is True:
            errors["investigation_required"] = [REPORTABLE_NEEDS_INVESTIGATION]
        if no_investigation_reference is not None:
            earlier = no_investigation_reference
            if earlier.pk == complaint.pk:
                errors["no_investigation_reference"] = ["Name another complaint, not this one."]
            elif earlier.investigation_required is not True or earlier.status == ComplaintStatus.REJECTED:
                errors["no_investigation_reference"] = [f"{earlier.reference} was not investigated; name one that was."]
            elif complaint.received_at and earlier.received_at > complaint.received_at:
                errors["no_investigation_reference"] = [f"{earlier.reference} was received after this complaint."]
        elif not (no_investigation_reason or "").strip():
            errors["no_investigation_reason"] = [NO_INVESTIGATION_NEEDS_BASIS]
    if is_reportable is None and closing:
        errors["is_reportable"] = ["Record whether the complaint is reportable to a regulator."]
    elif is_reportable is not None and not (reportability_reason or "").strip():
        errors["reportability_reason"] = ["Give the reason for the reportability decision."]
    return errors


def check_triage(complaint: Complaint, *, closing: bool = False) -> None:
    """triage_errors() on the decision stored on the row; ValidationFailed when incomplete."""
    errors = triage_errors(
        complaint,
        investigation_required=complaint.investigation_required,
        no_investigation_reason=complaint.no_investigation_reason,
        no_investigation_reference=complaint.no_investigation_reference,
        is_reportable=complaint.is_reportable,
        reportability_reason=complaint.reportability_reason,
        closing=closing,
    )
    if errors:
        message = errors.get("investigation_required", ["The regulatory decision is incomplete."])[0]
        raise ValidationFailed(message, field_errors=errors)


# --- Complaints ----------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "description",
    "channel",
    "customer",
    "product",
    "category",
    "failure_mode",
    "severity",
    "lot_number",
    "udi",
    "assignee",
    "received_at",
    "investigation_required",
    "no_investigation_reason",
    "no_investigation_reference",
    "is_reportable",
    "reportability_reason",
    "is_product_problem",
)
TRIAGE_FIELDS = {*TRIAGE_DECISION_FIELDS, *REPORTABILITY_FIELDS}


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
    failure_mode: FailureMode | None = None,
    lot_number: str = "",
    udi: str = "",
    assignee=None,
    received_at=None,
    investigation_required: bool | None = None,
    no_investigation_reason: str = "",
    no_investigation_reference=None,
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
    category = _check_failure_mode(failure_mode, category)
    complaint = Complaint(
        reference=allocate_reference("CMP", at=received_at),
        title=title.strip(),
        description=description.strip(),
        customer=customer,
        channel=channel,
        severity=severity,
        product=product,
        category=category,
        failure_mode=failure_mode,
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
        no_investigation_reference=no_investigation_reference,
        is_reportable=is_reportable,
        reportability_reason=reportability_reason.strip(),
    )
    check_triage(complaint)
    compute_deadlines(complaint, fields=fields)
    refresh_recurrence(complaint, fields=fields)
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
    reason = person_reason(reason, ask="Say why the complaint is changed.")
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
    if "failure_mode" in changes or "category" in changes:
        failure_mode = changes.get("failure_mode", locked.failure_mode)
        category = changes.get("category", locked.category)
        if "failure_mode" not in changes and failure_mode is not None and (category is None or failure_mode.category_id != category.pk):
            changes["failure_mode"] = None  # re-categorised: the old failure mode no longer applies
        elif failure_mode is not None and failure_mode.pk != locked.failure_mode_id:
            changes["category"] = _check_failure_mode(failure_mode, category)
        elif failure_mode is not None and category is not None and failure_mode.category_id != category.pk:
            raise ValidationFailed.on("failure_mode", f"{failure_mode.name!r} is not a failure mode of {category.name}.")
    if "is_product_problem" in changes and changes["is_product_problem"] not in (None, True, False):
        raise ValidationFailed.on("is_product_problem", "Must be yes, no or empty.")
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
        # A new severity takes that severity's terms as they are now; a corrected received time
        # keeps the terms and counts them from the new time (both with history).
        compute_deadlines(locked, fields=fields, new_terms="severity" in fields)
    if {"severity", "received_at", "product", "category"} & set(fields):
        schedule_next_escalation(locked, fields=fields, now=now)
    if {"product", "category", "failure_mode", "lot_number", "received_at", "is_product_problem"} & set(fields):
        refresh_recurrence(locked, fields=fields)
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
    product: Product | None = None, lot_number: str = "", failure_mode: FailureMode | None = None,
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
        failure_mode=failure_mode,
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
    reason = person_reason(reason, ask="Say why the customer's details change.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    check_version(locked, version)
    fields = []
    for name in ("name", "organisation", "email", "phone", "address"):
        if name in changes and getattr(locked, name) != changes[name]:
            _set(locked, fields, name, (changes[name] or "").strip())
    if not locked.name:
        raise ValidationFailed.on("name", "The customer needs a name.")
    if fields:
        save_versioned(locked, actor=actor, reason=reason, fields=fields, action="update")
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
def failure_mode_create(*, actor, category: Category, name: str, description: str = "") -> FailureMode:
    """Add a failure mode under a category (the managed list recurrence is matched on)."""
    _require_manager(actor, "maintains the list of failure modes")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.on("name", "Name the failure mode.")
    if len(name) > 120:
        raise ValidationFailed.on("name", "At most 120 characters.")
    if category is None:
        raise ValidationFailed.on("category", "Choose the category it belongs to.")
    if FailureMode.objects.filter(category=category, name__iexact=name).exists():
        raise ValidationFailed.on("name", f"{category.name} has this failure mode already.")
    failure_mode = FailureMode(category=category, name=name, description=(description or "").strip()[:300])
    set_history(failure_mode, user=actor, reason="Failure mode created", action="create")
    failure_mode.save()
    return failure_mode


@transaction.atomic
def failure_mode_update(failure_mode: FailureMode, *, actor, version, reason: str, **changes) -> FailureMode:
    """Rename, describe or retire a failure mode (complaints keep theirs; the key is its id)."""
    _require_manager(actor, "maintains the list of failure modes")
    if not (reason or "").strip():
        raise ValidationFailed.on("reason", "Say why the failure mode changes.")
    locked = FailureMode.objects.select_for_update().get(pk=failure_mode.pk)
    check_version(locked, version)
    fields: list[str] = []
    for name in ("name", "description", "is_active"):
        if name in changes and getattr(locked, name) != changes[name]:
            _set(locked, fields, name, changes[name].strip() if isinstance(changes[name], str) else changes[name])
    if not locked.name:
        raise ValidationFailed.on("name", "Name the failure mode.")
    if "name" in fields and FailureMode.objects.filter(category_id=locked.category_id, name__iexact=locked.name).exclude(pk=locked.pk).exists():
        raise ValidationFailed.on("name", "This category has this failure mode already.")
    if fields:
        save_versioned(locked, actor=actor, reason=reason.strip(), fields=fields, action="update")
    return locked


@transaction.atomic
def sla_policy_update(policy: SlaPolicy, *, actor, version, reason: str, **changes) -> SlaPolicy:
    """Quality Managers set the targets. Existing complaints keep the deadlines they were given
    when received (they are stored); new and re-triaged complaints use the new targets."""
    _require_manager(actor, "sets SLA policies")
    reason = person_reason(reason, ask="Say why the policy changes.")
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
def holiday_add(*, actor, calendar: BusinessCalendar, date, name: str, reason: str = "") -> Holiday:
    """A day off on a business calendar. Deadlines already stored stay as they are. A holiday
    moves every later business-time deadline, so it is a change with the manager's own reason."""
    _require_manager(actor, "maintains the business calendars")
    reason = person_reason(reason, ask="Say why this day is added as a holiday.")
    if not (name or "").strip():
        raise ValidationFailed.on("name", "Name the holiday.")
    if Holiday.objects.filter(calendar=calendar, date=date).exists():
        raise ValidationFailed.on("date", "This day is a holiday on this calendar already.")
    holiday = Holiday(calendar=calendar, date=date, name=name.strip())
    set_history(holiday, user=actor, reason=reason, action="create")
    holiday.save()
    return holiday


@transaction.atomic
def calendar_update(calendar: BusinessCalendar, *, actor, version, reason: str, **changes) -> BusinessCalendar:
    _require_manager(actor, "maintains the business calendars")
    reason = person_reason(reason, ask="Say why the calendar changes.")
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


# --- Workflow hooks ------------------------------------------------------------------------
# The steps of COMPLAINT_WORKFLOW that write beyond the record's own fields, registered under
# the names the workflow gives them (qms/workflow.py).


@COMPLAINT_WORKFLOW.hook("acknowledge")
def hook_acknowledge(ctx: TransitionContext) -> None:
    # The first response is when it happens, stored once (ISO 10002 8.3).
    if ctx.record.acknowledged_at is None:
        ctx.set("acknowledged_at", ctx.at)
    if ctx.record.assignee_id is None:
        ctx.set("assignee", ctx.actor)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="acknowledged")


@COMPLAINT_WORKFLOW.hook("wait_for_customer")
def hook_wait_for_customer(ctx: TransitionContext) -> None:
    # The resolution clock stops while the customer owes us an answer.
    ctx.set("sla_paused_at", ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="awaiting_customer")


@COMPLAINT_WORKFLOW.hook("resume")
def hook_resume(ctx: TransitionContext) -> None:
    end_pause(ctx.record, fields=ctx.update_fields, now=ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")


@COMPLAINT_WORKFLOW.hook("resolve")
def hook_resolve(ctx: TransitionContext) -> None:
    ctx.set("resolution", ctx.data["resolution"])
    ctx.set("resolved_at", ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="resolved")
    # The invitation row and its e-mail (outbox) are written in this transaction and sent on commit.
    survey_invite(complaint=ctx.record, now=ctx.at)


@COMPLAINT_WORKFLOW.hook("guard_close")
def hook_guard_close(ctx: TransitionContext) -> None:
    """Closure needs the complete regulatory decision (21 CFR 820.198(b), (d); QMSR 820.35(a)):
    whether an investigation was needed (and if not, which earlier investigation covers it or
    why not; never for a reportable complaint), and whether it is reportable (and why)."""
    record = ctx.record
    investigation = data_yes_no(ctx, "investigation_required")
    no_investigation_reason = data_text(ctx, "no_investigation_reason", 4000)
    reference = ctx.data.get("no_investigation_reference")
    reportable = data_yes_no(ctx, "is_reportable")
    reportability_reason = data_text(ctx, "reportability_reason", 4000)
    product_problem = data_yes_no(ctx, "is_product_problem")
    investigation = record.investigation_required if investigation is None else investigation
    no_investigation_reason = no_investigation_reason or record.no_investigation_reason
    if reference is None or reference == "":
        reference = record.no_investigation_reference
    else:
        reference = complaint_by_reference(reference)
    reportable = record.is_reportable if reportable is None else reportable
    reportability_reason = reportability_reason or record.reportability_reason
    errors = triage_errors(
        record,
        investigation_required=investigation,
        no_investigation_reason=no_investigation_reason,
        no_investigation_reference=reference if investigation is False else None,
        is_reportable=reportable,
        reportability_reason=reportability_reason,
        closing=True,
    )
    if errors:
        message = errors.get("investigation_required", ["The regulatory decision is incomplete."])[0]
        raise ValidationFailed(message, field_errors=errors)
    ctx.data.update(
        investigation_required=investigation,
        no_investigation_reason=no_investigation_reason,
        no_investigation_reference=reference,
        is_reportable=reportable,
        reportability_reason=reportability_reason,
        is_product_problem=record.is_product_problem if product_problem is None else product_problem,
    )


@COMPLAINT_WORKFLOW.hook("close")
def hook_close(ctx: TransitionContext) -> None:
    apply_triage(
        ctx.record,
        fields=ctx.update_fields,
        actor=ctx.actor,
        investigation_required=ctx.data["investigation_required"],
        no_investigation_reason=ctx.data["no_investigation_reason"],
        no_investigation_reference=ctx.data["no_investigation_reference"],
        is_reportable=ctx.data["is_reportable"],
        reportability_reason=ctx.data["reportability_reason"],
    )
    if ctx.record.is_product_problem != ctx.data["is_product_problem"]:
        ctx.set("is_product_problem", ctx.data["is_product_problem"])
    ctx.set("closed_at", ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="closed")
    # Closed as "not a product problem", it is no occurrence of one (issue 16 item 5).
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="closed")
    relink_repeats_of(ctx.record, actor=ctx.actor, status="closed")


@COMPLAINT_WORKFLOW.hook("reopen")
def hook_reopen(ctx: TransitionContext) -> None:
    # The earlier resolution and closure stay in the history; the record shows it is open again.
    ctx.set("resolved_at", None)
    ctx.set("closed_at", None)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="investigating")


@COMPLAINT_WORKFLOW.hook("reject")
def hook_reject(ctx: TransitionContext) -> None:
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="rejected")
    # Not a complaint: it repeats nothing and nothing repeats it (issue 16 item 5).
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="rejected")
    relink_repeats_of(ctx.record, actor=ctx.actor, status="rejected")
