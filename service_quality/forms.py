"""The service-quality pages' forms. They check the shape of the input; the services check the
rules and their DomainErrors are put on the form (apply_domain_error)."""

from django import forms

from complaints.models import Communication
from service_quality import scoring
from service_quality.models import AutoRule, InteractionKind, Scale, Scorecard, ScorecardSection
from service_quality.services import FOLLOW_UP_DAYS
from service_quality.workflow import ScorecardStatus


def apply_domain_error(form, error) -> None:
    if error.field_errors:
        for field, messages in error.field_errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class ScorecardForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    applies_to = forms.ChoiceField(choices=InteractionKind.choices, label="Evaluates")
    pass_mark = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=80,
        help_text="Score (0-100) at or above which an evaluation passes.",
    )


class SectionForm(forms.Form):
    title = forms.CharField(max_length=120)


class CriterionForm(forms.Form):
    section = forms.ModelChoiceField(queryset=ScorecardSection.objects.none())
    label = forms.CharField(max_length=200)
    guidance = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scale = forms.ChoiceField(choices=Scale.choices)
    weight = forms.IntegerField(min_value=1, max_value=100, initial=1)
    is_critical = forms.BooleanField(
        required=False, label="Critical (failing it fails the evaluation)"
    )
    auto_rule = forms.ChoiceField(
        choices=AutoRule.choices, required=False, label="Automatic measure"
    )
    phrases = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For a required statement: one accepted phrase per line.",
    )

    def __init__(self, *args, scorecard=None, **kwargs):
        super().__init__(*args, **kwargs)
        if scorecard is not None:
            self.fields["section"].queryset = scorecard.sections.all()

    def clean_phrases(self):
        return [line.strip() for line in self.cleaned_data["phrases"].splitlines() if line.strip()]


class RevisionForm(forms.Form):
    change_summary = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="What changes and why"
    )


class EvaluationStartForm(forms.Form):
    """Start an evaluation of one complaint: a communication entry of it, or its handling."""

    scorecard = forms.ModelChoiceField(
        queryset=Scorecard.objects.filter(status=ScorecardStatus.IN_FORCE).order_by("code")
    )
    communication = forms.ModelChoiceField(
        queryset=Communication.objects.none(),
        required=False,
        empty_label="The handling of the complaint as a whole",
    )
    summary = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, complaint=None, **kwargs):
        super().__init__(*args, **kwargs)
        if complaint is not None:
            self.fields["communication"].queryset = complaint.communications.select_related(
                "author"
            ).order_by("at", "id")
            self.fields["communication"].label_from_instance = lambda c: (
                f"{c.at:%d %b %Y %H:%M} {c.get_direction_display()} by {c.author.full_name}: {c.summary[:60]}"
            )


class ScoresForm(forms.Form):
    """One answer and comment per criterion of the evaluation's scorecard."""

    reason = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason (when an answer changes)",
    )

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in rows:
            criterion, score = row["criterion"], row["score"]
            choices = [("", "—")] + [
                (a, a.upper() if a == scoring.NA else a.capitalize())
                for a in scoring.ANSWERS[criterion.scale]
            ]
            answer_name, comment_name = f"answer_{criterion.pk}", f"comment_{criterion.pk}"
            self.fields[answer_name] = forms.ChoiceField(
                choices=choices, required=False, label=criterion.label
            )
            self.fields[comment_name] = forms.CharField(
                max_length=2000, required=False, label="Comment"
            )
            suggestion = row.get("suggestion")
            if score is not None and not self.is_bound:
                self.initial[answer_name] = score.answer
                self.initial[comment_name] = score.comment
            elif suggestion is not None and not self.is_bound:
                self.initial[answer_name] = (
                    suggestion.effective_answer
                )  # a suggestion, saved only if the evaluator saves
            self.rows.append({**row, "answer": self[answer_name], "comment": self[comment_name]})

    def answers(self) -> dict:
        result = {}
        for row in self.rows:
            pk = row["criterion"].pk
            answer = self.cleaned_data.get(f"answer_{pk}")
            if answer:
                result[pk] = {
                    "answer": answer,
                    "comment": self.cleaned_data.get(f"comment_{pk}", ""),
                }
        return result


class AutoScoreDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", "Confirm"), ("override", "Override")])
    answer = forms.ChoiceField(
        choices=[(a, a) for a in ("yes", "no", "na", "1", "2", "3", "4", "5")], required=False
    )
    reason = forms.CharField(max_length=2000, required=False)


class FrictionPhraseForm(forms.Form):
    phrase = forms.CharField(
        max_length=100, help_text="Whole words; end with * to match any ending (cancel*)."
    )


class SamplingRuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    scorecard_code = forms.ChoiceField(choices=(), label="Scorecard")
    department = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Everyone", label="Team"
    )
    person = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Everyone in the team"
    )
    per_person_per_week = forms.IntegerField(
        min_value=0, max_value=50, initial=2, label="Random samples per person per week"
    )
    target_detractors = forms.BooleanField(
        required=False, initial=True, label="Detractor NPS (0-6)"
    )
    target_low_csat = forms.BooleanField(required=False, initial=True, label="CSAT 2 or less")
    target_escalated = forms.BooleanField(required=False, initial=True, label="Escalated")
    target_reopened = forms.BooleanField(required=False, initial=True, label="Reopened")
    target_sla_breached = forms.BooleanField(required=False, initial=True, label="SLA breached")
    due_days = forms.IntegerField(min_value=1, max_value=60, initial=5, label="Days to evaluate")

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        from qms import roles as qms_roles
        from qms.models import Department

        super().__init__(*args, **kwargs)
        codes = (
            Scorecard.objects.filter(status=ScorecardStatus.IN_FORCE)
            .order_by("code")
            .values_list("code", "name")
        )
        self.fields["scorecard_code"].choices = [(code, f"{code} {name}") for code, name in codes]
        self.fields["department"].queryset = Department.objects.order_by("name")
        self.fields["person"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=qms_roles.QUALITY)
            .distinct()
            .order_by("first_name", "last_name")
        )


class CoachingForm(forms.Form):
    moment = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="The moment"
    )
    what_good_looks_like = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="What good looks like"
    )
    agreed_action = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Agreed action"
    )
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Action due")
    follow_up_days = forms.IntegerField(
        min_value=1,
        max_value=180,
        initial=FOLLOW_UP_DAYS,
        required=False,
        label="Follow-up evaluation after (days)",
        help_text="An evaluation of a later interaction is drawn this many days after the action is due.",
    )
    training_document = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Training on a controlled document (optional)",
        help_text="The person is asked to read and sign its effective revision by the action's due date.",
    )

    def __init__(self, *args, **kwargs):
        from documents.models import Document

        super().__init__(*args, **kwargs)
        self.fields["training_document"].queryset = Document.objects.filter(
            effective_version__isnull=False
        ).order_by("number")

    def clean_follow_up_days(self):
        value = self.cleaned_data.get("follow_up_days")
        return FOLLOW_UP_DAYS if value is None else value


CALIBRATION_CANDIDATES = 40


class CalibrationForm(forms.Form):
    """A calibration session on one scorecard in force: a name, two or more evaluators, and the
    interactions (recent communication entries, or recent complaints for a handling scorecard)."""

    name = forms.CharField(max_length=120, label="Session name")
    participants = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Evaluators (scoring blind)",
    )

    def __init__(self, *args, scorecard, **kwargs):
        from django.contrib.auth import get_user_model

        from complaints.models import Complaint
        from service_quality.sampling import evaluator_pool

        super().__init__(*args, **kwargs)
        self.scorecard = scorecard
        User = get_user_model()
        self.fields["participants"].queryset = User.objects.filter(
            pk__in=[u.pk for u in evaluator_pool()]
        ).order_by("first_name", "last_name", "pk")
        self.fields["participants"].label_from_instance = lambda u: u.full_name
        if scorecard.applies_to == InteractionKind.HANDLING:
            recent = Complaint.objects.order_by("-received_at", "-id")[:CALIBRATION_CANDIDATES]
            self.fields["complaints"] = forms.ModelMultipleChoiceField(
                queryset=Complaint.objects.filter(pk__in=[c.pk for c in recent]).order_by(
                    "-received_at", "-id"
                ),
                widget=forms.CheckboxSelectMultiple,
                label="Complaints (their handling)",
            )
            self.fields["complaints"].label_from_instance = lambda c: f"{c.reference} · {c.title}"
        else:
            recent = Communication.objects.filter(author__isnull=False).order_by("-at", "-id")[
                :CALIBRATION_CANDIDATES
            ]
            self.fields["communications"] = forms.ModelMultipleChoiceField(
                queryset=Communication.objects.filter(pk__in=[c.pk for c in recent])
                .select_related("complaint")
                .order_by("-at", "-id"),
                widget=forms.CheckboxSelectMultiple,
                label="Communication entries",
            )
            self.fields["communications"].label_from_instance = lambda c: (
                f"{c.complaint.reference} · {c.at:%d %b} · {c.summary[:80]}"
            )

    def interactions(self):
        if "complaints" in self.cleaned_data:
            return [(c, None) for c in self.cleaned_data["complaints"]]
        return [(c.complaint, c) for c in self.cleaned_data.get("communications", [])]
