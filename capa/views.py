"""The CAPA pages: list, detail (with the fishbone drawn), create (also from a complaint),
edit, root cause analysis, actions with evidence, effectiveness checks, transitions."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Window
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from capa import selectors, services
from capa.exports import CAPA_COLUMNS
from capa.filters import CapaFilter
from capa.forms import (
    ActionEditForm,
    ActionForm,
    CapaEditForm,
    CapaForm,
    CheckEditForm,
    CheckForm,
    EvidenceForm,
    RootCauseForm,
    WhyFormSet,
    apply_domain_error,
)
from capa.models import (
    ActionEvidence,
    Capa,
    CapaAction,
    EffectivenessCheck,
    FishboneCategory,
    RootCauseAnalysis,
)
from capa.workflow import (
    ACTION_WORKFLOW,
    ANALYSIS_STATES,
    CAPA_WORKFLOW,
    CHECK_PLANNING_STATES,
    CHECK_WORKFLOW,
    PLANNING_STATES,
    CapaStatus,
    observation_over,
)
from qms import roles as qms_roles
from qms.errors import DomainError
from qms.listexport import export_format, list_export
from qms.pagination import BoundedCountPaginator
from qms.permissions import RoleRequiredMixin
from qms.uploads import clean_file_name, protect_download
from qms.web import TransitionView, record_audit_context, refuse_form

PAGE_SIZE = 25


class CapaListView(RoleRequiredMixin, TemplateView):
    template_name = "capa/list.html"

    def filtered(self):
        filterset = CapaFilter(self.request.GET or None, queryset=selectors.capa_list_for_user(self.request.user))
        if filterset.is_bound and not filterset.is_valid():
            return filterset, filterset.queryset.none()  # the errors show above an empty list
        return filterset, filterset.qs

    def get(self, request, *args, **kwargs):
        if fmt := export_format(request):  # ?export=csv|xlsx: every row the filters select
            filterset, queryset = self.filtered()
            return list_export(queryset, CAPA_COLUMNS, name="capas", fmt=fmt, request=request, filterset=filterset)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset, queryset = self.filtered()
        page = BoundedCountPaginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            filter=filterset,
            page_obj=page,
            capas=page.object_list,
            may_write=qms_roles.has_role(self.request.user, *qms_roles.QUALITY) and not qms_roles.is_read_only(self.request.user),
            statuses=CapaStatus.choices,
        )
        return context


class CapaDetailView(RoleRequiredMixin, TemplateView):
    template_name = "capa/detail.html"

    def get_context_data(self, pk, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            capa = selectors.capa_get(pk)
        except Capa.DoesNotExist:
            raise Http404("No such CAPA.") from None
        user = self.request.user
        may_write = qms_roles.has_role(user, *qms_roles.QUALITY) and not qms_roles.is_read_only(user)
        analysis = getattr(capa, "root_cause", None)
        actions = list(capa.actions.all())
        checks = list(capa.checks.all())
        recurrences = services.recurrence_complaints(capa) if capa.complaints.all() else None
        recurrence_list, recurrence_count = None, None
        if recurrences is not None:
            # The first ten and the total in one query (a window count over the match).
            recurrence_list = list(recurrences.annotate(match_count=Window(Count("pk")))[:10])
            recurrence_count = recurrence_list[0].match_count if recurrence_list else 0
        context.update(record_audit_context(capa, user, CAPA_WORKFLOW, known=[*capa.complaints.all(), *(a.owner for a in actions)]))
        if not any(c.result == "not_effective" for c in checks):
            # Reopen follows a failed check (done automatically); no button otherwise.
            context["actions"] = [a for a in context["actions"] if a.name != "reopen"]
        context.update(
            capa=capa,
            # The people training_flag asks about, in one query (training_tags).
            training_flag_people=[capa.owner_id, *(a.owner_id for a in actions)],
            analysis=analysis,
            whys=analysis.whys if analysis else [],
            fishbone=selectors.fishbone_layout(analysis, capa.title),
            fishbone_has_causes=bool(analysis and any(analysis.fishbone.values())),
            fishbone_lists=analysis.fishbone_items() if analysis else [(v, label, []) for v, label in FishboneCategory.choices],
            capa_actions=[
                {
                    "action": a,
                    "progress": services.action_progress(a),
                    "available": ACTION_WORKFLOW.available(a, user) if capa.status in PLANNING_STATES else [],
                }
                for a in actions
            ],
            checks=[
                {
                    "check": c,
                    "window_over": observation_over(c),
                    "available": CHECK_WORKFLOW.available(c, user)
                    if capa.status == CapaStatus.EFFECTIVENESS_CHECK and user.pk != capa.owner_id
                    else [],
                }
                for c in checks
            ],
            complaints=list(capa.complaints.all()),
            recurrences=recurrence_list,
            recurrence_count=recurrence_count,
            escalations=list(capa.escalations.all()),
            may_write=may_write,
            may_analyse=may_write and capa.status in ANALYSIS_STATES,
            may_plan=may_write and capa.status in PLANNING_STATES,
            may_plan_checks=may_write and capa.status in CHECK_PLANNING_STATES,
            may_edit=may_write and capa.is_open,
            action_url=reverse("capa:transition", args=[capa.pk]),
            action_form=ActionForm(),
            check_form=CheckForm(),
            evidence_form=EvidenceForm(),
            risk_cells=_risk_cells(capa),
            steps=_steps(capa),
        )
        context["transitions"] = [
            {"t": t, "label": CAPA_WORKFLOW.actions[t.action].label if t.action in CAPA_WORKFLOW.actions else t.action}
            for t in context["transitions"]
        ]
        return context


HAPPY_PATH = (
    CapaStatus.OPEN,
    CapaStatus.INVESTIGATION,
    CapaStatus.ACTION_PLANNING,
    CapaStatus.IMPLEMENTATION,
    CapaStatus.EFFECTIVENESS_CHECK,
    CapaStatus.CLOSED,
)


def _steps(capa):
    """The stepper above the CAPA page: done, current and coming steps of the happy path."""
    if capa.status == CapaStatus.CANCELLED:
        return [{"label": label, "state": "todo"} for _, label in CapaStatus.choices[:6]] + [{"label": "Cancelled", "state": "cancelled"}]
    position = HAPPY_PATH.index(capa.status)
    steps = []
    for index, state in enumerate(HAPPY_PATH):
        kind = "done" if index < position or capa.status == CapaStatus.CLOSED else "current" if index == position else "todo"
        steps.append({"label": CapaStatus(state).label, "state": kind})
    return steps


def _risk_cells(capa):
    """The 5x5 matrix, severity rows from 5 down, with the CAPA's cell marked."""
    from capa.models import risk_level_for

    return [
        [
            {"severity": s, "occurrence": o, "level": risk_level_for(s, o), "current": s == capa.severity and o == capa.occurrence}
            for o in range(1, 6)
        ]
        for s in range(5, 0, -1)
    ]


