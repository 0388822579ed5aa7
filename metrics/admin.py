"""Read-mostly admin (docs/style.md): targets, alerts and reviews change through the app's services."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from metrics.models import (
    KpiAlert,
    KpiSnapshot,
    KpiTarget,
    ManagementReview,
    ReviewItem,
    ShippedUnits,
)


class ReadOnlyMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    pass


@admin.register(KpiTarget)
class KpiTargetAdmin(ReadOnlyAdmin):
    list_display = ["kpi", "target", "threshold", "window_days", "is_active", "version"]


@admin.register(KpiAlert)
class KpiAlertAdmin(ReadOnlyAdmin):
    list_display = ["id", "kpi", "status", "raised_at", "value", "threshold", "cleared_at", "capa"]
    list_filter = ["status", "kpi"]


@admin.register(ShippedUnits)
class ShippedUnitsAdmin(ReadOnlyAdmin):
    list_display = ["product", "month", "units", "entered_by"]


@admin.register(ManagementReview)
class ManagementReviewAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "period_start", "period_end", "status"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = ["review", "kind", "status", "owner", "due_date", "capa"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["date", "kpi", "value", "numerator", "denominator"]
    list_filter = ["kpi"]
    date_hierarchy = "date"
