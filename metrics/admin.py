"""Read-mostly admin (docs/style.md): targets, alerts and reviews change through the app's services."""

from django.contrib import admin

from metrics.models import (
    KpiAlert,
    KpiSnapshot,
    KpiTarget,
    ManagementReview,
    ReviewItem,
    ShippedUnits,
)
from qms.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin


@admin.register(KpiTarget)
class KpiTargetAdmin(ReadOnlyHistoryAdmin):
    list_display = ["kpi", "target", "threshold", "window_days", "is_active", "version"]


@admin.register(KpiAlert)
class KpiAlertAdmin(ReadOnlyHistoryAdmin):
    list_display = ["id", "kpi", "status", "raised_at", "value", "threshold", "cleared_at", "capa"]
    list_filter = ["status", "kpi"]


@admin.register(ShippedUnits)
class ShippedUnitsAdmin(ReadOnlyHistoryAdmin):
    list_display = ["product", "month", "units", "entered_by"]


@admin.register(ManagementReview)
class ManagementReviewAdmin(ReadOnlyHistoryAdmin):
    list_display = ["reference", "title", "period_start", "period_end", "status"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["review", "kind", "status", "owner", "due_date", "capa"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["date", "kpi", "value", "numerator", "denominator"]
    list_filter = ["kpi"]
    date_hierarchy = "date"
