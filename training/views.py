"""Training pages: My training, the matrix (with CSV/XLSX export), assignments, requirements,
a version's training (release gate, revision impact, sessions), sessions, release gates."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from documents import views as document_views
from documents.models import DocumentType, DocumentVersion
from documents.uploads import CONTENT_TYPES
from qms import roles as qms_roles
from qms.errors import DomainError
from qms.listexport import export_format, list_export
from qms.pagination import BoundedCountPaginator
from qms.permissions import RoleRequiredMixin
from qms.web import TransitionView, add_domain_errors, record_audit_context
from training import exports, selectors, services
from training.filters import AssignmentFilter, MatrixFilterForm, RequirementFilter
from training.forms import (
    ReleaseGateForm,
    RequirementCreateForm,
    RequirementUpdateForm,
    RetireForm,
    RevisionImpactForm,
    SessionForm,
)
from training.models import (
    AssignmentStatus,
    ReleaseGate,
    RevisionImpact,
    SessionAttendee,
    TrainingAssignment,
    TrainingRequirement,
    TrainingSession,
)
from training.workflow import ASSIGNMENT_WORKFLOW, TRAINABLE_VERSION_STATUSES


def assignment_actions(assignment, user):
    """The workflow's buttons, narrowed to who may really take them: the trainee signs their
    own record; a manager waives someone else's."""
    actions = []
    for action in ASSIGNMENT_WORKFLOW.available(assignment, user):
        if action.name == "complete" and user.pk != assignment.user_id:
            continue
        if action.name == "waive" and user.pk == assignment.user_id:
            continue
        actions.append(action)
    return actions


# ---------------------------------------------------------------- my training


class MyTrainingView(RoleRequiredMixin, TemplateView):
    template_name = "training/my.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        open_items = list(selectors.open_assignments_for(user))
        matrix = selectors.training_matrix(user_ids=[user.pk], today=today)
        pending_sessions = list(
            SessionAttendee.objects.filter(user=user, assignment__status=AssignmentStatus.ASSIGNED)
            .select_related("session__trainer", "session__document_version__document")
            .order_by("session__held_on")
        )
        context.update(
            {
                "open_items": open_items,
                "done_items": list(selectors.done_assignments_for(user)),
                "row": matrix.rows[0] if matrix.rows else None,
                "columns": matrix.columns,
                "today": today,
                "overdue_count": sum(1 for a in open_items if a.due_date < today),
                "pending_sessions": pending_sessions,
                "can_sign": not qms_roles.is_read_only(user),
            }
        )
        return context


# ---------------------------------------------------------------- the matrix


