from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from documents.models import Document, DocumentType
from training.models import TrainingRequirement


class RequirementCreateForm(forms.Form):
    document = forms.ModelChoiceField(queryset=Document.objects.order_by("number"), empty_label="Choose a document")
    role = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False, empty_label="No role (use a job function)", help_text="Everyone with this role…")
    job_function = forms.CharField(max_length=120, required=False, help_text="…or everyone with this job function.")
    due_days = forms.IntegerField(min_value=1, max_value=365, initial=30, label="Due within (days)")
    only_major_revisions = forms.BooleanField(required=False, label="Only major revisions need retraining")
    reason = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if bool(data.get("role")) == bool((data.get("job_function") or "").strip()):
            raise forms.ValidationError("Choose either a role or a job function (one of the two).")
        return data


class RequirementUpdateForm(forms.ModelForm):
    reason = forms.CharField(label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = TrainingRequirement
        fields = ["due_days", "only_major_revisions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RevisionImpactForm(forms.Form):
    is_major = forms.TypedChoiceField(
        choices=[("1", "Major: everyone required retrains"), ("0", "Minor: requirements marked 'only major' carry over")],
        coerce=lambda v: v == "1",
        label="Training impact of this revision",
    )
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class SessionForm(forms.Form):
    held_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate)
    duration_minutes = forms.IntegerField(min_value=5, max_value=600, initial=60)
    location = forms.CharField(max_length=120, required=False)
    notes = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attendees = forms.ModelMultipleChoiceField(queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple)
    password = forms.CharField(widget=forms.PasswordInput, max_length=256, label="Your password (signature: Training delivered)")

    def __init__(self, *args, trainees=None, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["attendees"].queryset = User.objects.filter(pk__in=trainees or []).order_by("last_name", "first_name")
        self.fields["attendees"].label_from_instance = lambda u: f"{u.full_name} ({u.username})"


class ReleaseGateForm(forms.Form):
    doc_type = forms.ChoiceField(choices=DocumentType.choices, label="Document type")
    required_percent = forms.IntegerField(min_value=1, max_value=100, initial=100, label="Share trained before release (%)")
    is_active = forms.BooleanField(required=False, initial=True, label="Gate active")
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
