"""Browser forms. They collect and shape input; the services validate the rules and write."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from documents.models import Document, DocumentType, DocumentVersion
from qms import roles as qms_roles
from qms.web import ReasonVersionForm


def quality_people():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=sorted(qms_roles.QUALITY))
        .exclude(groups__name=qms_roles.AUDITOR)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} ({obj.job_function})" if obj.job_function else obj.full_name


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} ({obj.job_function})" if obj.job_function else obj.full_name


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ContentFieldsMixin(forms.Form):
    """The content of a version: a file and/or text written here."""

    file = forms.FileField(
        required=False,
        label="File",
        help_text="PDF, Word (.docx), Excel (.xlsx), text or Markdown. The type is checked from the content.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.txt,.md"}),
    )
    content_text = forms.CharField(
        required=False,
        strip=False,  # the procedure's text as written: saving unchanged keeps it (issue 15)
        label="Text",
        widget=forms.Textarea(attrs={"rows": 16, "class": "doc-editor", "spellcheck": "true"}),
        help_text="Write the procedure here (plain text or Markdown), instead of or besides a file.",
    )
    effective_from = forms.DateField(
        required=False, widget=DateInput(), label="Effective from",
        help_text="The day the approved version comes into use. It can be changed until submission.",
    )

    def clean_content_text(self):
        # Browsers send a text area's lines with CR LF: the text as it was stored (LF), so that
        # saving it unchanged is no change (issue 15).
        return (self.cleaned_data.get("content_text") or "").replace("\r\n", "\n")


def review_period_field():
    return forms.IntegerField(min_value=1, max_value=120, label="Review period (months)",
                              help_text="How often the owner confirms the document is still right.")


class DocumentCreateForm(ContentFieldsMixin, forms.ModelForm):
    owner = PersonChoiceField(queryset=quality_people(), help_text="Keeps the document right and answers its periodic review.")
    review_period_months = review_period_field()

    class Meta:
        model = Document
        fields = ["title", "doc_type", "owner", "department", "review_period_months"]
        labels = {"review_period_months": "Review period (months)"}

    field_order = ["title", "doc_type", "owner", "department", "review_period_months", "content_text", "file", "effective_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_people()
        self.fields["doc_type"].initial = DocumentType.SOP

    def _post_clean(self):
        # The service builds and validates the document; do not let ModelForm construct one.
        pass


class DocumentEditForm(ReasonVersionForm):
    owner = PersonChoiceField(queryset=quality_people())
    review_period_months = review_period_field()

    class Meta:
        model = Document
        fields = ["title", "owner", "department", "review_period_months"]
        labels = {"review_period_months": "Review period (months)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_people()

    def _post_clean(self):
        pass


class VersionForm(ContentFieldsMixin, forms.ModelForm):
    """A new revision, or a draft's edit (then with reason and version, see VersionEditForm)."""

    remove_file = forms.BooleanField(required=False, label="Remove the current file")

    class Meta:
        model = DocumentVersion
        fields = ["change_summary"]
        widgets = {"change_summary": forms.Textarea(attrs={"rows": 3})}

    field_order = ["change_summary", "content_text", "file", "remove_file", "effective_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.instance and self.instance.file):
            del self.fields["remove_file"]
        if self.instance and self.instance.pk and not self.is_bound:
            self.initial.update(content_text=self.instance.content_text, effective_from=self.instance.effective_from)

    def _post_clean(self):
        pass


class VersionEditForm(VersionForm, ReasonVersionForm):
    class Meta(VersionForm.Meta):
        pass

    field_order = [*VersionForm.field_order, "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False
        self.fields["reason"].help_text = "Optional for a draft; recorded in the audit trail."


class SubmitForm(forms.Form):
    reviewers = PeopleChoiceField(
        queryset=get_user_model().objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Each records a review before the approvers sign.",
    )
    approvers = PeopleChoiceField(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text="Each signs electronically; the version is approved when all have signed.",
    )
    reason = forms.CharField(required=False, label="Note to reviewers", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)

    def __init__(self, *args, version: DocumentVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = quality_people()
        self.fields["approvers"].queryset = quality_people().filter(~Q(pk=version.author_id))


class PeriodicReviewForm(forms.Form):
    comment = forms.CharField(label="What did you check?", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    password = forms.CharField(
        label='Password (electronic signature: "Reviewed, no change")',
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