class MatrixView(RoleRequiredMixin, TemplateView):
    """The matrix, PER_PAGE people a page (the tiles and the per-document shares cover every
    person the filters select); the CSV export is complete and streamed."""

    template_name = "training/matrix.html"
    PER_PAGE = 50

    def get(self, request, *args, **kwargs):
        form = MatrixFilterForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        matrix = selectors.training_matrix(
            role_id=filters.get("role"),
            department_id=filters.get("department"),
            document_id=filters.get("document"),
        )
        rows = selectors.rows_with_state(matrix, filters.get("status") or None)
        export = request.GET.get("export")
        stamp = timezone.localdate().isoformat()
        if export == "csv":
            response = StreamingHttpResponse(
                exports.matrix_csv_lines(matrix, rows), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="training-matrix-{stamp}.csv"'
            return response
        if export == "xlsx":
            response = HttpResponse(
                exports.matrix_xlsx(matrix, rows),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="training-matrix-{stamp}.xlsx"'
            return response
        page = Paginator(rows, self.PER_PAGE).get_page(request.GET.get("page"))
        context = self.get_context_data(
            form=form,
            matrix=matrix,
            page_obj=page,
            page_rows=page.object_list,
            people=len(rows),
            states=selectors.STATE_LABELS,
            is_filtered=bool(request.GET.keys() - {"page"}),
        )
        return self.render_to_response(context)


# ---------------------------------------------------------------- assignments


class AssignmentListView(RoleRequiredMixin, ListView):
    template_name = "training/assignment_list.html"
    paginate_by = 50
    paginator_class = BoundedCountPaginator
    context_object_name = "assignments"

    def get_queryset(self):
        self.filterset = AssignmentFilter(
            self.request.GET or None, queryset=selectors.assignment_list(self.request.user)
        )
        qs = (
            self.filterset.qs
            if self.filterset.is_bound and self.filterset.is_valid()
            else self.filterset.queryset
        )
        return qs.order_by("status", "due_date", "pk")

    def get(self, request, *args, **kwargs):
        if fmt := export_format(request):  # ?export=csv|xlsx: every row the filters select
            queryset = self.get_queryset()
            return list_export(
                queryset, exports.ASSIGNMENT_COLUMNS, name="training-assignments", fmt=fmt, request=request, filterset=self.filterset
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["today"] = timezone.localdate()
        return context


class AssignmentDetailView(RoleRequiredMixin, DetailView):
    model = TrainingAssignment
    template_name = "training/assignment_detail.html"
    context_object_name = "assignment"
    read_roles = qms_roles.EVERYONE

    def get_queryset(self):
        return selectors.assignment_list(self.request.user).select_related(
            "session__trainer", "superseded_by__document_version"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        assignment = self.object
        context.update(record_audit_context(assignment, self.request.user))
        context["actions"] = assignment_actions(assignment, self.request.user)
        context["action_url"] = f"/training/assignments/{assignment.pk}/transition/"
        context["today"] = timezone.localdate()
        context["notices"] = list(assignment.notices.all())
        version = assignment.document_version
        context["show_content"] = version.status in TRAINABLE_VERSION_STATUSES
        context["can_open_version"] = version.status == "effective" or qms_roles.has_role(
            self.request.user, *qms_roles.READERS
        )
        context["stamp"] = document_views.stamp(version)
        return context


class TrainingCopyView(RoleRequiredMixin, View):
    """The content a trainee must read, for their own assignment. Needed for release-gated
    training: the version is approved, not effective, so the documents register does not show
    it to employees yet. Always an attachment, stamped "APPROVED - not for use" by documents'
    own stamp until the version is effective."""

    model = TrainingAssignment
    read_roles = qms_roles.EVERYONE

    def get(self, request, pk):
        assignment = get_object_or_404(
            selectors.assignment_list(request.user).select_related("document_version__document"),
            pk=pk,
        )
        version = assignment.document_version
        if version.status not in TRAINABLE_VERSION_STATUSES:
            raise Http404("This revision is no longer in use.")
        if not version.file:
            if not version.has_text:
                raise Http404("This revision has no content.")
            header = (
                f"{document_views.stamp(version)}\n{version.document}\nTraining copy for {assignment.user.full_name}.\n"
                + "-" * 72
                + "\n\n"
            )
            response = HttpResponse(
                (header + version.content_text).encode("utf-8"),
                content_type="text/plain; charset=utf-8",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{document_views.download_name(version, "txt")}"'
            )
            return document_views.attachment_headers(response, version)
        try:
            handle = version.file.open("rb")
        except FileNotFoundError:
            raise Http404("The stored file is missing.") from None
        kind = version.file_kind or "bin"
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=document_views.download_name(version, kind),
            content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
        )
        return document_views.attachment_headers(response, version)


class AssignmentTransitionView(TransitionView):
    model = TrainingAssignment
    transition_service = staticmethod(services.assignment_transition)

    def get_queryset(self):
        return selectors.assignment_list(self.request.user)


# ---------------------------------------------------------------- requirements


class RequirementListView(RoleRequiredMixin, FormView):
    template_name = "training/requirement_list.html"
    form_class = RequirementCreateForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        if "is_active" not in params:
            params["is_active"] = "true"
        self.filterset = RequirementFilter(
            params,
            queryset=TrainingRequirement.objects.select_related(
                "role", "document__effective_version"
            ),
        )
        context["filter"] = self.filterset
        context["requirements"] = (
            self.filterset.qs if self.filterset.is_valid() else self.filterset.queryset.none()
        )
        context["can_write"] = qms_roles.has_role(
            self.request.user, *qms_roles.QUALITY
        ) and not qms_roles.is_read_only(self.request.user)
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            requirement = services.requirement_create(
                actor=self.request.user,
                document=data["document"],
                role=data.get("role"),
                job_function=data.get("job_function") or "",
                due_days=data["due_days"],
                only_major_revisions=data["only_major_revisions"],
                reason=data.get("reason") or "",
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, f"Requirement added: {requirement}. Assignments are being created."
        )
        return redirect(requirement.get_absolute_url())


class RequirementDetailView(RoleRequiredMixin, DetailView):
    template_name = "training/requirement_detail.html"
    context_object_name = "requirement"
    queryset = TrainingRequirement.objects.select_related(
        "role", "document__effective_version", "created_by"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(record_audit_context(self.object, self.request.user))
        context.setdefault("form", RequirementUpdateForm(instance=self.object))
        context.setdefault("retire_form", RetireForm(initial={"version": self.object.version}))
        context["can_write"] = qms_roles.has_role(
            self.request.user, *qms_roles.QUALITY
        ) and not qms_roles.is_read_only(self.request.user)
        return context

    def post(self, request, pk):
        self.object = requirement = self.get_object()
        if request.POST.get("retire"):
            form = RetireForm(request.POST)
            if form.is_valid():
                try:
                    services.requirement_retire(
                        requirement,
                        actor=request.user,
                        version=form.cleaned_data["version"],
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as exc:
                    add_domain_errors(form, exc)
                else:
                    messages.success(request, "Requirement retired.")
                    return redirect(requirement.get_absolute_url())
            return self.render_to_response(self.get_context_data(retire_form=form))
        form = RequirementUpdateForm(
            request.POST, instance=TrainingRequirement.objects.get(pk=requirement.pk)
        )
        if form.is_valid():
            try:
                services.requirement_update(
                    requirement,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"],
                    due_days=form.cleaned_data["due_days"],
                    only_major_revisions=form.cleaned_data["only_major_revisions"],
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, "Requirement updated.")
                return redirect(requirement.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))


# ---------------------------------------------------------------- a version's training


class VersionTrainingView(RoleRequiredMixin, DetailView):
    """Who must train on one document version, how far they are, the release gate, the
    revision's training impact, and its sessions."""

    template_name = "training/version.html"
    context_object_name = "version"
    queryset = DocumentVersion.objects.select_related("document")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.object
        assignments = list(
            TrainingAssignment.objects.filter(document_version=version)
            .select_related("user__department")
            .order_by("status", "user__last_name")
        )
        counts = dict.fromkeys(AssignmentStatus.values, 0)
        for a in assignments:
            counts[a.status] += 1
        impact = (
            RevisionImpact.objects.filter(document_version=version)
            .select_related("decided_by")
            .first()
        )
        context.update(
            {
                "assignments": assignments,
                "counts": counts,
                "gate": services.release_gate_status(version),
                "impact": impact,
                "is_major": services.version_is_major(version),
                "impact_form": kwargs.get("impact_form")
                or RevisionImpactForm(
                    initial={"is_major": "1" if services.version_is_major(version) else "0"}
                ),
                "can_classify": version.status in ("draft", "in_review", "approved")
                and version.revision_index > 1,
                "sessions": list(
                    TrainingSession.objects.filter(document_version=version).select_related(
                        "trainer"
                    )
                ),
                "can_write": qms_roles.has_role(self.request.user, *qms_roles.QUALITY)
                and not qms_roles.is_read_only(self.request.user),
                "today": timezone.localdate(),
            }
        )
        return context

    def post(self, request, pk):
        self.object = version = self.get_object()
        form = RevisionImpactForm(request.POST)
        if form.is_valid():
            try:
                services.revision_impact_set(
                    document_version=version,
                    is_major=form.cleaned_data["is_major"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, "Training impact recorded.")
                return redirect("training:version", pk=version.pk)
        return self.render_to_response(self.get_context_data(impact_form=form))


# ---------------------------------------------------------------- sessions


class SessionCreateView(RoleRequiredMixin, FormView):
    model = DocumentVersion  # the URL's pk
    template_name = "training/session_form.html"
    form_class = SessionForm
    read_roles = qms_roles.QUALITY

    def dispatch(self, request, *args, **kwargs):
        self.version = get_object_or_404(
            DocumentVersion.objects.select_related("document"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["trainees"] = TrainingAssignment.objects.filter(
            document_version=self.version, status=AssignmentStatus.ASSIGNED
        ).values_list("user_id", flat=True)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(version=self.version, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            session = services.session_record(
                actor=self.request.user,
                document_version=self.version,
                held_on=data["held_on"],
                attendees=list(data["attendees"]),
                password=data["password"],
                duration_minutes=data["duration_minutes"],
                location=data["location"],
                notes=data["notes"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            "Session recorded and signed. Attendees have been asked to sign their attendance.",
        )
        return redirect(session.get_absolute_url())


class SessionDetailView(RoleRequiredMixin, DetailView):
    model = TrainingSession
    template_name = "training/session_detail.html"
    context_object_name = "session"
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.EVERYONE  # the service checks that the signer is the attendee

    def get_queryset(self):
        return TrainingSession.objects.select_related(
            "trainer", "document_version__document", "signature"
        )

    def get_object(self, queryset=None):
        session = super().get_object(queryset)
        user = self.request.user
        if (
            not qms_roles.has_role(user, *qms_roles.READERS)
            and not session.attendees.filter(user=user).exists()
        ):
            raise Http404
        return session

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attendees = list(self.object.attendees.select_related("user", "assignment"))
        context["attendees"] = attendees
        context["mine"] = next(
            (
                a
                for a in attendees
                if a.user_id == self.request.user.pk and not a.has_signed and a.assignment.is_open
            ),
            None,
        )
        context.update(record_audit_context(self.object, self.request.user))
        return context

    def post(self, request, pk):
        session = self.get_object()
        attendee = (
            session.attendees.filter(user=request.user)
            .select_related("assignment", "session")
            .first()
        )
        if attendee is None:
            messages.error(request, "You are not an attendee of this session.")
            return redirect(session.get_absolute_url())
        try:
            services.attendance_sign(
                attendee=attendee, actor=request.user, password=request.POST.get("password") or None
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Attendance signed: your training is complete.")
        return redirect(session.get_absolute_url())


# ---------------------------------------------------------------- release gates


class ReleaseGateView(RoleRequiredMixin, FormView):
    template_name = "training/gates.html"
    form_class = ReleaseGateForm
    write_roles = frozenset({qms_roles.MANAGER})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        gates = {g.doc_type: g for g in ReleaseGate.objects.all()}
        context["types"] = [
            (value, label, gates.get(value)) for value, label in DocumentType.choices
        ]
        context["waiting"] = [
            (v, services.release_gate_status(v))
            for v in DocumentVersion.objects.filter(
                status="approved",
                document__doc_type__in=[g for g, x in gates.items() if x.is_active],
            ).select_related("document")
        ]
        context["can_write"] = qms_roles.has_role(
            self.request.user, qms_roles.MANAGER
        ) and not qms_roles.is_read_only(self.request.user)
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.release_gate_set(
                actor=self.request.user,
                doc_type=data["doc_type"],
                required_percent=data["required_percent"],
                is_active=data["is_active"],
                reason=data["reason"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Release gate saved.")
        return redirect("training:gates")
