"""The service-quality pages: overview, scorecards (list, new, page with sections, criteria,
approval and revisions), evaluations (list, start from a complaint, score, transitions)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from qms import roles as qms_roles
from qms.errors import DomainError
from qms.pagination import BoundedCountPaginator
from qms.permissions import RoleRequiredMixin
from qms.web import TransitionView, record_audit_context
from service_quality import selectors, services
from service_quality.filters import EvaluationFilter, ScorecardFilter
from service_quality.forms import (
    AutoScoreDecisionForm,
    CoachingForm,
    CriterionForm,
    EvaluationStartForm,
    FrictionPhraseForm,
    RevisionForm,
    SamplingRuleForm,
    ScorecardForm,
    ScoresForm,
    SectionForm,
    apply_domain_error,
)
from service_quality.models import (
    AutoScore,
    CalibrationSession,
    CoachingRecord,
    Evaluation,
    EvaluationTask,
    FrictionPhrase,
    Scorecard,
)
from service_quality.permissions import is_evaluator, may_manage_scorecards
from service_quality.workflow import (
    EVALUATION_WORKFLOW,
    SCORECARD_WORKFLOW,
    EvaluationStatus,
    ScorecardStatus,
)

PAGE_SIZE = 25
MANAGERS = frozenset({qms_roles.MANAGER})


class HomeView(RoleRequiredMixin, TemplateView):
    """Overview: the evaluations waiting for me, my latest results, the scorecards in force."""

    template_name = "service_quality/home.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = selectors.evaluation_list_for_user(user)
        context.update(
            to_score=list(visible.filter(evaluator=user, status=EvaluationStatus.DRAFT)[:10])
            if is_evaluator(user)
            else [],
            mine=list(visible.filter(subject=user).exclude(status=EvaluationStatus.DRAFT)[:10]),
            in_force=list(
                Scorecard.objects.filter(status=ScorecardStatus.IN_FORCE).order_by("code")
            ),
            is_evaluator=is_evaluator(user),
        )
        return context


class ScorecardListView(RoleRequiredMixin, TemplateView):
    template_name = "service_quality/scorecard_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = ScorecardFilter(
            self.request.GET or None, queryset=selectors.scorecard_list_for_user(self.request.user)
        )
        queryset = (
            filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        )
        page = BoundedCountPaginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            filter=filterset,
            page_obj=page,
            scorecards=page.object_list,
            may_write=may_manage_scorecards(self.request.user),
        )
        return context


class ScorecardCreateView(RoleRequiredMixin, View):
    read_roles = MANAGERS
    write_roles = MANAGERS
    template_name = "service_quality/scorecard_form.html"

    def get(self, request):
        return TemplateResponse(request, self.template_name, {"form": ScorecardForm()})

    def post(self, request):
        form = ScorecardForm(request.POST)
        if form.is_valid():
            try:
                scorecard = services.scorecard_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{scorecard} created as a draft.")
                return redirect(scorecard.get_absolute_url())
        return TemplateResponse(request, self.template_name, {"form": form}, status=400)


class ScorecardDetailView(RoleRequiredMixin, View):
    """The scorecard page; its POSTs add a section or a criterion to a draft, or start a revision."""

    model = Scorecard
    write_roles = MANAGERS
    template_name = "service_quality/scorecard_detail.html"

    def _get(self, pk):
        try:
            return selectors.scorecard_get(pk)
        except Scorecard.DoesNotExist:
            raise Http404("No such scorecard.") from None

    def _render(self, request, scorecard, *, status=200, **forms):
        may_write = may_manage_scorecards(request.user)
        context = record_audit_context(scorecard, request.user, SCORECARD_WORKFLOW)
        context.update(
            scorecard=scorecard,
            sections=list(scorecard.sections.all()),
            may_edit=may_write and scorecard.is_draft,
            may_revise=may_write and not scorecard.is_draft and _next_revision(scorecard) is None,
            next_revision=_next_revision(scorecard),
            section_form=forms.get("section_form") or SectionForm(),
            criterion_form=forms.get("criterion_form") or CriterionForm(scorecard=scorecard),
            revision_form=forms.get("revision_form") or RevisionForm(),
            action_url=reverse("service_quality:scorecard-transition", args=[scorecard.pk]),
        )
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self._render(request, self._get(pk))

    def post(self, request, pk):
        scorecard = self._get(pk)
        what = request.POST.get("form")
        try:
            if what == "section":
                form = SectionForm(request.POST)
                if form.is_valid():
                    services.section_add(
                        scorecard, actor=request.user, title=form.cleaned_data["title"]
                    )
                    messages.success(request, "Section added.")
                    return redirect(scorecard.get_absolute_url())
                return self._render(request, scorecard, status=400, section_form=form)
            if what == "criterion":
                form = CriterionForm(request.POST, scorecard=scorecard)
                if form.is_valid():
                    data = dict(form.cleaned_data)
                    services.criterion_add(scorecard, actor=request.user, **data)
                    messages.success(request, "Criterion added.")
                    return redirect(scorecard.get_absolute_url())
                return self._render(request, scorecard, status=400, criterion_form=form)
            if what == "revision":
                form = RevisionForm(request.POST)
                if form.is_valid():
                    revision = services.scorecard_new_revision(
                        scorecard,
                        actor=request.user,
                        change_summary=form.cleaned_data["change_summary"],
                    )
                    messages.success(request, f"{revision} started as a draft.")
                    return redirect(revision.get_absolute_url())
                return self._render(request, scorecard, status=400, revision_form=form)
        except DomainError as exc:
            apply_domain_error(form, exc)
            return self._render(
                request, scorecard, status=exc.status_code, **{f"{what}_form": form}
            )
        messages.error(request, "Unknown form.")
        return self._render(request, scorecard, status=400)


def _next_revision(scorecard):
    try:
        return scorecard.next_revision  # select_related by the selector: no query
    except Scorecard.DoesNotExist:
        return None


class ScorecardTransitionView(TransitionView):
    model = Scorecard
    transition_service = staticmethod(services.scorecard_transition)


class EvaluationListView(RoleRequiredMixin, TemplateView):
    template_name = "service_quality/evaluation_list.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = EvaluationFilter(
            self.request.GET or None, queryset=selectors.evaluation_list_for_user(self.request.user)
        )
        queryset = (
            filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        )
        page = BoundedCountPaginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            filter=filterset,
            page_obj=page,
            evaluations=page.object_list,
            statuses=EvaluationStatus.choices,
        )
        return context


class EvaluationCreateView(RoleRequiredMixin, View):
    """Start an evaluation: /service-quality/evaluations/new/?complaint=<id>."""

    read_roles = qms_roles.QUALITY
    template_name = "service_quality/evaluation_form.html"

    def _complaint(self, request):
        from complaints.models import Complaint

        raw = request.GET.get("complaint") or request.POST.get("complaint")
        try:
            return Complaint.objects.get(pk=int(raw))
        except (TypeError, ValueError, Complaint.DoesNotExist):
            raise Http404("Start an evaluation from a complaint.") from None

    def get(self, request):
        if not request.GET.get("complaint"):
            from complaints.models import Complaint

            recent = Complaint.objects.order_by("-received_at", "-id")[:50]
            return TemplateResponse(
                request, "service_quality/evaluation_choose.html", {"complaints": recent}
            )
        complaint = self._complaint(request)
        return TemplateResponse(
            request,
            self.template_name,
            {"form": EvaluationStartForm(complaint=complaint), "complaint": complaint},
        )

    def post(self, request):
        complaint = self._complaint(request)
        form = EvaluationStartForm(request.POST, complaint=complaint)
        if form.is_valid():
            try:
                evaluation = services.evaluation_create(
                    actor=request.user, complaint=complaint, **form.cleaned_data
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{evaluation} started.")
                return redirect(evaluation.get_absolute_url())
        return TemplateResponse(
            request, self.template_name, {"form": form, "complaint": complaint}, status=400
        )


class EvaluationDetailView(RoleRequiredMixin, View):
    """The evaluation page; its POST records the answers of a draft."""

    model = Evaluation
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY
    template_name = "service_quality/evaluation_detail.html"

    def _get(self, request, pk):
        try:
            return selectors.evaluation_get(request.user, pk)
        except Evaluation.DoesNotExist:
            raise Http404("No such evaluation.") from None

    def _render(self, request, evaluation, *, form=None, status=200):
        rows = selectors.evaluation_rows(
            evaluation, selectors.auto_scores_for_evaluation(evaluation)
        )
        may_score = (
            evaluation.status == EvaluationStatus.DRAFT
            and evaluation.evaluator_id == request.user.pk
            and is_evaluator(request.user)
        )
        context = record_audit_context(
            evaluation,
            request.user,
            EVALUATION_WORKFLOW,
            known=[evaluation.subject, evaluation.evaluator],
        )
        context["actions"] = [
            a
            for a in context["actions"]
            if _offer_evaluation_action(a.name, evaluation, request.user)
        ]
        context.update(
            evaluation=evaluation,
            rows=rows,
            form=form or (ScoresForm(rows=rows) if may_score else None),
            may_score=may_score,
            may_decide=is_evaluator(request.user) and request.user.pk != evaluation.subject_id,
            coaching=list(evaluation.coaching.select_related("coach").all()),
            coaching_form=getattr(self, "_coaching_form", None) or CoachingForm(),
            may_coach=evaluation.status in (EvaluationStatus.SUBMITTED, EvaluationStatus.UPHELD)
            and services.may_coach(request.user, evaluation),
            preview=services.evaluation_compute(evaluation),
            action_url=reverse("service_quality:evaluation-transition", args=[evaluation.pk]),
        )
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self._render(request, self._get(request, pk))

    def post(self, request, pk):
        evaluation = self._get(request, pk)
        form = ScoresForm(
            request.POST,
            rows=selectors.evaluation_rows(
                evaluation, selectors.auto_scores_for_evaluation(evaluation)
            ),
        )
        if form.is_valid():
            answers = form.answers()
            if not answers:
                form.add_error(None, "Give at least one answer.")
            else:
                try:
                    services.evaluation_score(
                        evaluation,
                        actor=request.user,
                        answers=answers,
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as exc:
                    apply_domain_error(form, exc)
                    return self._render(
                        request, self._get(request, pk), form=form, status=exc.status_code
                    )
                messages.success(request, "Answers saved.")
                return redirect(evaluation.get_absolute_url())
        return self._render(request, evaluation, form=form, status=400)


def _offer_evaluation_action(name: str, evaluation, user) -> bool:
    """The buttons the page offers: the workflow's guards decide, this only hides the ones
    that would be refused for who the user is (the services check again)."""
    if name == "submit":
        return user.pk == evaluation.evaluator_id
    if name == "dispute":
        return user.pk == evaluation.subject_id
    return user.pk not in (evaluation.evaluator_id, evaluation.subject_id)


class EvaluationTransitionView(TransitionView):
    model = Evaluation
    transition_service = staticmethod(services.evaluation_transition)

    def get_queryset(self):
        return selectors.evaluation_list_for_user(self.request.user)


class AutoScoreDecideView(RoleRequiredMixin, View):
    """POST: confirm an automatic score, or override it with an answer and a reason."""

    http_method_names = ["post"]
    model = AutoScore
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY

    def post(self, request, pk):
        auto_score = get_object_or_404(selectors.auto_score_list_for_user(request.user), pk=pk)
        form = AutoScoreDecisionForm(request.POST)
        back = request.POST.get("next") or reverse("service_quality:home")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("service_quality:home")
        if not form.is_valid():
            messages.error(request, "Choose confirm or override.")
            return redirect(back)
        try:
            if form.cleaned_data["decision"] == "confirm":
                services.auto_score_confirm(
                    auto_score, actor=request.user, reason=form.cleaned_data["reason"]
                )
            else:
                services.auto_score_override(
                    auto_score,
                    actor=request.user,
                    answer=form.cleaned_data["answer"],
                    reason=form.cleaned_data["reason"],
                )
        except DomainError as exc:
            messages.error(
                request,
                exc.message
                if not exc.field_errors
                else " ".join(m for ms in exc.field_errors.values() for m in ms),
            )
        else:
            messages.success(request, "Automatic score decided.")
        return redirect(back)


class FrictionPhraseListView(RoleRequiredMixin, View):
    """The managed friction list: everyone in quality reads it; Quality Managers add and retire."""

    write_roles = MANAGERS
    template_name = "service_quality/friction_list.html"

    def _render(self, request, form=None, status=200):
        context = {
            "phrases": list(FrictionPhrase.objects.order_by("-is_active", "phrase")),
            "form": form or FrictionPhraseForm(),
            "may_write": may_manage_scorecards(request.user),
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(request)

    def post(self, request):
        if request.POST.get("deactivate"):
            row = get_object_or_404(
                FrictionPhrase,
                pk=request.POST.get("deactivate")
                if str(request.POST.get("deactivate")).isdigit()
                else 0,
            )
            try:
                services.friction_phrase_deactivate(
                    row, actor=request.user, reason=request.POST.get("reason", "")
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"“{row.phrase}” is off the list.")
            return redirect("service_quality:friction-list")
        form = FrictionPhraseForm(request.POST)
        if form.is_valid():
            try:
                services.friction_phrase_add(actor=request.user, phrase=form.cleaned_data["phrase"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "Phrase added.")
                return redirect("service_quality:friction-list")
        return self._render(request, form, status=400)


class TaskListView(RoleRequiredMixin, TemplateView):
    """Sampled interactions waiting for evaluation: mine, or all for Quality Managers and Auditors."""

    template_name = "service_quality/task_list.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = selectors.task_list_for_user(self.request.user)
        if self.request.GET.get("status") in {"open", "started", "done"}:
            queryset = queryset.filter(status=self.request.GET["status"])
        page = BoundedCountPaginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, tasks=page.object_list)
        return context


class TaskStartView(RoleRequiredMixin, View):
    http_method_names = ["post"]
    model = EvaluationTask
    read_roles = qms_roles.QUALITY

    def post(self, request, pk):
        from service_quality import sampling

        task = get_object_or_404(selectors.task_list_for_user(request.user), pk=pk)
        try:
            evaluation = sampling.task_start(task, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("service_quality:task-list")
        return redirect(evaluation.get_absolute_url())


class SamplingRuleListView(RoleRequiredMixin, View):
    write_roles = MANAGERS
    template_name = "service_quality/rule_list.html"

    def _render(self, request, form=None, status=200):
        from service_quality.models import SamplingRule

        context = {
            "rules": list(
                SamplingRule.objects.select_related("department", "person").order_by("name", "id")
            ),
            "form": form or SamplingRuleForm(),
            "may_write": may_manage_scorecards(request.user),
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(request)

    def post(self, request):
        from service_quality import sampling

        form = SamplingRuleForm(request.POST)
        if form.is_valid():
            try:
                sampling.sampling_rule_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "Sampling rule created; the next hourly draw uses it.")
                return redirect("service_quality:rule-list")
        return self._render(request, form, status=400)


class CoachingCreateView(RoleRequiredMixin, View):
    """POST from the evaluation page: a coaching record on this evaluation."""

    http_method_names = ["post"]
    model = Evaluation
    read_roles = qms_roles.QUALITY

    def post(self, request, pk):
        try:
            evaluation = selectors.evaluation_get(request.user, pk)
        except Evaluation.DoesNotExist:
            raise Http404("No such evaluation.") from None
        form = CoachingForm(request.POST)
        if form.is_valid():
            try:
                record = services.coaching_create(
                    evaluation, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, "Coaching recorded; the person is asked to acknowledge it."
                )
                return redirect(record.get_absolute_url())
        view = EvaluationDetailView()
        view._coaching_form = form
        return view._render(request, evaluation, status=400)


class CoachingDetailView(RoleRequiredMixin, TemplateView):
    model = CoachingRecord
    template_name = "service_quality/coaching_detail.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, pk, **kwargs):
        from service_quality.workflow import COACHING_WORKFLOW

        context = super().get_context_data(**kwargs)
        try:
            record = (
                selectors.coaching_list_for_user(self.request.user)
                .select_related(
                    "follow_up_task__evaluation",
                    "training_assignment__document_version__document",
                )
                .get(pk=pk)
            )
        except CoachingRecord.DoesNotExist:
            raise Http404("No such coaching record.") from None
        try:
            follow_up_task = record.follow_up_task
        except EvaluationTask.DoesNotExist:
            follow_up_task = None
        context["follow_up_task"] = follow_up_task
        context.update(
            record_audit_context(
                record, self.request.user, COACHING_WORKFLOW, known=[record.person, record.coach]
            )
        )
        is_person = self.request.user.pk == record.person_id
        context["actions"] = [
            a for a in context["actions"] if (a.name == "acknowledge") == is_person
        ]
        context.update(
            record=record,
            today=timezone.localdate(),
            action_url=reverse("service_quality:coaching-transition", args=[record.pk]),
        )
        return context


class CoachingTransitionView(TransitionView):
    model = CoachingRecord
    transition_service = staticmethod(services.coaching_transition)

    def get_queryset(self):
        return selectors.coaching_list_for_user(self.request.user)


class CoachingListView(RoleRequiredMixin, TemplateView):
    template_name = "service_quality/coaching_list.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = BoundedCountPaginator(
            selectors.coaching_list_for_user(self.request.user), PAGE_SIZE
        ).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, records=page.object_list)
        return context


class CalibrationListView(RoleRequiredMixin, TemplateView):
    """Calibration sessions, and how far the automatic scores agree with people's (per criterion)."""

    template_name = "service_quality/calibration_list.html"

    def get_context_data(self, **kwargs):
        from service_quality import agreement
        from service_quality.models import CalibrationSession

        context = super().get_context_data(**kwargs)
        context.update(
            sessions=list(
                CalibrationSession.objects.select_related("scorecard", "facilitator").order_by(
                    "-created_at"
                )[:50]
            ),
            auto_agreement=agreement.auto_vs_human(),
            may_start=is_evaluator(self.request.user),
        )
        return context


