"""Filters shared by the pages and the API (one FilterSet per list), and the matrix filter."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from documents.models import Document
from qms.models import Department
from training.models import AssignmentStatus, TrainingAssignment, TrainingRequirement

# The matrix cell states (training.selectors), as a filter: people with such a cell.
STATE_CHOICES = [
    ("overdue", "Overdue training"),
    ("due", "Training due"),
    ("missing", "Missing assignments"),
    ("superseded", "Training on an old revision"),
    ("current", "Current training"),
]


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices, empty_label="Any status")
    user = django_filters.ModelChoiceFilter(
        queryset=get_user_model()
        .objects.filter(is_active=True)
        .order_by("last_name", "first_name"),
        empty_label="Anyone",
        label="Person",
    )
    document = django_filters.ModelChoiceFilter(
        queryset=Document.objects.order_by("number"), empty_label="Any document"
    )
    document_version = django_filters.NumberFilter(field_name="document_version_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only")
    due_before = django_filters.DateFilter(
        field_name="due_date",
        lookup_expr="lte",
        label="Due by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("due_date", "due_date"),
            ("assigned_at", "assigned_at"),
            ("completed_at", "completed_at"),
        )
    )

    class Meta:
        model = TrainingAssignment
        fields = ["status", "user", "document", "document_version", "overdue", "due_before"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = {"status": AssignmentStatus.ASSIGNED, "due_date__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class RequirementFilter(django_filters.FilterSet):
    role = django_filters.ModelChoiceFilter(
        queryset=Group.objects.order_by("name"), empty_label="Any role"
    )
    document = django_filters.ModelChoiceFilter(
        queryset=Document.objects.order_by("number"), empty_label="Any document"
    )
    is_active = django_filters.BooleanFilter(label="Active")
    job_function = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = TrainingRequirement
        fields = ["role", "document", "is_active", "job_function"]


class MatrixFilterForm(forms.Form):
    """The matrix filters. Role, department and document are choices read once (one query
    each, for the select and for the check), and clean to ids."""

    role = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    department = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    document = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(
        choices=[
            ("", "Any status"),
            *((code, f"With {label.lower()}") for code, label in STATE_CHOICES),
        ],
        required=False,
        label="Status",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        documents = (
            Document.objects.filter(training_requirements__is_active=True)
            .distinct()
            .order_by("number")
        )
        self.fields["role"].choices = [
            ("", "All roles"),
            *Group.objects.order_by("name").values_list("pk", "name"),
        ]
        self.fields["department"].choices = [
            ("", "All departments"),
            *Department.objects.order_by("name").values_list("pk", "name"),
        ]
        self.fields["document"].choices = [
            ("", "All documents"),
            *(
                (pk, f"{number} {title}")
                for pk, number, title in documents.values_list("pk", "number", "title")
            ),
        ]
