"""Browser forms. They collect and shape input; the services validate the rules and write."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from documents.models import SIGNOFF_ROLES, Document, DocumentType, DocumentVersion
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

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = quality_people()
        if user is not None and not qms_roles.has_role(user, qms_roles.MANAGER):
            # A controlled change (issue 15): shown, but only a Quality Manager changes it.
            for name in ("owner", "review_period_months"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only a Quality Manager changes this."

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
        self.fields["reason"].help_text = "What you changed and why; recorded in the audit trail with your name."


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
        from documents.selectors import approval_rule_for, version_content_editor_ids

        super().__init__(*args, **kwargs)
        # Offer only the people the approval matrix allows and who did not change the content;
        # the service checks the same rule for whatever is posted (issue 16).
        rule = approval_rule_for(version.document.doc_type)
        editors = version_content_editor_ids(version)
        for name, roles, job_functions in (("reviewers", rule.reviewer_roles, rule.reviewer_job_functions),
                                           ("approvers", rule.approver_roles, rule.approver_job_functions)):
            people = quality_people().filter(groups__name__in=roles).exclude(pk__in=editors)
            if job_functions:
                matches = Q()
                for job in job_functions:
                    matches |= Q(job_function__iexact=job)
                people = people.filter(matches)
            self.fields[name].queryset = people.distinct()
        if rule.required_approver_role:
            self.fields["approvers"].help_text += f" At least one must be a {rule.required_approver_role}."


class PeriodicReviewForm(forms.Form):
    comment = forms.CharField(label="What did you check?", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    password = forms.CharField(
        label='Password (electronic signature: "Reviewed, no change")',
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


ROLE_CHOICES = [(role, role) for role in SIGNOFF_ROLES]


class ApprovalRuleForm(forms.Form):
    """One row of the approval matrix; documents.services.approval_rule_set validates it."""

    reviewer_roles = forms.MultipleChoiceField(choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple,
                                               label="Reviewers may be")
    reviewer_job_functions = forms.CharField(
        required=False, max_length=6000, widget=forms.Textarea(attrs={"rows": 2}), label="Reviewers' job functions",
        help_text="One per line or separated by commas; empty: any job function.",
    )
    approver_roles = forms.MultipleChoiceField(choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple,
                                               label="Approvers may be")
    approver_job_functions = forms.CharField(
        required=False, max_length=6000, widget=forms.Textarea(attrs={"rows": 2}), label="Approvers' job functions",
        help_text="One per line or separated by commas; empty: any job function.",
    )
    required_approver_role = forms.ChoiceField(
        choices=[("", "No requirement"), *ROLE_CHOICES], required=False, label="At least one approver is a",
        help_text="The strict default: at least one Quality Manager approves every controlled document.",
    )
    reason = forms.CharField(label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Recorded in the audit trail with your name.")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    @classmethod
    def for_rule(cls, rule, data=None):
        initial = {
            "reviewer_roles": rule.reviewer_roles, "approver_roles": rule.approver_roles,
            "reviewer_job_functions": "\n".join(rule.reviewer_job_functions),
            "approver_job_functions": "\n".join(rule.approver_job_functions),
            "required_approver_role": rule.required_approver_role, "version": rule.version,
        }
        return cls(data=data, initial=initial)
