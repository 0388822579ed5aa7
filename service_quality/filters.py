"""The lists' filters, shared by the pages and the API (docs/style.md "filters.py")."""

import django_filters
from django.db.models import Q

from service_quality.models import Evaluation, InteractionKind, Scorecard
from service_quality.workflow import EvaluationStatus, ScorecardStatus

YES_NO = [("true", "Yes"), ("false", "No")]


class ScorecardFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ScorecardStatus.choices)
    applies_to = django_filters.ChoiceFilter(choices=InteractionKind.choices, empty_label="Any")

    class Meta:
        model = Scorecard
        fields = ["q", "status", "applies_to"]

    def filter_q(self, queryset, name, value):
        value = value.strip()[:100]
        return (
            queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
            if value
            else queryset
        )


class EvaluationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=EvaluationStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InteractionKind.choices, empty_label="Any")
    subject = django_filters.NumberFilter(field_name="subject_id", label="Person evaluated (id)")
    evaluator = django_filters.NumberFilter(field_name="evaluator_id", label="Evaluator (id)")
    complaint = django_filters.NumberFilter(field_name="complaint_id", label="Complaint (id)")
    scorecard = django_filters.NumberFilter(field_name="scorecard_id", label="Scorecard (id)")
    is_passed = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_bool", label="Passed", empty_label="Any"
    )
    is_critical_fail = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_bool", label="Critical fail", empty_label="Any"
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from"
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created to"
    )

    class Meta:
        model = Evaluation
        fields = [
            "q",
            "status",
            "kind",
            "subject",
            "evaluator",
            "complaint",
            "scorecard",
            "is_passed",
            "is_critical_fail",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(complaint__reference__icontains=value)
        )

    def filter_bool(self, queryset, name, value):
        return queryset.filter(**{name: value == "true"})
