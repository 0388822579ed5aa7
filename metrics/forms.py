import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from metrics.kpis import KPI_CHOICES, KpiFilters, Period
from metrics.models import KpiTarget, ReviewItemKind, ReviewOutputCategory
from qms import roles as qms_roles
from qms.web import ReasonVersionForm
from qms.widgets import PlainSelect

MAX_PERIOD_DAYS = 5 * 366
DEFAULT_DAYS = 90


class DateInput(forms.DateInput):
    input_type = "date"


def quality_users():
    return (
        get_user_model().objects.filter(is_active=True, groups__name__in=list(qms_roles.QUALITY))
        .distinct().order_by("first_name", "last_name", "username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class KpiQueryForm(forms.Form):
    """The period and filters of the dashboard and of GET /api/v1/metrics/kpis/ (one parser for both)."""

    # "from" is a Python keyword: the form reads it from the data by hand (see clean()).
    to = forms.DateField(required=False, widget=DateInput, label="To")
    product = forms.IntegerField(required=False, min_value=1)
    category = forms.IntegerField(required=False, min_value=1)
    severity = forms.ChoiceField(required=False, choices=[("", "Any severity"), ("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")], widget=PlainSelect)
    department = forms.IntegerField(required=False, min_value=1)

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else None
        super().__init__(data, *args, **kwargs)
        self.fields = {"from": forms.DateField(required=False, widget=DateInput, label="From"), **self.fields}

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        end = cleaned.get("to") or today
        start = cleaned.get("from") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        if start > end:
            self.add_error("from", "The period starts after it ends.")
        elif (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("from", "A period of at most five years.")
        cleaned["period"] = Period(start, end)
        cleaned["filters"] = KpiFilters(
            product=cleaned.get("product"), category=cleaned.get("category"),
            severity=cleaned.get("severity") or None, department=cleaned.get("department"),
        )
        return cleaned


class DashboardFilterForm(KpiQueryForm):
    """The same parser with choice widgets for the page."""

    def __init__(self, *args, **kwargs):
        from complaints.models import Category, Product
        from qms.models import Department

        super().__init__(*args, **kwargs)
        self.fields["product"] = forms.TypedChoiceField(
            required=False, coerce=int, empty_value=None, widget=PlainSelect,
            choices=[("", "All products")]
            + [(pk, f"{code} {name}") for pk, code, name in Product.objects.order_by("code").values_list("pk", "code", "name")],
        )
        self.fields["category"] = forms.TypedChoiceField(
            required=False, coerce=int, empty_value=None, widget=PlainSelect,
            choices=[("", "All categories")] + list(Category.objects.order_by("name").values_list("pk", "name")),
        )
        self.fields["department"] = forms.TypedChoiceField(
            required=False, coerce=int, empty_value=None, widget=PlainSelect,
            choices=[("", "All departments")] + list(Department.objects.order_by("name").values_list("pk", "name")),
        )


class TargetCreateForm(forms.Form):
    kpi = forms.ChoiceField(choices=KPI_CHOICES, label="KPI")
    target = forms.DecimalField(max_digits=12, decimal_places=2)
    threshold = forms.DecimalField(max_digits=12, decimal_places=2, label="Alert threshold",
                                   help_text="An alert is raised when the KPI is past this value on the bad side.")
    window_days = forms.IntegerField(min_value=1, max_value=366, initial=30, label="Window (days)",
                                     help_text="The KPI is evaluated over this many days up to now.")
    owners = UsersChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
                              help_text="Notified when an alert is raised (all Quality Managers if nobody is chosen).")
    reason = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owners"].queryset = quality_users()
        taken = set(KpiTarget.objects.values_list("kpi", flat=True))
        self.fields["kpi"].choices = [(c, label) for c, label in KPI_CHOICES if c not in taken]


class TargetEditForm(ReasonVersionForm):
    owners = UsersChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = KpiTarget
        fields = ["target", "threshold", "window_days", "is_active", "owners"]
        labels = {"threshold": "Alert threshold", "window_days": "Window (days)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owners"].queryset = quality_users()


class ShippedUnitsForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None)
    month = forms.CharField(max_length=7, widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}), help_text="YYYY-MM")
    units = forms.IntegerField(min_value=0, max_value=1_000_000_000, label="Units shipped")
    reason = forms.CharField(max_length=4000, required=False, label="Reason (for a correction)")

    def __init__(self, *args, **kwargs):
        from complaints.models import Product

        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("code")


class ShippedUnitsImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, first line: product_code,month,units (month as YYYY-MM); at most 1 MB.")
    reason = forms.CharField(max_length=4000, required=False, label="Reason (needed when the file corrects months already entered)")


class ReviewForm(forms.Form):
    title = forms.CharField(max_length=200)
    period_start = forms.DateField(widget=DateInput)
    period_end = forms.DateField(widget=DateInput)
    meeting_on = forms.DateField(widget=DateInput, label="Meeting date")
    attendees = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewEditForm(forms.Form):
    attendees = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    summary = forms.CharField(max_length=20000, required=False, label="Conclusions", widget=forms.Textarea(attrs={"rows": 5}))
    reason = forms.CharField(max_length=4000, label="Reason for the change", widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReviewItemForm(forms.Form):
    kind = forms.ChoiceField(choices=ReviewItemKind.choices)
    category = forms.ChoiceField(choices=ReviewOutputCategory.choices, label="Output (ISO 9001 9.3.3)")
    description = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    owner = UserChoiceField(queryset=None, required=False, help_text="Required for an action.")
    due_date = forms.DateField(required=False, widget=DateInput, help_text="Required for an action.")
    capa = forms.ModelChoiceField(queryset=None, required=False, label="Linked CAPA")

    def __init__(self, *args, capa_choices=None, **kwargs):
        from capa.models import Capa

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).exclude(username="system").order_by("first_name", "username")
        self.fields["capa"].queryset = Capa.objects.order_by("-created_at")
        if capa_choices is not None:
            # The page's newest CAPAs (already loaded for the link pickers), not every CAPA ever
            # raised; any CAPA is still accepted when posted (the queryset validates).
            self.fields["capa"].widget.choices = [("", "No CAPA")] + [
                (c["pk"], f"{c['reference']} {c['title'][:60]}") for c in capa_choices
            ]


class LinkCapaForm(forms.Form):
    capa = forms.ModelChoiceField(queryset=None, required=False)
    version = forms.IntegerField(min_value=1)

    def __init__(self, *args, **kwargs):
        from capa.models import Capa

        super().__init__(*args, **kwargs)
        self.fields["capa"].queryset = Capa.objects.all()
