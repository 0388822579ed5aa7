"""Demo data of metrics (idempotent): KPI targets, units shipped per product for two years,
daily snapshots computed from the demo records, the alerts they raise, and one management
review held with its decisions and actions. Everything goes through the services."""

import datetime
import os
import time

from django.contrib.auth import get_user_model
from django.utils import timezone

from metrics import services
from metrics.models import KpiTarget, ManagementReview

REVIEW_TITLE = "Quarterly management review (demo)"

# kpi, target, threshold, window days
# Thresholds are set so that the demo data breaches exactly one of them (open complaints), with
# or without SLA policies (the demo's acknowledgements all happen at seeding time, so an SLA target
# would only measure the seeding).
TARGETS = [
    ("csat", 90, 70, 30),
    ("nps", 40, 10, 90),
    ("open_complaints", 3, 5, 1),
    ("overdue_complaints", 0, 8, 1),
    ("complaint_recurrence_rate", 10, 50, 90),
    ("capa_on_time_rate", 90, 75, 90),
    ("capa_effectiveness_rate", 90, 40, 180),
    ("training_compliance_rate", 95, 40, 1),
    ("documents_overdue_review", 0, 3, 1),
]

# Units shipped per month by product code: a base and a seasonal swing.
UNITS = {"INF-200": (420, 60), "CVC-14": (5200, 700), "GLU-3": (2600, 300), "STD-50": (9800, 1200)}

# Days of snapshots before today: two years. Days before the first demo record are computed once
# and copied (services.snapshot_kpis_range), so this costs the queries of the recent days only.
DEFAULT_SNAPSHOT_DAYS = 730


def seed(log=print) -> None:
    from complaints.models import Product

    if ManagementReview.objects.filter(title=REVIEW_TITLE).exists():
        log("  metrics demo data present already")
        return
    User = get_user_model()
    manager, staff = User.objects.get(username="manager"), User.objects.get(username="staff")
    today = timezone.localdate()

    for kpi, target, threshold, window in TARGETS:
        if not KpiTarget.objects.filter(kpi=kpi).exists():
            services.target_create(actor=manager, kpi=kpi, target=target, threshold=threshold, window_days=window,
                                   owners=[manager], reason="Quality objectives (demo)")
    log(f"  {len(TARGETS)} KPI targets")

    month = today.replace(day=1)
    months = []
    for _ in range(24):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        months.append(month)
    months.insert(0, today.replace(day=1))
    for product in Product.objects.filter(code__in=UNITS):
        base, swing = UNITS[product.code]
        for index, first in enumerate(months):
            units = base + swing * ((first.month * 7 + index) % 5 - 2) // 2
            if first == today.replace(day=1):
                units = units * today.day // 30  # the month so far
            services.shipped_units_set(actor=manager, product=product, month=first, units=max(units, 0), reason="Demo data: ERP export")
    log(f"  units shipped for {len(months)} months")

    days = int(os.environ.get("QMS_DEMO_SNAPSHOT_DAYS", DEFAULT_SNAPSHOT_DAYS))
    started = time.monotonic()
    # Up to today (a partial day, rewritten by the nightly snapshot): the demo records happen today.
    services.snapshot_kpis_range(start=today - datetime.timedelta(days=days), end=today)
    log(f"  {days} days of KPI snapshots in {time.monotonic() - started:.1f}s")

    result = services.evaluate_kpi_targets()
    log(f"  {len(result.raised)} KPI alert(s) open")

    review = services.review_create(
        actor=manager, title=REVIEW_TITLE, period_start=today - datetime.timedelta(days=90), period_end=today,
        meeting_on=today, attendees="Maria Manager (chair), Sam Staff, Noah Quinn, Alex Auditor (observer)",
    )
    services.review_transition(review, "hold", actor=manager, reason="Meeting held")
    review.refresh_from_db()
    services.review_update(review, actor=manager, reason="Minutes", version=review.version,
                           summary="The QMS is suitable and effective. Complaint handling misses its first-response "
                                   "SLA on critical complaints; infusion pump alarms need a CAPA.")
    services.review_item_add(review=review, actor=manager, kind="decision", category="qms_change",
                             description="Critical complaints are acknowledged by phone within 2 business hours.")
    from capa.models import Capa

    capa = Capa.objects.order_by("created_at").first()
    services.review_item_add(review=review, actor=manager, kind="action", category="improvement", owner=staff,
                             due_date=today + datetime.timedelta(days=30), capa=capa,
                             description="Follow the infusion pump alarm CAPA to closure and report at the next review.")
    done_item = services.review_item_add(review=review, actor=manager, kind="action", category="resources", owner=manager,
                                         due_date=today + datetime.timedelta(days=14),
                                         description="Add a second complaint handler on the help line on Mondays.")
    services.review_item_transition(done_item, "complete", actor=manager, reason="Noah Quinn covers Mondays from next week.")
    log(f"  management review {review.reference} held, with a decision and two actions")
