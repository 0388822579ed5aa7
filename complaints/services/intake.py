"""Complaints: create, update, transition, and the public complaint form."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from complaints.models import (
    Category,
    Channel,
    Communication,
    Complaint,
    Customer,
    FailureMode,
    Product,
    Severity,
)
from complaints.services.common import CLOCK_SKEW, _require_quality
from complaints.services.deadlines import _set, compute_deadlines, schedule_next_escalation
from complaints.services.recurrence import refresh_recurrence
from complaints.services.triage import (
    REPORTABILITY_FIELDS,
    TRIAGE_DECISION_FIELDS,
    _check_failure_mode,
    apply_triage,
    check_triage,
)
from complaints.workflow import COMPLAINT_WORKFLOW, ComplaintStatus
from qms import roles as qms_roles
from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.notifications import email_outside_user, notify
from qms.reasons import person_reason
from qms.references import allocate_reference
from qms.services import system_user
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

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
