"""The audit trail pages: the trail with its filters and exports, and one record's audit view
with its dossier PDF. Read-only for everyone: these views answer GET only."""

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from qms import roles as qms_roles
from qms.audit import exports
from qms.audit.forms import TrailFilterForm
from qms.audit.registry import historical_model_for
from qms.audit.selectors import (
    TrailFilter,
    actions_for_filter,
    audit_trail,
    decode_cursor,
    record_history,
    signatures_and_transitions,
)
from qms.audit.services import audit_breaks_acknowledge
from qms.audit.verify import verification_status
from qms.errors import DomainError
from qms.permissions import RoleRequiredMixin

AUDIT_READERS = frozenset({qms_roles.AUDITOR, qms_roles.MANAGER, qms_roles.ADMINISTRATOR})
PAGE_SIZES = (25, 50, 100, 200)


class AuditReaderMixin(RoleRequiredMixin):
    http_method_names = ["get", "head"]
    read_roles = AUDIT_READERS
    write_roles = frozenset()

    def trail_form(self) -> TrailFilterForm:
        form = TrailFilterForm(self.request.GET or None)
        form.is_valid()
        return form

    def trail_filter(self, form) -> TrailFilter:
        # Invalid fields are shown as errors and left out; the rest still filters.
        if form.is_bound and not form.errors:
            return form.trail_filter()
        if not form.is_bound:
            return TrailFilter()
        valid = {
            name: value for name, value in form.cleaned_data.items() if name not in form.errors
        }
        form.cleaned_data = valid
        return form.trail_filter()


class AuditTrailView(AuditReaderMixin, TemplateView):
    template_name = "qms/audit/trail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.trail_form()
        trail_filter = self.trail_filter(form)
        try:
            page_size = int(self.request.GET.get("page_size", 50))
        except ValueError:
            page_size = 50
        page_size = page_size if page_size in PAGE_SIZES else 50
        trail = audit_trail(trail_filter)
        # Paged by cursor (`before` / `after` an entry), not by number: a page costs the same
        # at any depth, and nothing counts the whole trail (see AuditTrail).
        before = self.request.GET.get("before", "")
        after = self.request.GET.get("after", "")
        before_key = decode_cursor(before, len(trail.sources)) if before else None
        after_key = decode_cursor(after, len(trail.sources)) if after and not before_key else None
        bad_cursor = bool(
            (before and before_key is None) or (after and after_key is None and not before_key)
        )
        page = trail.page(page_size, before=before_key, after=after_key)
        exact = not (page.has_older or page.has_newer)
        estimate = (
            len(page.entries) if exact else max(trail.estimated_count(), len(page.entries) + 1)
        )
        query = self.request.GET.copy()
        for name in ("page", "before", "after"):
            query.pop(name, None)
        context.update(
            form=form,
            trail_filter=trail_filter,
            is_filtered=trail_filter != TrailFilter(),
            page=page,
            entries=page.entries,
            estimate=estimate,
            estimate_display=f"{estimate:,}",
            estimate_is_exact=exact,
            bad_cursor=bad_cursor,
            base_query=query.urlencode(),
            action_choices=actions_for_filter(),
            page_sizes=PAGE_SIZES,
            page_size=page_size,
            verification=verification_status(),
            may_acknowledge=qms_roles.may_act(self.request.user, qms_roles.MANAGER),
            export_query=query.urlencode(),
            time_zone=timezone.get_current_timezone_name(),
        )
        return context


class AuditTrailCsvView(AuditReaderMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        form = self.trail_form()
        trail_filter = self.trail_filter(form)
        response = StreamingHttpResponse(
            exports.trail_csv_rows(
                audit_trail(trail_filter),
                trail_filter=trail_filter,
                user=request.user,
                verification=verification_status(),
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="audit-trail-{timezone.localtime():%Y%m%d-%H%M}.csv"'
        )
        return response


class AuditTrailPdfView(AuditReaderMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        form = self.trail_form()
        trail_filter = self.trail_filter(form)
        pdf = exports.trail_pdf(
            audit_trail(trail_filter),
            trail_filter=trail_filter,
            user=request.user,
            verification=verification_status(),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-trail-{timezone.localtime():%Y%m%d-%H%M}.pdf"'
        )
        return response


class AcknowledgeBreaksView(RoleRequiredMixin, View):
    """POST: a Quality Manager acknowledges the reported breaks with a signed reason."""

    http_method_names = ["post"]
    read_roles = frozenset()
    write_roles = frozenset({qms_roles.MANAGER})

    def post(self, request, *args, **kwargs):
        try:
            audit_breaks_acknowledge(actor=request.user, password=request.POST.get("password") or None, reason=request.POST.get("reason", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The breaks are acknowledged, with your electronic signature and reason.")
        return redirect("audit-trail")


def get_record(model_label: str, pk: int):
    """A regulated record by model label and id (404 for anything that keeps no history)."""
    historical = historical_model_for(model_label)
    if historical is None:
        raise Http404("No such record type.")
    record = historical.instance_type._base_manager.filter(pk=pk).first()
    if record is None:
        raise Http404("No such record.")
    return record


class RecordAuditView(AuditReaderMixin, TemplateView):
    template_name = "qms/audit/record.html"

    def get_context_data(self, model_label, pk, **kwargs):
        context = super().get_context_data(**kwargs)
        record = get_record(model_label, pk)
        signatures, transitions = signatures_and_transitions(record)
        context.update(
            record=record,
            model_label=model_label,
            verbose_name=record._meta.verbose_name,
            history_entries=record_history(record),
            signatures=signatures,
            transitions=transitions,
            sections=exports.dossier_sections(record),
            record_url=_safe_absolute_url(record),
        )
        return context


class RecordDossierPdfView(AuditReaderMixin, TemplateView):
    def get(self, request, model_label, pk, *args, **kwargs):
        record = get_record(model_label, pk)
        pdf = exports.dossier_pdf(record, user=request.user, verification=verification_status())
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"{record._meta.model_name}-{record.pk}"
        response["Content-Disposition"] = (
            f'attachment; filename="dossier-{name}-{timezone.localtime():%Y%m%d-%H%M}.pdf"'
        )
        return response


def _safe_absolute_url(record) -> str:
    try:
        return record.get_absolute_url()
    except Exception:  # noqa: BLE001 - a model without a page, or whose page is not built yet
        return ""
