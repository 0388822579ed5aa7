"""The admin side of the audit trail (imported by qms.admin).

django-simple-history's admin lets anyone who may *view* a record's history post a past
version back ("revert"), and it does so without checking the change permission: an Auditor
could rewrite a record, bypassing the services and their reasons. History in the admin is for
reading (docs/architecture.md rule 2), so every history-version page answers GET only, for every
app's admin at once.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from qms.audit.models import AuditBreakAcknowledgement, AuditVerification
from qms.permissions import record_denied

_history_form_view = SimpleHistoryAdmin.history_form_view


def read_only_history_form_view(self, request, object_id, version_id, extra_context=None):
    if request.method not in ("GET", "HEAD"):
        record_denied(request, "admin history revert refused")
        raise PermissionDenied("History is read-only.")
    return _history_form_view(self, request, object_id, version_id, extra_context=extra_context)


SimpleHistoryAdmin.history_form_view = read_only_history_form_view


@admin.register(AuditVerification)
class AuditVerificationAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "kind",
        "is_intact",
        "tables_checked",
        "rows_checked",
        "triggered_by",
    ]
    list_filter = ["is_intact", "kind", "triggered_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditBreakAcknowledgement)
class AuditBreakAcknowledgementAdmin(admin.ModelAdmin):
    """Read-only: an acknowledgement is made on the trail page, with a signature (issue 15)."""

    list_display = ["acknowledged_at", "acknowledged_by", "verification", "reason"]
    list_select_related = ["acknowledged_by", "verification"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
