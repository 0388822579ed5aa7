"""Browser forms of the CAPA app. They only shape input; the services decide (and their
DomainErrors come back onto the form's fields)."""

from django import forms
from django.contrib.auth.models import Group
from django.utils import timezone

from capa.filters import quality_users
from capa.models import (
    OCCURRENCE_LABELS,
    SEVERITY_LABELS,
    ActionType,
    Capa,
    FishboneCategory,
    Kind,
    RootCauseMethod,
    Source,
)
from capa.services import MAX_WHYS
from qms import roles as qms_roles
from qms.datetimes import keep_unchanged

SEVERITY_CHOICES = [(n, f"{n} · {label}") for n, label in SEVERITY_LABELS.items()]
OCCURRENCE_CHOICES = [(n, f"{n} · {label}") for n, label in OCCURRENCE_LABELS.items()]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    """To the second (step=1), so that a form saved unchanged keeps the time (issue 15)."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        attrs = {"step": "1", **(kwargs.pop("attrs", None) or {})}
        super().__init__(format="%Y-%m-%dT%H:%M:%S", attrs=attrs, **kwargs)


def apply_domain_error(form, error) -> None:
    """Put a service's DomainError onto the form: field messages where the field exists."""
    if error.field_errors:
        for field, messages in error.field_errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class CapaForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.CORRECTIVE)
    source = forms.ChoiceField(choices=Source.choices)
    problem_statement = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What is wrong, where, since when, how big: the facts, not the cause.",
    )
    severity = forms.TypedChoiceField(choices=SEVERITY_CHOICES, coerce=int, initial=3, help_text="How bad is the harm if it happens?")
    occurrence = forms.TypedChoiceField(choices=OCCURRENCE_CHOICES, coerce=int, initial=3, help_text="How likely is it to happen again?")
    containment_action = forms.CharField(
        label="Containment / immediate action",
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done at once to protect customers (quarantine, stop shipment, inform).",
    )
    containment_by = forms.ModelChoiceField(label="Contained by", queryset=quality_users(), required=False)
    containment_at = forms.DateTimeField(label="Contained at", required=False, widget=DateTimeInput())
    owner = forms.ModelChoiceField(queryset=quality_users())
    due_date = forms.DateField(widget=DateInput())
    complaints = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, **kwargs):
        from complaints.models import Complaint

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_users()
        self.fields["containment_by"].queryset = quality_users()
        self.fields["complaints"].queryset = Complaint.objects.all()

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value < timezone.localdate():
            raise forms.ValidationError("The due date cannot be in the past.")
        return value


class CapaEditForm(CapaForm):
    reason = forms.CharField(
        label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Recorded in the audit trail with your name."
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, instance: Capa, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        del self.fields["complaints"]
        if not self.is_bound:
            for name in self.fields:
                if name not in ("reason", "version") and hasattr(instance, name):
                    self.initial[name] = getattr(instance, name)
            self.initial["version"] = instance.version

    def clean_containment_at(self):
        return keep_unchanged(self.cleaned_data.get("containment_at"), self.instance.containment_at)

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value != self.instance.due_date and value < timezone.localdate():
            raise forms.ValidationError("The due date cannot be in the past.")
        return value


class WhyForm(forms.Form):
    why = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"placeholder": "Why did it happen?"}))
    because = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"placeholder": "Because ..."}))


WhyFormSet = forms.formset_factory(WhyForm, extra=0, max_num=MAX_WHYS, validate_max=True, absolute_max=MAX_WHYS)


class RootCauseForm(forms.Form):
    method = forms.ChoiceField(choices=RootCauseMethod.choices, initial=RootCauseMethod.BOTH)
    conclusion = forms.CharField(
        label="Root-cause conclusion",
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The cause the actions will remove. Needed before actions are planned.",
    )
    reason = forms.CharField(label="Reason for the change", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in FishboneCategory.choices:
            self.fields[f"fishbone_{value}"] = forms.CharField(
                label=label,
                max_length=3000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "placeholder": "One cause per line"}),
            )

    def fishbone_fields(self):
        return [self[f"fishbone_{value}"] for value in FishboneCategory.values]

    def fishbone(self) -> dict:
        return {
            value: [line.strip() for line in self.cleaned_data.get(f"fishbone_{value}", "").splitlines() if line.strip()]
            for value in FishboneCategory.values
        }


class ActionForm(forms.Form):
    action_type = forms.ChoiceField(label="Type", choices=ActionType.choices)
    description = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(queryset=None)
    due_date = forms.DateField(widget=DateInput())
    document = forms.ModelChoiceField(
        queryset=None, required=False, help_text="For 'Revise a controlled document' and 'Retrain a role'."
    )
    role = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, help_text="For 'Retrain a role'.")

    def __init__(self, *args, **kwargs):
        from documents.models import Document

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_users()
        self.fields["document"].queryset = Document.objects.order_by("number")
        self.fields["role"].queryset = Group.objects.filter(name__in=qms_roles.ALL_ROLES).order_by("name")


class ActionEditForm(forms.Form):
    description = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(queryset=None)
    due_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_users()


class EvidenceForm(forms.Form):
    file = forms.FileField(help_text="PDF, image, Word, Excel, text or CSV; checked by content.")


class CheckForm(forms.Form):
    criteria = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Measurable: e.g. no new complaint on this product and category for 90 days.",
    )
    verifier = forms.ModelChoiceField(queryset=None, help_text="Someone other than the CAPA owner.")
    due_date = forms.DateField(
        widget=DateInput(), required=False, help_text="Leave empty for the default: 90 days after implementation."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = quality_users()


class CheckEditForm(forms.Form):
    verifier = forms.ModelChoiceField(queryset=None, help_text="Someone other than the CAPA owner; only they record the result.")
    reason = forms.CharField(
        label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Recorded in the audit trail with your name."
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = quality_users()
