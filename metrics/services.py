"""Every write of metrics: targets, alerts (raise once, clear on recovery, raise a CAPA),
daily snapshots, units shipped (form and CSV import), management reviews and their items.
Keyword-only, atomic, with the history user and reason set explicitly (docs/style.md)."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from metrics.kpis import (
    KPI_BY_CODE,
    KPIS,
    KpiValue,
    Period,
    compute_kpis,
    compute_kpis_for,
    first_activity_at,
    format_value,
    is_breached,
)
from metrics.models import (
    KpiAlert,
    KpiSnapshot,
    KpiTarget,
    ManagementReview,
    ReviewItem,
    ReviewItemKind,
    ShippedUnits,
)
from metrics.selectors import review_input_pack
from metrics.workflow import ALERT_WORKFLOW, REVIEW_ITEM_WORKFLOW, REVIEW_WORKFLOW, AlertStatus
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.input import service_text
from qms.notifications import notify
from qms.reasons import person_reason
from qms.references import allocate_reference
from qms.services import system_user
from qms.versioning import check_version, save_versioned
from qms.workflow import TransitionContext, transition

MAX_TEXT = 4000


def _require_manager(actor) -> None:
    if not qms_roles.may_act(actor, qms_roles.MANAGER):
        raise NotAllowed("Only Quality Managers may do this.")


def _require_quality(actor) -> None:
    if not qms_roles.may_act(actor, *qms_roles.QUALITY):
        raise NotAllowed("Your role may not do this.")


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed.on(field, "Enter a number.") from None
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        raise ValidationFailed.on(field, "Enter a finite number below 10 billion.")
    return number.quantize(Decimal("0.01"))


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    return service_text(
        value, field, required=required, max_length=max_length, not_text="Must be text.", too_long="At most {max_length} characters."
    )


def _owners(owners) -> list:
    owners = list(owners or [])
    for owner in owners:
        if not owner.is_active or not qms_roles.has_role(owner, *qms_roles.QUALITY):
            raise ValidationFailed.on("owners", f"{owner} is not an active member of the quality team.")
    return owners


# --- targets --------------------------------------------------------------------------------


def _check_target_values(kpi_code: str, target: Decimal, threshold: Decimal, window_days) -> int:
    kpi = KPI_BY_CODE.get(kpi_code)
    if kpi is None:
        raise ValidationFailed.on("kpi", "Choose a KPI from the list.")
    if kpi.unit == "%" and not (0 <= target <= 100 and 0 <= threshold <= 100):
        raise ValidationFailed.on("threshold", "Percentages lie between 0 and 100.")
    if kpi.direction == "up" and threshold > target:
        raise ValidationFailed.on("threshold", "For this KPI higher is better: the alert threshold must be at or below the target.")
    if kpi.direction == "down" and threshold < target:
        raise ValidationFailed.on("threshold", "For this KPI lower is better: the alert threshold must be at or above the target.")
    try:
        window = int(window_days)
    except (TypeError, ValueError):
        raise ValidationFailed.on("window_days", "Enter a whole number of days.") from None
    if not 1 <= window <= 366:
        raise ValidationFailed.on("window_days", "Between 1 and 366 days.")
    return window


@transaction.atomic
def target_create(*, actor, kpi: str, target, threshold, window_days: int = 30, owners=(), reason: str = "") -> KpiTarget:
    _require_manager(actor)
    target, threshold = _decimal(target, "target"), _decimal(threshold, "threshold")
    window = _check_target_values(kpi, target, threshold, window_days)
    if KpiTarget.objects.filter(kpi=kpi).exists():
        raise ValidationFailed.on("kpi", "This KPI has a target already: edit it.")
    record = KpiTarget(kpi=kpi, target=target, threshold=threshold, window_days=window, updated_by=actor)
    set_history(record, user=actor, reason=_text(reason, "reason") or "Target set", action="create")
    record.save()
    record.owners.set(_owners(owners))
    return record


@transaction.atomic
def target_update(record: KpiTarget, *, actor, reason: str, version, owners=None, **changes) -> KpiTarget:
    """Edit target, threshold, window, active flag or owners: a reason is required (regulated)."""
    _require_manager(actor)
    reason = _text(reason, "reason", required=True)
    locked = KpiTarget.objects.select_for_update().get(pk=record.pk)
    check_version(locked, version)
    unknown = set(changes) - {"target", "threshold", "window_days", "is_active"}
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}.")
    target = _decimal(changes.get("target", locked.target), "target")
    threshold = _decimal(changes.get("threshold", locked.threshold), "threshold")
    window = _check_target_values(locked.kpi, target, threshold, changes.get("window_days", locked.window_days))
    before = (locked.target, locked.threshold, locked.window_days, locked.is_active)
    locked.target, locked.threshold, locked.window_days = target, threshold, window
    locked.is_active = bool(changes.get("is_active", locked.is_active))
    new_owners = _owners(owners) if owners is not None else None
    same_owners = new_owners is None or {o.pk for o in new_owners} == set(locked.owners.values_list("pk", flat=True))
    if before == (locked.target, locked.threshold, locked.window_days, locked.is_active) and same_owners:
        # Saved unchanged: nothing to record, and who changed it last stays true (issue 15).
        return locked
    locked.updated_by, locked.updated_at = actor, timezone.now()
    save_versioned(
        locked, actor=actor, reason=reason, action="update",
        fields=["target", "threshold", "window_days", "is_active", "updated_by", "updated_at"],
    )
    if owners is not None:
        # After the save: simple-history writes the owners' change as one more entry, with the
        # same user and reason (set on the instance by save_versioned).
        locked.owners.set(new_owners)
    return locked


# --- alerts ---------------------------------------------------------------------------------


@dataclass
class EvaluationResult:
    raised: list[int]
    cleared: list[int]
    evaluated: int


def _kpis_by_window(targets, now) -> dict[int, dict[str, KpiValue]]:
    """The KPIs over each distinct window, all windows in the same few queries."""
    today = timezone.localdate(now)
    windows = sorted({t.window_days for t in targets})
    values = compute_kpis_for([Period.last_days(window, today=today) for window in windows], now=now)
    return dict(zip(windows, values, strict=True))


def evaluate_kpi_targets(*, now=None) -> EvaluationResult:
    """Raise an alert when an active target's KPI is past its threshold and none is open; clear
    the open alert when it has recovered. Idempotent: the partial unique index allows one open
    alert per target, so a second run (or a second worker) raises nothing new."""
    now = now or timezone.now()
    targets = list(KpiTarget.objects.filter(is_active=True).prefetch_related("owners"))
    values = _kpis_by_window(targets, now)
    raised, cleared = [], []
    open_alerts = {a.target_id: a for a in KpiAlert.objects.filter(status=AlertStatus.OPEN)}
    for target in targets:
        kpi = KPI_BY_CODE[target.kpi]
        current = values[target.window_days][target.kpi].value
        alert = open_alerts.get(target.pk)
        if alert is None and is_breached(kpi, current, target.threshold):
            created = alert_raise(target=target, value=current, now=now)
            if created is not None:
                raised.append(created.pk)
        elif (
            alert is not None and current is not None and not is_breached(kpi, current, target.threshold)
            and alert_clear(alert=alert, value=current)
        ):
            cleared.append(alert.pk)
    return EvaluationResult(raised=raised, cleared=cleared, evaluated=len(targets))


def alert_raise(*, target: KpiTarget, value: float, now=None) -> KpiAlert | None:
    """Create the open alert and notify the owners in one transaction; None if one is open."""
    kpi = KPI_BY_CODE[target.kpi]
    owners = list(target.owners.all()) or list(
        get_user_model().objects.filter(groups__name=qms_roles.MANAGER, is_active=True).distinct()
    )
    try:
        with transaction.atomic():
            alert = KpiAlert(
                target=target, kpi=target.kpi, raised_at=now or timezone.now(), value=value,
                threshold=target.threshold, window_days=target.window_days,
                notified=", ".join(sorted(u.username for u in owners))[:500],
            )
            set_history(alert, user=system_user(), reason="KPI crossed its threshold", action="raise")
            alert.save()
            side = "below" if kpi.direction == "up" else "above"
            notify(
                owners,
                subject=f"KPI alert: {kpi.label} is {format_value(kpi, value)} ({side} the threshold {target.threshold})",
                body=(
                    f"{kpi.label} over the last {target.window_days} days is {format_value(kpi, value)}; the alert "
                    f"threshold is {target.threshold} and the target {target.target}.\n{kpi.help}\n"
                    "Open the alert to raise a CAPA from it in one click."
                ),
                url=alert.get_absolute_url(),
            )
    except IntegrityError:
        return None  # another evaluation raised it first: the unique open alert holds
    return alert


def alert_clear(*, alert: KpiAlert, value: float) -> bool:
    try:
        transition(ALERT_WORKFLOW, alert, "clear", actor=system_user(),
                   reason=f"KPI recovered: {format_value(KPI_BY_CODE[alert.kpi], value)}", data={"value": value})
    except IllegalTransition:
        return False  # cleared meanwhile by another evaluation
    return True


@transaction.atomic
def alert_raise_capa(alert: KpiAlert, *, actor, owner=None, due_date: datetime.date | None = None):
    """One click: a corrective CAPA with source "KPI trend alert", linked to the alert."""
    from capa.models import Source
    from capa.services import capa_create

    _require_quality(actor)
    locked = KpiAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.capa_id:
        raise IllegalTransition(f"{locked.capa} was raised from this alert already.")
    kpi = KPI_BY_CODE[locked.kpi]
    side = "below" if kpi.direction == "up" else "above"
    capa = capa_create(
        actor=actor,
        owner=owner or actor,
        due_date=due_date or timezone.localdate() + datetime.timedelta(days=60),
        title=f"KPI alert: {kpi.label} {side} threshold"[:200],
        source=Source.KPI_TREND,
        problem_statement=(
            f"{kpi.label} over the {locked.window_days} days to {timezone.localtime(locked.raised_at):%d %b %Y %H:%M} "
            f"was {format_value(kpi, locked.value)}, {side} the alert threshold of {locked.threshold} "
            f"(KPI alert #{locked.pk}).\nDefinition: {kpi.help}"
        ),
    )
    locked.capa = capa
    save_versioned(locked, actor=actor, reason=f"CAPA {capa.reference} raised from this alert", fields=["capa"], action="raise_capa")
    alert.capa, alert.version = capa, locked.version
    return capa


# --- snapshots ------------------------------------------------------------------------------


def _snapshot_rows(day: datetime.date, values: dict[str, KpiValue], computed_at) -> list[KpiSnapshot]:
    return [
        KpiSnapshot(date=day, kpi=kpi.code, value=values[kpi.code].value, numerator=values[kpi.code].numerator,
                    denominator=values[kpi.code].denominator, computed_at=computed_at)
        for kpi in KPIS
    ]


def _upsert_snapshots(rows: list[KpiSnapshot]) -> None:
    with transaction.atomic():
        KpiSnapshot.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["date", "kpi"],
            update_fields=["value", "numerator", "denominator", "computed_at"], batch_size=2000,
        )


def snapshot_kpis(*, day: datetime.date, now=None) -> int:
    """Write (or rewrite) the snapshot of every KPI for one past or current day."""
    _upsert_snapshots(_snapshot_rows(day, compute_kpis(Period.day(day), now=now), timezone.now()))
    return len(KPIS)


# Days computed by one statement in a range rebuild: a month, each table read once for all of
# them (compute_kpis_for), so two years of busy days cost 24 round trips, not 730.
SNAPSHOT_BATCH_DAYS = 31


def snapshot_kpis_range(*, start: datetime.date, end: datetime.date, now=None) -> int:
    """Snapshots of every day from start to end (the rebuild command, the demo). Days that end
    before the first record of any kind are empty: they are computed once and written in one
    statement, so two years of history cost the queries of the days that have data."""
    first = first_activity_at()
    days = [start + datetime.timedelta(days=offset) for offset in range((end - start).days + 1)]
    empty_days = [day for day in days if first is None or Period.day(day).end_at <= first]
    if empty_days:
        empty = compute_kpis(Period.day(empty_days[0]), now=now)
        computed_at = timezone.now()
        _upsert_snapshots([row for day in empty_days for row in _snapshot_rows(day, empty, computed_at)])
    busy = days[len(empty_days):]
    for offset in range(0, len(busy), SNAPSHOT_BATCH_DAYS):
        batch_days = busy[offset:offset + SNAPSHOT_BATCH_DAYS]
        computed_at = timezone.now()
        values = compute_kpis_for([Period.day(day) for day in batch_days], now=now)
        _upsert_snapshots([row for day, kpis in zip(batch_days, values, strict=True) for row in _snapshot_rows(day, kpis, computed_at)])
    return len(days)


# --- units shipped --------------------------------------------------------------------------


def _month(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = _text(value, "month", required=True, max_length=10)
    for fmt in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    raise ValidationFailed.on("month", "Write the month as YYYY-MM.")


def _units(value) -> int:
    try:
        units = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed.on("units", "Enter a whole number of units.") from None
    if not 0 <= units <= 1_000_000_000:
        raise ValidationFailed.on("units", "Between 0 and 1,000,000,000.")
    return units


@transaction.atomic
def shipped_units_set(*, actor, product, month, units, reason: str = "") -> tuple[ShippedUnits, bool]:
    """Create or correct the units shipped of a product in a month; True when created."""
    _require_manager(actor)
    month, units = _month(month), _units(units)
    if month > timezone.localdate().replace(day=1):
        raise ValidationFailed.on("month", "Units cannot be entered for a future month.")
    record = ShippedUnits.objects.select_for_update().filter(product=product, month=month).first()
    if record is None:
        record = ShippedUnits(product=product, month=month, units=units, entered_by=actor)
        set_history(record, user=actor, reason=reason or "Units shipped entered", action="create")
        record.save()
        return record, True
    if record.units != units:
        # A correction changes a KPI's denominator after the fact: the manager's own reason.
        reason = person_reason(reason, ask=f"{record.units:,} units are recorded already; say why they are corrected.")
        record.units, record.entered_by, record.entered_at = units, actor, timezone.now()
        save_versioned(record, actor=actor, reason=reason, fields=["units", "entered_by", "entered_at"], action="update")
    return record, False


MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000


@dataclass
class ImportResult:
    created: int
    updated: int


def shipped_units_import(*, actor, data: bytes, reason: str = "") -> ImportResult:
    """CSV with a header `product_code,month,units` (month as YYYY-MM). All rows are checked
    first; one bad row refuses the whole file with the row numbers, and nothing is written.
    A file that corrects months already entered needs the manager's reason (issue 15)."""
    from complaints.models import Product

    _require_manager(actor)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed.on("file", "The file is larger than 1 MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.on("file", "The file is not UTF-8 text (save it as CSV UTF-8).") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if header[:3] != ["product_code", "month", "units"]:
        raise ValidationFailed.on("file", "The first line must be: product_code,month,units")
    products = {p.code.lower(): p for p in Product.objects.all()}
    rows, errors, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            raise ValidationFailed.on("file", f"At most {MAX_IMPORT_ROWS} rows per file.")
        values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        code = values.get("product_code", "")
        product = products.get(code.lower())
        try:
            if product is None:
                raise ValidationFailed.on("product_code", f"unknown product code {code!r}")
            month, units = _month(values.get("month")), _units(values.get("units"))
            if month > timezone.localdate().replace(day=1):
                raise ValidationFailed.on("month", "a future month")
            if (product.pk, month) in seen:
                raise ValidationFailed.on("month", f"{code} {month:%Y-%m} appears twice")
        except ValidationFailed as exc:
            errors.append(f"line {number}: {exc.message}")
            continue
        seen.add((product.pk, month))
        rows.append((product, month, units))
    if errors:
        raise ValidationFailed("; ".join(errors[:20]), field_errors={"file": errors[:20]})
    if not rows:
        raise ValidationFailed.on("file", "The file has no data rows.")
    created = updated = 0
    with transaction.atomic():
        for product, month, units in rows:
            _record, was_created = shipped_units_set(actor=actor, product=product, month=month, units=units, reason=reason)
            created += was_created
            updated += not was_created
    return ImportResult(created=created, updated=updated)


# --- management reviews ---------------------------------------------------------------------


def _review_dates(period_start, period_end) -> None:
    if period_start is None or period_end is None:
        raise ValidationFailed.on("period_start", "Give the period the review covers.")
    if period_end < period_start:
        raise ValidationFailed.on("period_end", "The period ends before it starts.")
    if (period_end - period_start).days > 3 * 366:
        raise ValidationFailed.on("period_end", "A review covers at most three years.")


@transaction.atomic
def review_create(*, actor, title: str, period_start, period_end, meeting_on, attendees: str = "") -> ManagementReview:
    _require_manager(actor)
    _review_dates(period_start, period_end)
    if meeting_on is None:
        raise ValidationFailed.on("meeting_on", "Give the meeting date.")
    review = ManagementReview(
        reference=allocate_reference("MR", width=3),
        title=_text(title, "title", required=True, max_length=200),
        period_start=period_start, period_end=period_end, meeting_on=meeting_on,
        attendees=_text(attendees, "attendees"), created_by=actor,
    )
    set_history(review, user=actor, reason="Management review planned", action="create")
    review.save()
    return review


@transaction.atomic
def review_update(review: ManagementReview, *, actor, reason: str, version, **changes) -> ManagementReview:
    """Edit the plan (before the meeting) or the attendees and conclusions (until closed).
    The period cannot change once the pack is frozen."""
    _require_manager(actor)
    locked = ManagementReview.objects.select_for_update().get(pk=review.pk)
    check_version(locked, version)
    if locked.status == "closed":
        raise IllegalTransition("A closed review cannot be edited.")
    allowed = {"attendees", "summary"} | ({"title", "period_start", "period_end", "meeting_on"} if locked.status == "planned" else set())
    refused = set(changes) - allowed
    if refused:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(refused))} now (the input pack is frozen).")
    for name, value in changes.items():
        if name in ("attendees", "summary", "title"):
            value = _text(value, name, required=name == "title", max_length=200 if name == "title" else 20000)
        setattr(locked, name, value)
    _review_dates(locked.period_start, locked.period_end)
    save_versioned(locked, actor=actor, reason=_text(reason, "reason", required=True), fields=sorted(changes), action="update")
    return locked


