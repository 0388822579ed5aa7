"""Customers, products, categories and failure modes, SLA policies, business calendars and
escalation steps: the configuration complaints are recorded against."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from complaints.models import (
    BusinessCalendar,
    Category,
    Customer,
    FailureMode,
    Holiday,
    Product,
    SlaPolicy,
)
from complaints.services.common import _require_quality
from complaints.services.deadlines import _set
from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.history import set_history
from qms.reasons import person_reason
from qms.versioning import check_version, save_versioned

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
