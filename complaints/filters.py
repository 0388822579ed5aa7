"""One FilterSet for the complaint list, shared by the page and the API (docs/style.md)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from complaints.models import OPEN_STATES, Category, Channel, Complaint, Customer, Product, Severity
from complaints.selectors import overdue_q
from complaints.workflow import ComplaintStatus
from qms import roles as qms_roles
from qms.search import SEARCH_MAX_LENGTH, Related, TextSearch, ranked
from qms.widgets import PlainSelect

# The complaint's own text (its stored vector, complaints 0014), its customer and its product.
COMPLAINT_SEARCH = TextSearch(
    fields=("reference", "title", "lot_number", "udi", "description", "resolution"),
    reference="reference",
    related=(
        Related("customer_id", Customer, "id", ("name", "organisation")),
        Related("product_id", Product, "id", ("code", "name")),
    ),
)


class ListedModelChoiceIterator(forms.models.ModelChoiceIterator):
    """Reads the (short) choice list with one plain query: Django's iterator() opens a
    server-side cursor on PostgreSQL, four round trips for a few dozen rows. With the field's
    `label_fields`, it reads only the id and those columns (no model instances)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.label_fields:
            for pk, *values in self.queryset.values_list("pk", *self.field.label_fields):
                yield (pk, self.field.label_from_values(*values))
            return
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedModelChoiceIterator

    def __init__(self, *args, label_fields=(), label_from_values=None, **kwargs):
        self.label_fields = tuple(label_fields)
        self.label_from_values = label_from_values
        super().__init__(*args, **kwargs)


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A model choice whose options are labelled from a few columns:
    `label_fields=("code", "name")` and `label_from_values=lambda code, name: ...` must give the
    same label as the model's __str__ (tests/complaints/test_list_rows.py checks it)."""

    field_class = ListedModelChoiceField


ANY_YES_NO = PlainSelect(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def user_label(first_name: str, last_name: str, username: str) -> str:
    """User.full_name from its columns."""
    return f"{first_name} {last_name}".strip() or username


def quality_users(request=None):
    return get_user_model().objects.filter(groups__name__in=qms_roles.QUALITY, is_active=True).distinct().order_by("first_name", "last_name")


class ComplaintFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Reference or any words"}),
    )
    status = django_filters.ChoiceFilter(choices=ComplaintStatus.choices, empty_label="Any status", widget=PlainSelect)
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity", widget=PlainSelect)
    channel = django_filters.ChoiceFilter(choices=Channel.choices, empty_label="Any channel", widget=PlainSelect)
    assignee = ListedModelChoiceFilter(
        queryset=quality_users, empty_label="Anyone", widget=PlainSelect,
        label_fields=("first_name", "last_name", "username"), label_from_values=user_label,
    )
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned", widget=ANY_YES_NO)
    product = ListedModelChoiceFilter(
        queryset=Product.objects.all(), empty_label="Any product", widget=PlainSelect,
        label_fields=("code", "name"), label_from_values=lambda code, name: f"{code} {name}",
    )
    category = ListedModelChoiceFilter(
        queryset=Category.objects.all(), empty_label="Any category", widget=PlainSelect,
        label_fields=("name",), label_from_values=str,
    )
    customer = django_filters.NumberFilter(field_name="customer_id")
    failure_mode = django_filters.NumberFilter(field_name="failure_mode_id")
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
        return COMPLAINT_SEARCH.apply(queryset, value)

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
        if self.is_bound and not self.is_valid():
            return self.queryset.none()  # the page shows the errors above an empty list, not every complaint
        queryset = super().qs
        if not getattr(self.form, "cleaned_data", {}).get("ordering"):
            return ranked(queryset, "-received_at", "-id")  # best match first when searched
        # Ties (two complaints due at the same minute) broken by id in the sort's direction, so
        # that paging is stable and the deadline sort is read from complaints_deadline_idx
        # (deadline, id) forwards or backwards.
        ordering = [str(key) for key in queryset.query.order_by]
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            queryset = queryset.order_by(*ordering, "-id" if ordering[0].startswith("-") else "id")
        return queryset
