"""Read-mostly admin (docs/style.md): CAPAs change through the app's services and workflow only."""

from django.contrib import admin

from capa.models import (
    ActionEvidence,
    Capa,
    CapaAction,
    EffectivenessCheck,
    Escalation,
    RootCauseAnalysis,
)
from qms.admin import ReadOnlyHistoryAdmin


@admin.register(Capa)
class CapaAdmin(ReadOnlyHistoryAdmin):
    list_display = ["reference", "title", "status", "risk_level", "owner", "due_date"]
    list_filter = ["status", "kind", "source", "risk_level"]
    search_fields = ["reference", "title"]


@admin.register(CapaAction)
class CapaActionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "action_type", "status", "owner", "due_date", "escalation_level"]
    list_filter = ["status", "action_type"]


@admin.register(EffectivenessCheck)
class EffectivenessCheckAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "result", "verifier", "due_date", "verified_by"]
    list_filter = ["result"]


@admin.register(RootCauseAnalysis)
class RootCauseAnalysisAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "method", "analysed_by", "analysed_at"]


@admin.register(ActionEvidence)
class ActionEvidenceAdmin(ReadOnlyHistoryAdmin):
    list_display = ["original_name", "action", "size", "uploaded_by", "uploaded_at"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyHistoryAdmin):
    list_display = ["capa", "kind", "level", "action", "check_record", "at", "notified"]
    list_filter = ["kind", "level"]
