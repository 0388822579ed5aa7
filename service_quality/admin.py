"""Read-mostly admin (docs/style.md): scorecards and evaluations change through the app's services
and workflow only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from service_quality.models import Criterion, Evaluation, Score, Scorecard, ScorecardSection


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyHistoryAdmin):
    list_display = ["code", "revision", "name", "status", "applies_to", "pass_mark"]
    list_filter = ["status", "applies_to"]
    search_fields = ["code", "name"]


@admin.register(ScorecardSection)
class ScorecardSectionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "scorecard", "position"]


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["label", "scorecard", "scale", "weight", "is_critical", "auto_rule"]
    list_filter = ["scale", "is_critical", "auto_rule"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "reference",
        "scorecard",
        "kind",
        "subject",
        "evaluator",
        "status",
        "score_percent",
        "is_passed",
    ]
    list_filter = ["status", "kind", "is_passed", "is_critical_fail"]
    search_fields = ["reference"]


@admin.register(Score)
class ScoreAdmin(ReadOnlyHistoryAdmin):
    list_display = ["evaluation", "criterion", "answer", "scored_by"]
