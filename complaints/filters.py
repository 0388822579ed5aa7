"""One FilterSet for the complaint list, shared by the page and the API (STYLE.md)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from complaints.models import OPEN_STATES, Category, Channel, Complaint, Product, Severity
from complaints.selectors import overdue_q
from complaints.workflow import ComplaintStatus
from qms import roles as qms_roles


class PlainSelect(forms.Select):
    """A <select> whose options are written in Python straight from its choices. Django builds
    a dict per <option> and renders each through a template of its own; the list page has about
    150 of them on each request, which cost more than the page's SQL at 100k complaints
    (measured with cProfile)."""

    def render(self, name, value, attrs=None, renderer=None):
        values = value if isinstance(value, (list, tuple)) else [value]
        selected = {"" if v is None else str(v) for v in values}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if key in selected else "", label)
                for key, label in (("" if v is None else str(v), label) for v, label in self.choices)
            ),
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), options)


class ListedModelChoiceIterator(forms.models.ModelChoiceIterator):
    """Reads the (short) choice list with one plain query: Django's iterator() opens a
    server-side cursor on PostgreSQL, four round trips for a few dozen rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedModelChoiceIterator


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ListedModelChoiceField


ANY_YES_NO = PlainSelect(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def quality_users(request=None):
    return get_user_model().objects.filter(groups__name__in=qms_roles.QUALITY, is_active=True).distinct().order_by("first_name", "last_name")


class ComplaintFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=200)
    status = django_filters.ChoiceFilter(choices=ComplaintStatus.choices, empty_label="Any status", widget=PlainSelect)
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity", widget=PlainSelect)
    channel = django_filters.ChoiceFilter(choices=Channel.choices, empty_label="Any channel", widget=PlainSelect)
    assignee = ListedModelChoiceFilter(queryset=quality_users, empty_label="Anyone", widget=PlainSelect)
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned", widget=ANY_YES_NO)
    product = ListedModelChoiceFilter(queryset=Product.objects.all(), empty_label="Any product", widget=PlainSelect)
    category = ListedModelChoiceFilter(queryset=Category.objects.all(), empty_label="Any category", widget=PlainSelect)
    customer = django_filters.NumberFilter(field_name="customer_id")
    open = django_filters.BooleanFilter(method="filter_open", label="Open", widget=ANY_YES_NO)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue", widget=ANY_YES_NO)
    recurring = django_filters.BooleanFilter(field_name="is_recurring", label="Recurring", widget=ANY_YES_NO)
    received_from = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte", label="Received from", widget=DATE_INPUT)
    received_to = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte", label="Received to", widget=DATE_INPUT)
    ordering = django_filters.OrderingFilter(
        fields=(
            ("reference", "reference"),
            ("received_at", "received_at"),
            ("title", "title"),
            ("severity_rank", "severity"),
            ("status", "status"),
            ("next_deadline", "deadline"),
            ("escalation_level", "escalation_level"),
        ),
        label="Sort by",
        widget=PlainSelect,
    )

    class Meta:
        model = Complaint
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__organisation__icontains=value)
            | Q(lot_number__icontains=value)
            | Q(product__code__icontains=value)
        )

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATES) if value else queryset.exclude(status__in=OPEN_STATES)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = overdue_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    @property
    def qs(self):
        queryset = super().qs
        if not getattr(self.form, "cleaned_data", {}).get("ordering"):
            queryset = queryset.order_by("-received_at", "-id")
        return queryset
