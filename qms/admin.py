"""The admin is read-mostly (docs/style.md): never a way around the workflow or the history.
Nobody deletes through it; history, signatures, transitions and security events are read-only;
Auditors hold view permissions only, so every admin page is read-only for them."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from qms.models import (
    ApiToken,
    Department,
    Notification,
    OutboxMessage,
    SecurityEvent,
    Signature,
    Transition,
    User,
)

admin.site.site_header = "QMS administration"
admin.site.site_title = "QMS administration"
admin.site.disable_action("delete_selected")

# DRF's plaintext tokens are not used (qms.models.ApiToken keeps hashes): no admin page issues them.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


class NoDeleteAdmin(SimpleHistoryAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Records only the services write: the admin shows them and their history, changes nothing."""


@admin.register(User)
class QmsUserAdmin(UserAdmin, NoDeleteAdmin):
    list_display = ["username", "full_name", "email", "department", "is_active", "last_login"]
    list_filter = ["is_active", "groups", "department"]
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ("department", "job_function", "manager")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            from qms.tokens import api_tokens_end_for_inactive

            api_tokens_end_for_inactive(obj)  # issue 16 item 7; sessions end at their next request

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # New roles or a new job function may require training (ISO 9001 7.2).
        from qms.extensions import roles_changed

        roles_changed(user=form.instance, actor=request.user)


@admin.register(Department)
class DepartmentAdmin(NoDeleteAdmin):
    search_fields = ["name"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["signed_at", "signer_name", "meaning", "record_repr", "content_hash"]
    list_filter = ["meaning", "content_type"]
    search_fields = ["record_repr", "signer_name"]


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    list_display = ["at", "content_type", "object_id", "action", "from_state", "to_state", "actor"]
    list_filter = ["content_type", "action"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "ip_address", "path"]
    list_filter = ["kind"]
    search_fields = ["username"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "subject", "read_at"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to_email", "subject", "sent_at", "attempts"]


# History is read-only in every app's admin, and verification results are listed (issue 8).
import qms.audit.admin  # noqa: E402, F401


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Read-only: tokens are issued and revoked on the API tokens page or through the API."""

    list_display = ["user", "name", "key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "key_prefix"]
    exclude = ["key_hash"]
