"""The CAPA list's filters, shared by the page and the API (docs/style.md "filters.py")."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from capa.models import Capa, CapaAction, Kind, RiskLevel, RootCauseAnalysis, Source
from capa.workflow import OPEN_STATES, CapaStatus
from qms import roles as qms_roles
from qms.search import SEARCH_MAX_LENGTH, Related, TextSearch, ranked

# The CAPA's own text (its stored vector, capa 0006), its root-cause conclusion and its actions.
CAPA_SEARCH = TextSearch(
    fields=("reference", "title", "problem_statement", "containment_action"),
    reference="reference",
    related=(
        Related("id", RootCauseAnalysis, "capa_id", ("conclusion",)),
        Related("id", CapaAction, "capa_id", ("description", "evidence")),
    ),
)


def quality_users(request=None):
    return (
        get_user_model()
        .objects.filter(groups__name__in=qms_roles.QUALITY, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


YES_NO = [("true", "Yes"), ("false", "No")]


class CapaFilter(django_filters.FilterSet):
    # `q` on the page, `search` in the API (docs/api.md); the same search.
    q = django_filters.CharFilter(method="filter_search", label="Search", max_length=SEARCH_MAX_LENGTH)
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=SEARCH_MAX_LENGTH)
    status = django_filters.MultipleChoiceFilter(choices=CapaStatus.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label="Any")
    source = django_filters.ChoiceFilter(choices=Source.choices, empty_label="Any")
    risk_level = django_filters.MultipleChoiceFilter(choices=RiskLevel.choices, label="Risk")
    owner = django_filters.ModelChoiceFilter(queryset=quality_users, empty_label="Anyone")
    open = django_filters.ChoiceFilter(choices=YES_NO, method="filter_open", label="Open", empty_label="Any")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label="Overdue", empty_label="Any")
    complaint = django_filters.NumberFilter(field_name="complaints", label="Complaint id")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created from")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created to")

    class Meta:
        model = Capa
        fields = ["q", "search", "status", "kind", "source", "risk_level", "owner", "open", "overdue", "complaint"]

    def filter_search(self, queryset, name, value):
        return CAPA_SEARCH.apply(queryset, value)

    @property
    def qs(self):
        return ranked(super().qs, "-created_at", "-id")  # best match first when searched

    def filter_open(self, queryset, name, value):
        if value == "true":
            return queryset.filter(status__in=OPEN_STATES)
        if value == "false":
            return queryset.exclude(status__in=OPEN_STATES)
        return queryset

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN_STATES, due_date__lt=timezone.localdate())
        if value == "true":
            return queryset.filter(overdue)
        if value == "false":
            return queryset.exclude(overdue)
        return queryset
