"""Filters shared by the pages and the API (one FilterSet per list), and the matrix filter."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from documents.models import Document
from qms.models import Department
from training.models import AssignmentStatus, TrainingAssignment, TrainingRequirement


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices, empty_label="Any status")
    user = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.filter(is_active=True).order_by("last_name", "first_name"), empty_label="Anyone", label="Person")
    document = django_filters.ModelChoiceFilter(queryset=Document.objects.order_by("number"), empty_label="Any document")
    document_version = django_filters.NumberFilter(field_name="document_version_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due by", widget=forms.DateInput(attrs={"type": "date"}))
    ordering = django_filters.OrderingFilter(fields=(("due_date", "due_date"), ("assigned_at", "assigned_at"), ("completed_at", "completed_at")))

    class Meta:
        model = TrainingAssignment
        fields = ["status", "user", "document", "document_version", "overdue", "due_before"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = {"status": AssignmentStatus.ASSIGNED, "due_date__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class RequirementFilter(django_filters.FilterSet):
    role = django_filters.ModelChoiceFilter(queryset=Group.objects.order_by("name"), empty_label="Any role")
    document = django_filters.ModelChoiceFilter(queryset=Document.objects.order_by("number"), empty_label="Any document")
    is_active = django_filters.BooleanFilter(label="Active")
    job_function = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = TrainingRequirement
        fields = ["role", "document", "is_active", "job_function"]


class MatrixFilterForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False, empty_label="All roles")
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False, empty_label="All departments")
    document = forms.ModelChoiceField(
        queryset=Document.objects.filter(training_requirements__is_active=True).distinct().order_by("number"),
        required=False,
        empty_label="All documents",
    )
