"""Read-only admin for controlled documents: every change goes through the pages or the API,
which call the services (docs/style.md: the admin is never a way around the workflow). A released
version could not be changed here anyway: the database refuses it (migration 0002)."""

from django.contrib import admin

from documents.models import (
    Document,
    DocumentVersion,
    PeriodicReview,
    ReviewReminder,
    VersionSignoff,
)
from qms import admin as qms_admin


class ReadOnlyHistoryAdmin(qms_admin.ReadOnlyHistoryAdmin):
    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's "revert to this version" form is a write: refuse it.
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("History cannot be reverted.")


@admin.register(Document)
class DocumentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["number", "title", "doc_type", "owner", "department", "effective_version", "next_review_due"]
    list_filter = ["doc_type", "department"]
    search_fields = ["number", "title"]
    list_select_related = ["owner", "department", "effective_version"]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "status", "effective_from", "author", "created_at"]
    list_filter = ["status"]
    search_fields = ["document__number", "document__title"]
    list_select_related = ["document", "author"]


@admin.register(VersionSignoff)
class VersionSignoffAdmin(ReadOnlyHistoryAdmin):
    list_display = ["version", "round", "kind", "user", "completed_at"]
    list_select_related = ["version__document", "user"]


@admin.register(PeriodicReview)
class PeriodicReviewAdmin(ReadOnlyHistoryAdmin):
    list_display = ["document", "outcome", "reviewed_by", "reviewed_at", "next_review_due"]
    list_select_related = ["document", "reviewed_by"]


@admin.register(ReviewReminder)
class ReviewReminderAdmin(qms_admin.ReadOnlyAdmin):
    list_display = ["document", "due_on", "kind", "level", "sent_at", "recipients"]
    list_select_related = ["document"]
