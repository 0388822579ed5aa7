"""Read-mostly admin (docs/style.md): training records change only through the services, so the
admin lists and shows them; nobody adds, edits or deletes them here."""

from django.contrib import admin

from qms.admin import ReadOnlyAdmin
from training.models import (
    ReleaseGate,
    RevisionImpact,
    SessionAttendee,
    TrainingAssignment,
    TrainingNotice,
    TrainingRequirement,
    TrainingSession,
)


@admin.register(TrainingRequirement)
class TrainingRequirementAdmin(ReadOnlyAdmin):
    list_display = ["document", "role", "job_function", "due_days", "only_major_revisions", "is_active"]
    list_filter = ["is_active", "role", "only_major_revisions"]
    search_fields = ["document__number", "document__title", "job_function"]


@admin.register(TrainingAssignment)
class TrainingAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["user", "document_version", "status", "due_date", "completed_at", "source"]
    list_filter = ["status", "source"]
    search_fields = ["user__username", "user__last_name", "document__number"]
    date_hierarchy = "due_date"
    list_select_related = ["user", "document_version__document"]


@admin.register(TrainingNotice)
class TrainingNoticeAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "kind", "level", "sent_at", "recipients"]
    list_filter = ["kind", "level"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdmin):
    list_display = ["document_version", "trainer", "held_on", "location"]


@admin.register(SessionAttendee)
class SessionAttendeeAdmin(ReadOnlyAdmin):
    list_display = ["session", "user", "assignment"]


@admin.register(RevisionImpact)
class RevisionImpactAdmin(ReadOnlyAdmin):
    list_display = ["document_version", "is_major", "decided_by", "decided_at"]


@admin.register(ReleaseGate)
class ReleaseGateAdmin(ReadOnlyAdmin):
    list_display = ["doc_type", "required_percent", "is_active"]