class CalibrationCreateView(RoleRequiredMixin, View):
    """Start a calibration session: choose a scorecard in force, then the evaluators and the
    interactions; the one who starts it facilitates (records the agreed answers, closes it)."""

    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY
    template_name = "service_quality/calibration_form.html"

    def _scorecard(self, request):
        raw = request.GET.get("scorecard", "")
        if not raw.isdigit():
            return None
        return Scorecard.objects.filter(pk=int(raw), status=ScorecardStatus.IN_FORCE).first()

    def _render(self, request, scorecard, form=None, status=200):
        from service_quality.forms import CalibrationForm

        may_start = is_evaluator(request.user)
        context = {
            "scorecard": scorecard,
            "scorecards": list(
                Scorecard.objects.filter(status=ScorecardStatus.IN_FORCE).order_by("code")
            ),
            "may_start": may_start,
            "form": form
            or (CalibrationForm(scorecard=scorecard) if scorecard and may_start else None),
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(request, self._scorecard(request))

    def post(self, request):
        from service_quality import calibration
        from service_quality.forms import CalibrationForm

        if not is_evaluator(request.user):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Evaluators run calibration sessions.")
        scorecard = self._scorecard(request)
        if scorecard is None:
            messages.error(request, "Choose a scorecard in force first.")
            return self._render(request, None, status=400)
        form = CalibrationForm(request.POST, scorecard=scorecard)
        if form.is_valid():
            try:
                session = calibration.calibration_create(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    scorecard=scorecard,
                    participants=list(form.cleaned_data["participants"]),
                    interactions=form.interactions(),
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{session} started; the evaluators score blind.")
                return redirect(session.get_absolute_url())
        return self._render(request, scorecard, form, status=400)


class CalibrationDetailView(RoleRequiredMixin, View):
    model = CalibrationSession
    write_roles = qms_roles.QUALITY
    template_name = "service_quality/calibration_detail.html"

    def _get(self, pk):
        from service_quality.models import CalibrationSession

        try:
            return CalibrationSession.objects.select_related("scorecard", "facilitator").get(pk=pk)
        except CalibrationSession.DoesNotExist:
            raise Http404("No such session.") from None

    def get(self, request, pk, status=200):
        from service_quality import calibration

        session = self._get(pk)
        view = calibration.calibration_view(session, request.user)
        items = list(session.items.select_related("complaint", "communication"))
        criteria = list(session.scorecard.criteria.all())
        grid = [
            {
                "item": item,
                "cells": [
                    {
                        "criterion": c,
                        "key": f"{item.pk}:{c.pk}",
                        "mine": view["mine"].get((item.pk, c.pk), ""),
                        "agreed": view["agreed"].get((item.pk, c.pk), ""),
                    }
                    for c in criteria
                ],
            }
            for item in items
        ]
        context = {
            "session": session,
            "grid": grid,
            "criteria": criteria,
            "view": view,
            "is_participant": session.participants.filter(pk=request.user.pk).exists(),
            "is_facilitator": session.facilitator_id == request.user.pk,
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def post(self, request, pk):
        from service_quality import calibration

        session = self._get(pk)
        what = request.POST.get("form")
        answers = {k[2:]: v for k, v in request.POST.items() if k.startswith("a_") and v}
        try:
            if what == "score":
                calibration.calibration_score(session, actor=request.user, answers=answers)
            elif what == "agree":
                calibration.calibration_agree(session, actor=request.user, answers=answers)
            elif what == "close":
                calibration.calibration_close(session, actor=request.user)
            else:
                raise DomainError("Unknown form.")
        except DomainError as exc:
            messages.error(request, exc.message)
            return self.get(request, pk, status=exc.status_code)
        messages.success(request, "Saved.")
        return redirect(session.get_absolute_url())


class DashboardView(RoleRequiredMixin, TemplateView):
    """Quality score per person, team and criterion week by week, critical fails, coverage,
    coaching on time and the correlation with CSAT and NPS (service_quality/dashboard.py),
    each reader seeing the evaluations they may read."""

    template_name = "service_quality/dashboard.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        from service_quality import dashboard

        context = super().get_context_data(**kwargs)
        filters = dashboard.Filters.from_query(self.request.GET)
        context.update(
            filters=filters,
            week_choices=dashboard.WEEK_CHOICES,
            board=dashboard.service_quality_dashboard(self.request.user, filters),
        )
        return context
