"""Browser forms. They check the shape of the input; the services check the rules."""

from django import forms
from django.utils import timezone

from complaints.filters import quality_users
from complaints.models import (
    BusinessCalendar,
    Category,
    Channel,
    Communication,
    Complaint,
    Customer,
    FailureMode,
    Holiday,
    Product,
    SlaPolicy,
)
from qms.datetimes import LocalDateTimeField, keep_unchanged
from qms.input import BoundedJSONField
from qms.web import ReasonVersionForm

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
# What the datetime inputs show and send: to the second, so that saving a form unchanged keeps
# a time such as 12:41:39 (issue 15); step=1 makes the browser show and send the seconds.
DATETIME_INPUT_SECONDS = "%Y-%m-%dT%H:%M:%S"
YES_NO = [("", "Not decided yet"), ("yes", "Yes"), ("no", "No")]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        attrs = {"step": "1", **(kwargs.pop("attrs", None) or {})}
        super().__init__(format=DATETIME_INPUT_SECONDS, attrs=attrs, **kwargs)


def active_failure_modes():
    return FailureMode.objects.filter(is_active=True, category__is_active=True).select_related("category")


def yes_no_value(value):
    return {"yes": True, "no": False}.get(value)


def yes_no_initial(value):
    return {True: "yes", False: "no"}.get(value, "")


class TriageFieldsMixin(forms.Form):
    investigation_required = forms.ChoiceField(label="Investigation required?", choices=YES_NO, required=False)
    no_investigation_reason = forms.CharField(
        label="Why no investigation", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A written justification, when no earlier investigated complaint covers it.",
    )
    no_investigation_reference = forms.CharField(
        label="Investigated under complaint", max_length=20, required=False,
        help_text="The reference of the earlier complaint investigated for the same problem (e.g. CMP-2026-00042).",
    )
    is_reportable = forms.ChoiceField(label="Reportable to a regulator?", choices=YES_NO, required=False)
    reportability_reason = forms.CharField(
        label="Reportability reason", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )

    def triage_values(self) -> dict:
        data = self.cleaned_data
        return {
            "investigation_required": yes_no_value(data.get("investigation_required")),
            "no_investigation_reason": data.get("no_investigation_reason", ""),
            "no_investigation_reference": data.get("no_investigation_reference") or None,
            "is_reportable": yes_no_value(data.get("is_reportable")),
            "reportability_reason": data.get("reportability_reason", ""),
        }

    def clean_no_investigation_reference(self):
        from complaints.services import complaint_by_reference
        from qms.errors import ValidationFailed

        try:
            return complaint_by_reference(self.cleaned_data.get("no_investigation_reference", "").strip())
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.field_errors["no_investigation_reference"]) from None

    def clean(self):
        from complaints.services import NO_INVESTIGATION_NEEDS_BASIS, REPORTABLE_NEEDS_INVESTIGATION

        cleaned = super().clean()
        if cleaned.get("investigation_required") == "no":
            if cleaned.get("is_reportable") == "yes":
                self.add_error("investigation_required", REPORTABLE_NEEDS_INVESTIGATION)
            if not cleaned.get("no_investigation_reference") and not cleaned.get("no_investigation_reason", "").strip():
                self.add_error("no_investigation_reason", NO_INVESTIGATION_NEEDS_BASIS)
        if cleaned.get("is_reportable") in {"yes", "no"} and not cleaned.get("reportability_reason", "").strip():
            self.add_error("reportability_reason", "Give the reason for the reportability decision.")
        return cleaned


COMPLAINT_FIELDS = [
    "title", "description", "customer", "channel", "product", "lot_number", "udi", "category", "failure_mode",
    "severity", "assignee", "received_at", "is_product_problem",
]