class CapaCreateView(RoleRequiredMixin, View):
    """New CAPA; `?complaint=<id>` pre-fills it from a complaint and links that complaint."""

    read_roles = qms_roles.QUALITY
    template_name = "capa/form.html"

    def _complaint(self, request):
        from complaints.models import Complaint

        raw = request.GET.get("complaint") or request.POST.get("from_complaint")
        if not raw:
            return None
        try:
            return Complaint.objects.select_related("product").get(pk=int(raw))
        except (ValueError, TypeError, Complaint.DoesNotExist):
            raise Http404("No such complaint.") from None

    def get(self, request):
        complaint = self._complaint(request)
        initial = {"owner": request.user.pk, "due_date": timezone.localdate() + timedelta(days=60)}
        if complaint is not None:
            initial.update(services.capa_initial_from_complaint(complaint))
            initial["complaints"] = [complaint.pk]
        return TemplateResponse(request, self.template_name, {"form": CapaForm(initial=initial), "complaint": complaint})

    def post(self, request):
        complaint = self._complaint(request)
        form = CapaForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            complaints = list(data.pop("complaints") or [])
            try:
                capa = services.capa_create(actor=request.user, complaints=complaints, **data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{capa.reference} created.")
                return redirect(capa.get_absolute_url())
        return TemplateResponse(request, self.template_name, {"form": form, "complaint": complaint}, status=400)


class CapaEditView(RoleRequiredMixin, View):
    read_roles = qms_roles.QUALITY
    template_name = "capa/form.html"

    def get(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        return TemplateResponse(request, self.template_name, {"form": CapaEditForm(instance=capa), "capa": capa})

    def post(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        form = CapaEditForm(request.POST, instance=capa)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason, version = data.pop("reason"), data.pop("version")
            try:
                services.capa_update(capa, actor=request.user, reason=reason, version=version, **data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{capa.reference} saved.")
                return redirect(capa.get_absolute_url())
        return TemplateResponse(request, self.template_name, {"form": form, "capa": capa}, status=400)


class CapaTransitionView(TransitionView):
    model = Capa
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY
    transition_service = staticmethod(services.capa_transition)


class RootCauseEditView(RoleRequiredMixin, View):
    read_roles = qms_roles.QUALITY
    template_name = "capa/root_cause_form.html"

    def _render(self, request, capa, form, formset, status=200):
        return TemplateResponse(
            request, self.template_name, {"capa": capa, "form": form, "formset": formset}, status=status
        )

    def get(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        analysis, _ = RootCauseAnalysis.objects.get_or_create(capa=capa)
        initial = {"method": analysis.method, "conclusion": analysis.conclusion, "version": analysis.version}
        for value, lines in (analysis.fishbone or {}).items():
            initial[f"fishbone_{value}"] = "\n".join(lines)
        whys = list(analysis.whys or [])
        whys += [{}] * max(5 - len(whys), 1) if len(whys) < 10 else []
        return self._render(request, capa, RootCauseForm(initial=initial), WhyFormSet(initial=whys[:10], prefix="whys"))

    def post(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        form = RootCauseForm(request.POST)
        formset = WhyFormSet(request.POST, prefix="whys")
        if form.is_valid() and formset.is_valid():
            whys = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            try:
                services.root_cause_save(
                    capa,
                    actor=request.user,
                    method=form.cleaned_data["method"],
                    whys=whys,
                    fishbone=form.fishbone(),
                    conclusion=form.cleaned_data["conclusion"],
                    version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                why_errors = exc.field_errors.pop("whys", None)
                if why_errors:
                    formset._non_form_errors = formset.error_class(why_errors)
                if exc.field_errors or not why_errors:
                    apply_domain_error(form, exc)
            else:
                messages.success(request, "Root cause analysis saved.")
                return redirect(capa.get_absolute_url() + "#root-cause")
        return self._render(request, capa, form, formset, status=400)


class ActionCreateView(RoleRequiredMixin, View):
    read_roles = qms_roles.QUALITY
    template_name = "capa/action_form.html"

    def get(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        return TemplateResponse(request, self.template_name, {"capa": capa, "form": ActionForm(initial={"owner": capa.owner_id})})

    def post(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                action = services.action_create(capa, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{action} planned.")
                return redirect(capa.get_absolute_url() + "#actions")
        return TemplateResponse(request, self.template_name, {"capa": capa, "form": form}, status=400)


class ActionEditView(RoleRequiredMixin, View):
    read_roles = qms_roles.QUALITY
    template_name = "capa/action_form.html"

    def get(self, request, pk):
        action = get_object_or_404(CapaAction.objects.select_related("capa"), pk=pk)
        form = ActionEditForm(
            initial={"description": action.description, "owner": action.owner_id, "due_date": action.due_date, "version": action.version}
        )
        return TemplateResponse(request, self.template_name, {"capa": action.capa, "action": action, "form": form})

    def post(self, request, pk):
        action = get_object_or_404(CapaAction.objects.select_related("capa"), pk=pk)
        form = ActionEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason, version = data.pop("reason"), data.pop("version")
            try:
                services.action_update(action, actor=request.user, reason=reason, version=version, **data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{action} saved.")
                return redirect(action.get_absolute_url())
        return TemplateResponse(request, self.template_name, {"capa": action.capa, "action": action, "form": form}, status=400)


class ActionTransitionView(TransitionView):
    model = CapaAction
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY
    transition_service = staticmethod(services.action_transition)


class EvidenceUploadView(RoleRequiredMixin, View):
    http_method_names = ["post"]
    read_roles = qms_roles.QUALITY

    def post(self, request, pk):
        action = get_object_or_404(CapaAction.objects.select_related("capa"), pk=pk)
        form = EvidenceForm(request.POST, request.FILES)
        form_id = f"attach-evidence-{action.pk}"
        if not form.is_valid():
            return refuse_form(request, action.get_absolute_url(), form_id, {"file": ["Choose a file to upload as evidence."]})
        try:
            evidence = services.action_add_evidence(action, actor=request.user, upload=form.cleaned_data["file"])
        except DomainError as exc:
            return refuse_form(request, action.get_absolute_url(), form_id, {"file": [exc.message]})
        messages.success(request, f"Evidence {evidence.original_name} added to {action}.")
        return redirect(action.get_absolute_url())


class EvidenceDownloadView(RoleRequiredMixin, View):
    """Evidence is served through this view (permission checked), always as a download."""

    def get(self, request, pk):
        evidence = get_object_or_404(ActionEvidence, pk=pk)
        response = FileResponse(
            evidence.file.open("rb"), as_attachment=True, filename=clean_file_name(evidence.original_name),
            content_type=evidence.content_type,
        )
        return protect_download(response)


class CheckCreateView(RoleRequiredMixin, View):
    read_roles = qms_roles.QUALITY
    template_name = "capa/check_form.html"

    def get(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        return TemplateResponse(request, self.template_name, {"capa": capa, "form": CheckForm()})

    def post(self, request, pk):
        capa = get_object_or_404(Capa, pk=pk)
        form = CheckForm(request.POST)
        if form.is_valid():
            try:
                services.check_create(capa, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "Effectiveness check planned.")
                return redirect(capa.get_absolute_url() + "#checks")
        return TemplateResponse(request, self.template_name, {"capa": capa, "form": form}, status=400)


class CheckEditView(RoleRequiredMixin, View):
    """Name another verifier for a pending check (an edit with a reason)."""

    read_roles = qms_roles.QUALITY
    template_name = "capa/check_form.html"

    def _check(self, pk):
        return get_object_or_404(EffectivenessCheck.objects.select_related("capa__owner", "verifier"), pk=pk)

    def get(self, request, pk):
        check = self._check(pk)
        form = CheckEditForm(initial={"verifier": check.verifier_id, "version": check.version})
        return TemplateResponse(request, self.template_name, {"capa": check.capa, "check": check, "form": form})

    def post(self, request, pk):
        check = self._check(pk)
        form = CheckEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.check_update(check, actor=request.user, reason=data["reason"], version=data["version"], verifier=data["verifier"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"{check}: verifier changed.")
                return redirect(check.get_absolute_url())
        return TemplateResponse(request, self.template_name, {"capa": check.capa, "check": check, "form": form}, status=400)


class CheckResultView(RoleRequiredMixin, View):
    http_method_names = ["post"]
    read_roles = qms_roles.QUALITY

    def post(self, request, pk):
        check = get_object_or_404(EffectivenessCheck.objects.select_related("capa"), pk=pk)
        try:
            services.check_record_result(
                check,
                request.POST.get("action", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
                evidence=request.POST.get("evidence", ""),
                password=request.POST.get("password") or None,
                meaning=request.POST.get("meaning") or None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            check.refresh_from_db()
            messages.success(request, f"{check}: {check.get_result_display().lower()}.")
        return redirect(check.get_absolute_url())