def review_transition(review: ManagementReview, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    return transition(REVIEW_WORKFLOW, review, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data)


def _capa_or_none(capa_id):
    from capa.models import Capa

    if capa_id in (None, ""):
        return None
    try:
        return Capa.objects.get(pk=int(capa_id))
    except (Capa.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed.on("capa", "No such CAPA.") from None


@transaction.atomic
def review_item_add(
    *, review: ManagementReview, actor, kind: str, description: str, category: str = "improvement",
    owner=None, due_date: datetime.date | None = None, capa=None,
) -> ReviewItem:
    from metrics.models import ReviewOutputCategory

    _require_manager(actor)
    if review.status == "closed":
        raise IllegalTransition("The review is closed.")
    if kind not in ReviewItemKind.values:
        raise ValidationFailed.on("kind", "Choose decision or action.")
    if category not in ReviewOutputCategory.values:
        raise ValidationFailed.on("category", "Choose an output category.")
    if kind == ReviewItemKind.ACTION:
        if owner is None:
            raise ValidationFailed.on("owner", "An action needs an owner.")
        if due_date is None:
            raise ValidationFailed.on("due_date", "An action needs a due date.")
    if owner is not None and not owner.is_active:
        raise ValidationFailed.on("owner", "The owner is not an active user.")
    item = ReviewItem(
        review=review, kind=kind, category=category, description=_text(description, "description", required=True),
        owner=owner, due_date=due_date, capa=capa, created_by=actor,
    )
    if kind == ReviewItemKind.DECISION:
        # Decisions are taken, not worked: they are done when recorded.
        item.status, item.completed_at = "done", timezone.now()
    set_history(item, user=actor, reason=f"Recorded at {review.reference}", action="create")
    item.save()
    if kind == ReviewItemKind.ACTION and owner != actor:
        notify([owner], subject=f"Management review action for you ({review.reference})", body=item.description, url=item.get_absolute_url())
    return item


@transaction.atomic
def review_item_link_capa(item: ReviewItem, *, actor, capa, version) -> ReviewItem:
    _require_quality(actor)
    locked = ReviewItem.objects.select_for_update().get(pk=item.pk)
    check_version(locked, version)
    locked.capa = capa
    save_versioned(locked, actor=actor, reason=f"Linked to {capa}" if capa else "CAPA link removed", fields=["capa"], action="link_capa")
    return locked


def review_item_transition(item: ReviewItem, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None):
    return transition(REVIEW_ITEM_WORKFLOW, item, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data)


# --- Workflow hooks ------------------------------------------------------------------------
# Registered under the names the metrics workflows give them (qms/workflow.py).


@REVIEW_WORKFLOW.hook("freeze_pack")
def hook_freeze_pack(ctx: TransitionContext) -> None:
    # ISO 9001 9.3.2 / 7.5: the record keeps the inputs the meeting actually considered.
    ctx.set("input_pack", review_input_pack(ctx.record, at=ctx.at))
    ctx.set("held_at", ctx.at)