class ComplaintFieldsMixin:
    def setup_fields(self):
        self.fields["assignee"].queryset = quality_users()
        self.fields["assignee"].label_from_instance = lambda user: user.full_name
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["failure_mode"].queryset = active_failure_modes()
        self.fields["failure_mode"].help_text = "What went wrong; recurrence is matched on it (with the product)."
        self.fields["is_product_problem"].label = "A product problem?"
        self.fields["is_product_problem"].help_text = 'Answer "no" for user error or misuse: it then counts as no recurrence.'
        self.fields["received_at"].widget = LocalDateTimeInput()
        self.fields["received_at"].input_formats = [DATETIME_INPUT_SECONDS, DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        self.fields["received_at"].help_text = "When the customer told us; SLA deadlines count from here. Never in the future."
        self.fields["description"].widget = forms.Textarea(attrs={"rows": 5, "maxlength": 10000})
        self.fields["description"].max_length = 10000

    def _get_validation_exclusions(self):
        # The model choice fields have fetched these rows from their (narrower) querysets
        # already; the model's own check would look each one up again, one query per field.
        exclude = super()._get_validation_exclusions()
        return exclude | {name for name in ("customer", "product", "category", "failure_mode", "assignee") if name in self.fields}

    def clean_received_at(self):
        value = self.cleaned_data.get("received_at")
        if value and value > timezone.now() + timezone.timedelta(minutes=2):
            raise forms.ValidationError("The received time cannot be in the future.")
        return value


class ComplaintCreateForm(ComplaintFieldsMixin, TriageFieldsMixin, forms.ModelForm):
    """Log a complaint; the customer is picked from the list or entered here."""

    new_customer_name = forms.CharField(label="New customer: name", max_length=200, required=False)
    new_customer_organisation = forms.CharField(label="New customer: organisation", max_length=200, required=False)
    new_customer_email = forms.EmailField(label="New customer: e-mail", required=False)
    new_customer_phone = forms.CharField(label="New customer: phone", max_length=40, required=False)

    field_order = [
        "title", "description", "customer", "new_customer_name", "new_customer_organisation", "new_customer_email",
        "new_customer_phone", "channel", "received_at", "product", "lot_number", "udi", "category", "failure_mode",
        "severity", "assignee",
    ]

    class Meta:
        model = Complaint
        fields = COMPLAINT_FIELDS
        field_classes = {"received_at": LocalDateTimeField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields()
        self.fields["customer"].required = False
        self.fields["customer"].help_text = "Pick a known customer, or fill in the new customer fields below."
        self.fields["received_at"].initial = timezone.localtime().strftime(DATETIME_INPUT)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customer") and not cleaned.get("new_customer_name", "").strip():
            self.add_error("customer", "Pick the customer or enter a new customer's name.")
        return cleaned


class ComplaintEditForm(ComplaintFieldsMixin, TriageFieldsMixin, ReasonVersionForm):
    class Meta:
        model = Complaint
        fields = COMPLAINT_FIELDS
        field_classes = {"received_at": LocalDateTimeField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields()
        if self.instance.pk and not self.is_bound:
            self.initial["received_at"] = timezone.localtime(self.instance.received_at).strftime(DATETIME_INPUT_SECONDS)
            self.initial["investigation_required"] = yes_no_initial(self.instance.investigation_required)
            self.initial["is_reportable"] = yes_no_initial(self.instance.is_reportable)
            self.initial["no_investigation_reason"] = self.instance.no_investigation_reason
            reference = self.instance.no_investigation_reference
            self.initial["no_investigation_reference"] = reference.reference if reference else ""
            self.initial["reportability_reason"] = self.instance.reportability_reason

    def clean_received_at(self):
        # The time as shown (seconds, or minutes from an input that sends none) is the stored
        # time unchanged, not a new one (qms.datetimes.keep_unchanged).
        return keep_unchanged(super().clean_received_at(), self.instance.received_at if self.instance.pk else None)

    def changes(self) -> dict:
        values = {name: self.cleaned_data[name] for name in COMPLAINT_FIELDS}
        values.update(self.triage_values())
        return values


class AttachmentForm(forms.Form):
    file = forms.FileField()
    description = forms.CharField(max_length=300, required=False)


class CommunicationForm(forms.Form):
    direction = forms.ChoiceField(choices=Communication.Direction.choices)
    channel = forms.ChoiceField(choices=Channel.choices)
    at = LocalDateTimeField(
        label="When", widget=LocalDateTimeInput(), input_formats=[DATETIME_INPUT_SECONDS, DATETIME_INPUT, "%Y-%m-%d %H:%M"], required=False,
        help_text="Leave empty for now.",
    )
    summary = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 3}), label="What was said")


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["name", "organisation", "email", "phone", "address"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class CustomerEditForm(ReasonVersionForm):
    class Meta:
        model = Customer
        fields = ["name", "organisation", "email", "phone", "address"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name"]


class PublicComplaintForm(forms.Form):
    """The public form. `website` is a honeypot: people do not see it, bots fill it in."""

    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Your e-mail", help_text="We send our reply and a tracking reference here.")
    phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)
    organisation = forms.CharField(label="Organisation (optional)", max_length=200, required=False)
    product = forms.ModelChoiceField(
        label="Product (optional)", queryset=Product.objects.filter(is_active=True), required=False, empty_label="Not sure / not listed"
    )
    lot_number = forms.CharField(label="Lot or serial number (optional)", max_length=80, required=False)
    failure_mode = forms.ModelChoiceField(
        label="What went wrong? (optional)", queryset=FailureMode.objects.none(), required=False,
        empty_label="Not sure / something else",
    )
    title = forms.CharField(label="Subject", max_length=200)
    description = forms.CharField(label="What happened?", max_length=10000, widget=forms.Textarea(attrs={"rows": 6}))
    website = forms.CharField(label="Leave this empty", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["failure_mode"].queryset = active_failure_modes()


SCORE_WIDGET = forms.RadioSelect(attrs={"class": "score"})


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(
        label="How satisfied are you with how we handled your complaint?",
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, widget=SCORE_WIDGET,
        help_text="1 = very dissatisfied, 5 = very satisfied",
    )
    ces = forms.TypedChoiceField(
        label="How easy was it to get your complaint handled?",
        choices=[(i, str(i)) for i in range(1, 8)], coerce=int, widget=SCORE_WIDGET,
        help_text="1 = very difficult, 7 = very easy",
    )
    nps = forms.TypedChoiceField(
        label="How likely are you to recommend us to a colleague?",
        choices=[(i, str(i)) for i in range(0, 11)], coerce=int, widget=SCORE_WIDGET,
        help_text="0 = not at all likely, 10 = extremely likely",
    )
    comment = forms.CharField(
        label="Anything else you want to tell us? (optional)", max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description"]


class FailureModeForm(forms.ModelForm):
    class Meta:
        model = FailureMode
        fields = ["category", "name", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)


class SlaPolicyForm(ReasonVersionForm):
    escalation_steps = BoundedJSONField(
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text='A list like [{"level": 1, "percent": 75, "notify": ["assignee"]}]. Targets: assignee, '
        "assignee_manager, quality_managers, head_of_quality.",
    )

    class Meta:
        model = SlaPolicy
        fields = ["first_response_hours", "resolution_hours", "counts_business_time", "calendar", "escalation_steps"]
        labels = {"counts_business_time": "Count business hours on the calendar (off: round-the-clock hours)"}


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class HolidayForm(forms.ModelForm):
    reason = forms.CharField(
        label="Reason", max_length=4000, help_text="Why this day is a holiday (recorded in the audit trail with your name)."
    )

    class Meta:
        model = Holiday
        fields = ["calendar", "date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}


class CalendarForm(ReasonVersionForm):
    """Working periods are typed as "09:00-12:30, 13:30-17:30" (a gap is a break)."""

    working_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple(attrs={"class": "cmp-days"})
    )
    working_periods = forms.CharField(
        max_length=200, help_text='Local times, e.g. "09:00-12:30, 13:30-17:30"; "24:00" ends at midnight.'
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "working_days", "working_periods"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["working_periods"] = ", ".join(f"{a}-{b}" for a, b in self.instance.working_periods)

    def clean_working_periods(self):
        from complaints.sla import parse_periods

        text = self.cleaned_data["working_periods"]
        periods = []
        for chunk in text.split(","):
            parts = [p.strip() for p in chunk.split("-")]
            if len(parts) != 2:
                raise forms.ValidationError('Write periods like "09:00-17:00", separated by commas.')
            periods.append(parts)
        try:
            parse_periods(periods)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return periods
