"""SLA policies, business calendars and a complaint's deadlines in business time (docs/architecture.md
rule 4): first response and resolution due, the next escalation step, pauses."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef

from complaints import sla
from complaints.models import (
    BusinessCalendar,
    Complaint,
    Escalation,
    Holiday,
    SlaPolicy,
)
from complaints.workflow import ComplaintStatus

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
