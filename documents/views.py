"""The browser interface of controlled documents. Every write calls a service; domain errors
become form errors or messages, never a 500."""

import difflib

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.text import slugify
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from documents import selectors, services
from documents.exports import DOCUMENT_COLUMNS
from documents.filters import DocumentFilter
from documents.forms import (
    ApprovalRuleForm,
    DocumentCreateForm,
    DocumentEditForm,
    PeriodicReviewForm,
    SubmitForm,
    VersionEditForm,
    VersionForm,
)
from documents.models import Document, DocumentType, DocumentVersion, VersionStatus
from documents.uploads import CONTENT_TYPES
from documents.workflow import VERSION_WORKFLOW
from qms import roles as qms_roles
from qms.audit.selectors import record_history
from qms.errors import DomainError
from qms.listexport import export_format, list_export
from qms.models import Signature, Transition
from qms.pagination import BoundedCountPaginator
from qms.permissions import RoleRequiredMixin
from qms.uploads import protect_download


def apply_errors(form, exc: DomainError) -> None:
    """Show a service's refusal on the form: field messages where the field exists."""
    placed = False
    for field, errors in exc.field_errors.items():
        target = field if field in form.fields else None
        if field == "content" and "content_text" in form.fields:
            target = "content_text"
        for error in errors:
            form.add_error(target, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class DocumentListView(RoleRequiredMixin, ListView):
    template_name = "documents/document_list.html"
    context_object_name = "documents"
    paginate_by = 25
    paginator_class = BoundedCountPaginator
    read_roles = qms_roles.EVERYONE

    def get_queryset(self):
        self.filterset = DocumentFilter(
            self.request.GET, queryset=selectors.document_list_for_user(self.request.user), request=self.request
        )
        queryset = self.filterset.qs if self.filterset.is_valid() else self.filterset.queryset.none()
        return queryset

    def get(self, request, *args, **kwargs):
        if fmt := export_format(request):  # ?export=csv|xlsx: every row the filters select
            queryset = self.get_queryset()
            return list_export(queryset, DOCUMENT_COLUMNS, name="documents", fmt=fmt, request=request, filterset=self.filterset)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for document in context["documents"]:
            document.review_state = selectors.review_state(document, today)
        context["filter"] = self.filterset
        context["sees_all"] = selectors.sees_all_versions(self.request.user)
        context["may_write"] = qms_roles.may_act(self.request.user, *qms_roles.QUALITY)
        return context


class DocumentCreateView(RoleRequiredMixin, FormView):
    template_name = "documents/document_form.html"
    form_class = DocumentCreateForm
    read_roles = qms_roles.QUALITY

    def get_initial(self):
        return {"owner": self.request.user, "review_period_months": 24, "effective_from": timezone.localdate(),
                "department": self.request.user.department_id}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            document = services.document_create(
                actor=self.request.user, title=data["title"], doc_type=data["doc_type"], owner=data["owner"],
                department=data["department"], review_period_months=data["review_period_months"],
                content_text=data["content_text"], upload=data.get("file"), effective_from=data["effective_from"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{document.number} created with revision 1 as a draft.")
        return redirect(document.get_absolute_url())

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="New controlled document", **kwargs)


class DocumentMixin:
    model = Document  # the record these pages are about (read by the URL walk test)

    def get_document(self):
        if not hasattr(self, "_document"):
            self._document = selectors.document_get(self.request.user, self.kwargs["pk"])
        return self._document


class DocumentDetailView(RoleRequiredMixin, DocumentMixin, TemplateView):
    template_name = "documents/document_detail.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        user = self.request.user
        document = self.get_document()
        versions = list(selectors.versions_for_user(user, document))
        sees_all = selectors.sees_all_versions(user)
        context = super().get_context_data(**kwargs)
        context.update(
            document=document,
            versions=versions,
            effective=next((v for v in versions if v.status == VersionStatus.EFFECTIVE), None),
            open_version=next((v for v in versions if v.status in ("draft", "in_review", "approved")), None),
            sees_all=sees_all,
            review_state=selectors.review_state(document),
        )
        if sees_all:
            version_type = ContentType.objects.get_for_model(DocumentVersion)
            ids = [v.pk for v in versions]
            by_id = {v.pk: v for v in versions}
            transitions = labelled(
                Transition.objects.filter(content_type=version_type, object_id__in=ids).select_related("actor", "signature").order_by("-at", "-id")[:100]
            )
            for item in transitions:
                item.version_obj = by_id.get(item.object_id)
            # The signatures of every revision and of the document itself (periodic reviews), in one query.
            signatures = list(
                Signature.objects.filter(
                    Q(content_type=version_type, object_id__in=ids)
                    | Q(content_type=ContentType.objects.get_for_model(document), object_id=document.pk)
                ).select_related("signer").order_by("-signed_at", "-id")
            )
            context.update(
                transitions=transitions,
                signatures=signatures,
                history_entries=record_history(document, limit=30, known=versions),
                periodic_reviews=list(document.periodic_reviews.select_related("reviewed_by", "version")[:20]),
                may_write=qms_roles.may_act(user, *qms_roles.QUALITY),
                may_review=(user.pk == document.owner_id or qms_roles.has_role(user, qms_roles.MANAGER)) and not qms_roles.is_read_only(user),
                review_form=PeriodicReviewForm(),
            )
        return context


class DocumentEditView(RoleRequiredMixin, DocumentMixin, FormView):
    template_name = "documents/document_form.html"
    form_class = DocumentEditForm
    read_roles = qms_roles.QUALITY

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_document(), "user": self.request.user}

    def form_valid(self, form):
        document = self.get_document()
        data = form.cleaned_data
        try:
            services.document_update(
                document, actor=self.request.user, reason=data["reason"], expected_version=data["version"],
                **{name: data[name] for name in ("title", "owner", "department", "review_period_months")},
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{document.number} saved.")
        return redirect(document.get_absolute_url())

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Edit {self.get_document()}", document=self.get_document(), **kwargs)


class VersionMixin(DocumentMixin):
    def get_version(self):
        if not hasattr(self, "_version"):
            self._version = selectors.version_get(self.request.user, self.get_document(), self.kwargs["version_pk"])
        return self._version


class VersionDetailView(RoleRequiredMixin, VersionMixin, TemplateView):
    template_name = "documents/version_detail.html"
    read_roles = qms_roles.EVERYONE

    def get_version(self):
        """The version out of the document's versions the user may see, read once: the page
        also lists the others (no second query for them)."""
        if not hasattr(self, "_version"):
            document = self.get_document()
            self._versions = list(selectors.versions_for_user(self.request.user, document))
            for version in self._versions:
                version.document = document
            self._version = next((v for v in self._versions if v.pk == self.kwargs["version_pk"]), None)
            if self._version is None:
                raise Http404("No such version, or it is not available to you.")
        return self._version

    def get_context_data(self, **kwargs):
        user = self.request.user
        version = self.get_version()
        context = super().get_context_data(version=version, document=version.document, **kwargs)
        if selectors.sees_all_versions(user):
            actions = VERSION_WORKFLOW.available(version, user)
            may_submit = any(a.name == "submit" for a in actions)
            context.update(
                signoffs=selectors.signoffs_of(version),
                actions=[a for a in actions if a.name != "submit"],
                may_submit=may_submit,
                # Built only for a draft the user may submit: it reads the approval matrix and
                # the version's editors (two queries) to offer only eligible people.
                submit_form=SubmitForm(version=version) if may_submit else None,
                history_entries=record_history(version, limit=50, known=self._versions),
                signatures=list(Signature.objects.filter(content_type=ContentType.objects.get_for_model(version), object_id=version.pk).select_related("signer")),
                transitions=labelled(Transition.objects.filter(content_type=ContentType.objects.get_for_model(version), object_id=version.pk).select_related("actor", "signature").order_by("-at", "-id")),
                other_versions=[v for v in self._versions if v.pk != version.pk and v.has_text],
                sees_all=True,
            )
        return context


class VersionCreateView(RoleRequiredMixin, DocumentMixin, FormView):
    template_name = "documents/version_form.html"
    form_class = VersionForm
    read_roles = qms_roles.QUALITY

    def get_initial(self):
        effective = self.get_document().effective_version
        return {"content_text": effective.content_text if effective else "", "effective_from": timezone.localdate()}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            version = services.version_create(
                document=self.get_document(), actor=self.request.user, change_summary=data["change_summary"],
                content_text=data["content_text"], upload=data.get("file"), effective_from=data["effective_from"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Revision {version.revision} started as a draft.")
        return redirect(version.get_absolute_url())

    def get_context_data(self, **kwargs):
        document = self.get_document()
        return super().get_context_data(document=document, title=f"New revision of {document.number}", **kwargs)


class VersionEditView(RoleRequiredMixin, VersionMixin, FormView):
    template_name = "documents/version_form.html"
    form_class = VersionEditForm
    read_roles = qms_roles.QUALITY

    def get(self, request, *args, **kwargs):
        version = self.get_version()
        if not version.is_editable:
            messages.error(request, f"{version} is {version.get_status_display().lower()} and cannot be edited.")
            return redirect(version.get_absolute_url())
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_version()}

    def form_valid(self, form):
        version = self.get_version()
        data = form.cleaned_data
        try:
            services.version_update(
                version, actor=self.request.user, reason=data.get("reason", ""), expected_version=data["version"],
                upload=data.get("file"), remove_file=data.get("remove_file", False),
                change_summary=data["change_summary"], content_text=data["content_text"], effective_from=data["effective_from"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{version} saved.")
        return redirect(version.get_absolute_url())

    def get_context_data(self, **kwargs):
        version = self.get_version()
        return super().get_context_data(document=version.document, version=version, title=f"Edit {version}", **kwargs)


class VersionTransitionView(RoleRequiredMixin, VersionMixin, View):
    """POST action, reason (password, meaning for signed steps; reviewers, approvers to submit)."""

    http_method_names = ["post"]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY

    def post(self, request, *args, **kwargs):
        version = self.get_version()
        action = request.POST.get("action", "")
        data = {"reviewers": request.POST.getlist("reviewers"), "approvers": request.POST.getlist("approvers")}
        try:
            services.version_transition(
                version, action, actor=request.user, reason=request.POST.get("reason", ""),
                password=request.POST.get("password") or None, meaning=request.POST.get("meaning") or None, data=data,
            )
        except DomainError as exc:
            details = "; ".join(f"{', '.join(errors)}" for errors in exc.field_errors.values())
            messages.error(request, f"{exc.message} {details}".strip())
        else:
            version.refresh_from_db()
            messages.success(request, f"{version}: {VERSION_WORKFLOW.get_action(action).label.lower()} done; it is {version.get_status_display().lower()}.")
        return redirect(version.get_absolute_url())


def labelled(transitions) -> list:
    items = list(transitions)
    for item in items:
        action = VERSION_WORKFLOW.actions.get(item.action)
        item.label = action.label if action else item.action
    return items


def stamp(version: DocumentVersion) -> str:
    """The control statement printed on every copy (ISO 9001 7.5.3.2)."""
    document = version.document
    if version.status == VersionStatus.EFFECTIVE:
        return f"Controlled copy, revision {version.revision}, effective from {version.effective_from:%d %b %Y}"
    label = version.get_status_display().upper()
    return f"{label} - not for use: {document.number} revision {version.revision} ({label.lower()})"


def download_name(version: DocumentVersion, ext: str) -> str:
    document = version.document
    state = f"effective-{version.effective_from:%Y-%m-%d}" if version.status == VersionStatus.EFFECTIVE else version.status
    title = slugify(document.title)[:60] or "document"
    return f"{document.number}_rev{version.revision}_controlled-copy_{state}_{title}.{ext}"


def attachment_headers(response, version) -> HttpResponse:
    protect_download(response)
    response["X-QMS-Control-Statement"] = stamp(version)
    response["Cache-Control"] = "private, no-store"
    return response


class VersionDownloadView(RoleRequiredMixin, VersionMixin, View):
    """Always an attachment with a safe, stamped name: an uploaded file is never rendered
    inline (HTML or script in it cannot run in our origin). Text gets the stamp as a header."""

    read_roles = qms_roles.EVERYONE

    def get(self, request, *args, **kwargs):
        version = self.get_version()
        if request.GET.get("part") == "text" or not version.file:
            if not version.has_text:
                raise Http404("This version has no text.")
            header = (
                f"{stamp(version)}\n{version.document.number} {version.document.title}\n"
                "Uncontrolled when printed: check the QMS for the current revision before use.\n"
                + "-" * 72 + "\n\n"
            )
            response = HttpResponse((header + version.content_text).encode("utf-8"), content_type="text/plain; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{download_name(version, "txt")}"'
            return attachment_headers(response, version)
        try:
            handle = version.file.open("rb")
        except FileNotFoundError:
            raise Http404("The stored file is missing.") from None
        kind = version.file_kind or "bin"
        response = FileResponse(
            handle, as_attachment=True, filename=download_name(version, kind),
            content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
        )
        return attachment_headers(response, version)


class VersionPrintView(RoleRequiredMixin, VersionMixin, TemplateView):
    template_name = "documents/version_print.html"
    read_roles = qms_roles.EVERYONE

    def get_context_data(self, **kwargs):
        version = self.get_version()
        return super().get_context_data(version=version, document=version.document, stamp=stamp(version), printed_at=timezone.now(), **kwargs)


def diff_rows(old: str, new: str) -> list[dict]:
    """Side-by-side rows (tag, old line no/text, new line no/text) from difflib's opcodes."""
    a, b = old.splitlines(), new.splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend({"tag": "equal", "old_no": i + 1, "old": a[i], "new_no": j + 1, "new": b[j]} for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            rows.append({
                "tag": tag,
                "old_no": i + 1 if i < i2 else None, "old": a[i] if i < i2 else "",
                "new_no": j + 1 if j < j2 else None, "new": b[j] if j < j2 else "",
            })
    return rows


def fold_unchanged(rows: list[dict], context: int = 3) -> list[dict]:
    """Keep `context` unchanged lines around each change; replace longer runs by a fold row."""
    keep = set()
    for index, row in enumerate(rows):
        if row["tag"] != "equal":
            keep.update(range(max(0, index - context), min(len(rows), index + context + 1)))
    folded, skipped = [], 0
    for index, row in enumerate(rows):
        if index in keep:
            if skipped:
                folded.append({"tag": "fold", "count": skipped})
                skipped = 0
            folded.append(row)
        else:
            skipped += 1
    if skipped:
        folded.append({"tag": "fold", "count": skipped})
    return folded


class VersionDiffView(RoleRequiredMixin, DocumentMixin, TemplateView):
    template_name = "documents/version_diff.html"
    read_roles = qms_roles.READERS

    def get_context_data(self, **kwargs):
        document = self.get_document()
        versions = list(selectors.versions_for_user(self.request.user, document))
        by_id = {str(v.pk): v for v in versions}
        new = by_id.get(self.request.GET.get("to", "")) or (versions[0] if versions else None)
        old = by_id.get(self.request.GET.get("from", ""))
        if old is None and new is not None:
            old = next((v for v in versions if v.revision_index < new.revision_index), None)
        if new is None or old is None:
            raise Http404("Two revisions are needed for a comparison.")
        rows = diff_rows(old.content_text, new.content_text)
        changed = sum(1 for r in rows if r["tag"] != "equal")
        return super().get_context_data(
            document=document, old=old, new=new, versions=versions, rows=fold_unchanged(rows), changed=changed,
            added=sum(1 for r in rows if r["tag"] in ("insert", "replace") and r["new_no"]),
            removed=sum(1 for r in rows if r["tag"] in ("delete", "replace") and r["old_no"]),
            **kwargs,
        )


class PeriodicReviewView(RoleRequiredMixin, DocumentMixin, View):
    """POST outcome=no_change (signed) or outcome=revision."""

    http_method_names = ["post"]
    read_roles = qms_roles.QUALITY

    def post(self, request, *args, **kwargs):
        document = self.get_document()
        outcome = request.POST.get("outcome")
        try:
            if outcome == "revision":
                version = services.periodic_review_start_revision(document, actor=request.user, comment=request.POST.get("comment", ""))
                messages.success(request, f"Revision {version.revision} started from the effective text.")
                return redirect(version.get_absolute_url())
            form = PeriodicReviewForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Say what you checked and re-enter your password to sign.")
                return redirect(document.get_absolute_url())
            review = services.periodic_review_confirm(
                document, actor=request.user, password=form.cleaned_data["password"], comment=form.cleaned_data["comment"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(document.get_absolute_url())
        messages.success(request, f"Periodic review signed. Next review due {review.next_review_due:%d %b %Y}.")
        return redirect(document.get_absolute_url())


class ApprovalMatrixView(RoleRequiredMixin, TemplateView):
    """Who may be named reviewer and approver of each document type (issue 16), and its history."""

    template_name = "documents/approval_matrix.html"
    read_roles = qms_roles.READERS

    def get_context_data(self, **kwargs):
        from documents.models import ApprovalRule

        user = self.request.user
        history = ApprovalRule.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
        return super().get_context_data(
            rules=selectors.approval_matrix(), history=list(history),
            may_change=qms_roles.may_act(user, qms_roles.MANAGER), **kwargs,
        )


class ApprovalRuleEditView(RoleRequiredMixin, FormView):
    template_name = "documents/approval_rule_form.html"
    read_roles = frozenset({qms_roles.MANAGER})
    write_roles = frozenset({qms_roles.MANAGER})

    def get_rule(self):
        if self.kwargs["doc_type"] not in DocumentType.values:
            raise Http404("No such document type.")
        return selectors.approval_rule_for(self.kwargs["doc_type"])

    def get_form(self, form_class=None):
        return ApprovalRuleForm.for_rule(self.get_rule(), data=self.request.POST if self.request.method == "POST" else None)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.approval_rule_set(
                actor=self.request.user, doc_type=self.kwargs["doc_type"], reason=data["reason"],
                expected_version=data["version"], reviewer_roles=data["reviewer_roles"], approver_roles=data["approver_roles"],
                reviewer_job_functions=data["reviewer_job_functions"], approver_job_functions=data["approver_job_functions"],
                required_approver_role=data["required_approver_role"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Approval matrix for {self.get_rule().get_doc_type_display()} saved.")
        return redirect("documents:approval-matrix")

    def get_context_data(self, **kwargs):
        rule = self.get_rule()
        return super().get_context_data(rule=rule, title=f"Approval matrix: {rule.get_doc_type_display()}", **kwargs)
