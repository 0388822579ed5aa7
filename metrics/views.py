import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views import View

from metrics import exports, selectors, services
from metrics.filters import AlertFilter
from metrics.forms import (
    DEFAULT_DAYS,
    DashboardFilterForm,
    LinkCapaForm,
    ReviewEditForm,
    ReviewForm,
    ReviewItemForm,
    ShippedUnitsForm,
    ShippedUnitsImportForm,
    TargetCreateForm,
    TargetEditForm,
)
from metrics.kpis import KPI_BY_CODE, KPIS, format_value
from metrics.models import KpiAlert, KpiTarget, ManagementReview, ReviewItem, ShippedUnits
from metrics.workflow import REVIEW_WORKFLOW
from qms import roles as qms_roles
from qms.errors import DomainError, ValidationFailed
from qms.listexport import export_format, list_export
from qms.permissions import RoleRequiredMixin
from qms.web import TransitionView, add_domain_errors, record_audit_context

MANAGERS = frozenset({qms_roles.MANAGER})
DASHBOARD_READERS = frozenset({qms_roles.MANAGER, qms_roles.AUDITOR, qms_roles.STAFF})


class DashboardView(RoleRequiredMixin, View):
    read_roles = DASHBOARD_READERS

    def get(self, request):
        data = request.GET.copy()
        today = timezone.localdate()
        data.setdefault("to", today.isoformat())
        data.setdefault("from", (today - datetime.timedelta(days=DEFAULT_DAYS - 1)).isoformat())
        form = DashboardFilterForm(data)
        if form.is_valid():
            cleaned = form.cleaned_data
        else:
            fallback = DashboardFilterForm({})
            fallback.is_valid()
            cleaned = fallback.cleaned_data
        period, filters = cleaned["period"], cleaned["filters"]
        # The figures part of the page is computed live (one statement, metrics.batch) and kept
        # METRICS_DASHBOARD_CACHE_SECONDS as rendered HTML per period, filters and role; it is
        # only computed when the fragment is missing, hence the lazy board.
        cache_seconds = settings.METRICS_DASHBOARD_CACHE_SECONDS
        can_manage = qms_roles.may_act(request.user, qms_roles.MANAGER)
        vary = f"{period.start.isoformat()}|{period.end.isoformat()}|{filters!r}|{can_manage}"
        if request.GET.get("refresh") == "1" or cache_seconds <= 0:
            cache.delete(make_template_fragment_key("metrics-dashboard", [vary]))
        query = request.GET.copy()
        query.pop("refresh", None)
        query["refresh"] = "1"
        return render(request, "metrics/dashboard.html", {
            "form": form, "board": SimpleLazyObject(lambda: selectors.dashboard(period, filters)), "period": period,
            "kpis": KPIS, "can_manage": can_manage, "cache_seconds": max(cache_seconds, 0), "cache_vary": vary,
            "refresh_query": query.urlencode(),
            "api_query": urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()}),
        })


# --- targets --------------------------------------------------------------------------------


class TargetListView(RoleRequiredMixin, View):
    read_roles = DASHBOARD_READERS

    def get(self, request):
        targets = {t.kpi: t for t in KpiTarget.objects.prefetch_related("owners")}
        rows = [{"kpi": kpi, "target": targets.get(kpi.code)} for kpi in KPIS]
        return render(request, "metrics/targets.html", {
            "rows": rows,
            "can_manage": qms_roles.may_act(request.user, qms_roles.MANAGER),
        })


class TargetCreateView(RoleRequiredMixin, View):
    read_roles = MANAGERS
    write_roles = MANAGERS

    def get(self, request):
        return render(request, "metrics/target_form.html", {"form": TargetCreateForm(initial={"kpi": request.GET.get("kpi")})})

    def post(self, request):
        form = TargetCreateForm(request.POST)
        if form.is_valid():
            try:
                target = services.target_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, f"Target set for {target.get_kpi_display()}.")
                return redirect("metrics:targets")
        return render(request, "metrics/target_form.html", {"form": form}, status=400)


class TargetEditView(RoleRequiredMixin, View):
    model = KpiTarget
    read_roles = DASHBOARD_READERS
    write_roles = MANAGERS

    def context(self, target, form):
        return {"form": form, "target": target, "kpi": KPI_BY_CODE[target.kpi], **record_audit_context(target, self.request.user)}

    def get(self, request, pk):
        target = get_object_or_404(KpiTarget, pk=pk)
        return render(request, "metrics/target_form.html", self.context(target, TargetEditForm(instance=target)))

    def post(self, request, pk):
        target = get_object_or_404(KpiTarget, pk=pk)
        form = TargetEditForm(request.POST, instance=KpiTarget.objects.get(pk=pk))
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.target_update(
                    target, actor=request.user, reason=data.pop("reason"), version=data.pop("version"),
                    owners=data.pop("owners"), **data,
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, f"Target for {target.get_kpi_display()} changed.")
                return redirect("metrics:targets")
        return render(request, "metrics/target_form.html", self.context(target, form), status=400)


# --- alerts ---------------------------------------------------------------------------------


class AlertListView(RoleRequiredMixin, View):
    read_roles = DASHBOARD_READERS

    def get(self, request):
        filterset = AlertFilter(request.GET or None, queryset=selectors.alert_list())
        if fmt := export_format(request):  # ?export=csv|xlsx: every alert the filters select
            return list_export(filterset.qs, exports.ALERT_COLUMNS, name="kpi-alerts", fmt=fmt, request=request, filterset=filterset)
        alerts = list(filterset.qs[:200])
        rows = [{"alert": a, "kpi": KPI_BY_CODE[a.kpi], "value": format_value(KPI_BY_CODE[a.kpi], a.value),
                 "cleared_value": format_value(KPI_BY_CODE[a.kpi], a.cleared_value) if a.cleared_at else ""} for a in alerts]
        return render(request, "metrics/alerts.html", {"filter": filterset, "rows": rows})


class AlertDetailView(RoleRequiredMixin, View):
    model = KpiAlert
    read_roles = DASHBOARD_READERS

    def get(self, request, pk):
        alert = get_object_or_404(KpiAlert.objects.select_related("target", "capa"), pk=pk)
        kpi = KPI_BY_CODE[alert.kpi]
        return render(request, "metrics/alert_detail.html", {
            "alert": alert, "kpi": kpi, "value": format_value(kpi, alert.value),
            "cleared_value": format_value(kpi, alert.cleared_value) if alert.cleared_at else "",
            "can_raise_capa": not alert.capa_id and qms_roles.may_act(request.user, *qms_roles.QUALITY),
            **record_audit_context(alert, request.user),
        })


class AlertRaiseCapaView(RoleRequiredMixin, View):
    """One click: a CAPA with source "KPI trend alert", then the CAPA page."""

    model = KpiAlert
    http_method_names = ["post"]
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY

    def post(self, request, pk):
        alert = get_object_or_404(KpiAlert, pk=pk)
        try:
            capa = services.alert_raise_capa(alert, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(alert.get_absolute_url())
        messages.success(request, f"{capa.reference} raised from this KPI alert: complete its analysis.")
        return redirect(capa.get_absolute_url())


# --- units shipped --------------------------------------------------------------------------


class ShippedUnitsView(RoleRequiredMixin, View):
    read_roles = DASHBOARD_READERS
    write_roles = MANAGERS

    def render_page(self, request, form=None, import_form=None, status=200):
        rows = ShippedUnits.objects.select_related("product", "entered_by").order_by("-month", "product__code")[:240]
        return render(request, "metrics/shipments.html", {
            "rows": rows, "form": form or ShippedUnitsForm(), "import_form": import_form or ShippedUnitsImportForm(),
            "can_manage": qms_roles.may_act(request.user, qms_roles.MANAGER),
        }, status=status)

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        form = ShippedUnitsForm(request.POST)
        if form.is_valid():
            try:
                record, created = services.shipped_units_set(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, f"{record}: {'entered' if created else 'saved'}.")
                return redirect("metrics:shipments")
        return self.render_page(request, form=form, status=400)


class ShippedUnitsImportView(ShippedUnitsView):
    http_method_names = ["post"]

    def post(self, request):
        form = ShippedUnitsImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > services.MAX_IMPORT_BYTES:
                    raise ValidationFailed.on("file", "The file is larger than 1 MB.")
                result = services.shipped_units_import(actor=request.user, data=upload.read(), reason=form.cleaned_data["reason"])
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, f"Imported: {result.created} month(s) added, {result.updated} checked or corrected.")
                return redirect("metrics:shipments")
        return self.render_page(request, import_form=form, status=400)


# --- management reviews ---------------------------------------------------------------------


class ReviewListView(RoleRequiredMixin, View):
    read_roles = DASHBOARD_READERS

    def get(self, request):
        reviews = ManagementReview.objects.order_by("-meeting_on", "-id")[:100]
        return render(request, "metrics/reviews.html", {
            "reviews": reviews,
            "can_manage": qms_roles.may_act(request.user, qms_roles.MANAGER),
        })


class ReviewCreateView(RoleRequiredMixin, View):
    read_roles = MANAGERS
    write_roles = MANAGERS

    def get(self, request):
        return render(request, "metrics/review_form.html", {"form": ReviewForm()})

    def post(self, request):
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                review = services.review_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, f"{review.reference} planned: the input pack below is live until the meeting is held.")
                return redirect(review.get_absolute_url())
        return render(request, "metrics/review_form.html", {"form": form}, status=400)


def _capa_choices():
    from capa.models import Capa

    return list(Capa.objects.order_by("-created_at").values("pk", "reference", "title")[:200])


class ReviewDetailView(RoleRequiredMixin, View):
    model = ManagementReview
    read_roles = DASHBOARD_READERS
    write_roles = MANAGERS

    def context(self, review, *, item_form=None, edit_form=None):
        pack, frozen = selectors.review_pack(review)
        items = list(review.items.select_related("owner", "capa").order_by("kind", "id"))
        user = self.request.user
        writer = qms_roles.may_act(user, *qms_roles.QUALITY)
        capa_choices = _capa_choices() if writer else []
        if item_form is not None:
            item_form.fields["capa"].widget.choices = ReviewItemForm(capa_choices=capa_choices).fields["capa"].widget.choices
        return {
            "review": review, "pack": pack, "frozen": frozen, "items": items,
            "sections": dict(selectors.REVIEW_SECTIONS),
            "item_form": item_form or ReviewItemForm(capa_choices=capa_choices),
            "edit_form": edit_form or ReviewEditForm(initial={"attendees": review.attendees, "summary": review.summary, "version": review.version}),
            "can_manage": qms_roles.may_act(user, qms_roles.MANAGER) and review.status != "closed",
            "can_work": writer,
            "capa_choices": capa_choices,
            **record_audit_context(review, user, REVIEW_WORKFLOW),
        }

    def get(self, request, pk):
        review = get_object_or_404(ManagementReview, pk=pk)
        return render(request, "metrics/review_detail.html", self.context(review))


class ReviewEditView(ReviewDetailView):
    http_method_names = ["post"]

    def post(self, request, pk):
        review = get_object_or_404(ManagementReview, pk=pk)
        form = ReviewEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.review_update(review, actor=request.user, reason=data.pop("reason"), version=data.pop("version"), **data)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, "Review saved.")
                return redirect(review.get_absolute_url())
        return render(request, "metrics/review_detail.html", self.context(review, edit_form=form), status=400)


class ReviewItemAddView(ReviewDetailView):
    http_method_names = ["post"]

    def post(self, request, pk):
        review = get_object_or_404(ManagementReview, pk=pk)
        form = ReviewItemForm(request.POST)
        if form.is_valid():
            try:
                services.review_item_add(review=review, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, "Recorded.")
                return redirect(review.get_absolute_url() + "#outputs")
        return render(request, "metrics/review_detail.html", self.context(review, item_form=form), status=400)


class ReviewTransitionView(TransitionView):
    model = ManagementReview
    transition_service = services.review_transition


class ReviewItemTransitionView(TransitionView):
    model = ReviewItem
    transition_service = services.review_item_transition


class ReviewItemLinkCapaView(RoleRequiredMixin, View):
    model = ReviewItem
    http_method_names = ["post"]
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY

    def post(self, request, pk):
        item = get_object_or_404(ReviewItem, pk=pk)
        form = LinkCapaForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a CAPA.")
        else:
            try:
                services.review_item_link_capa(item, actor=request.user, capa=form.cleaned_data["capa"], version=form.cleaned_data["version"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "CAPA link saved.")
        return redirect(item.get_absolute_url())


class ReviewExportView(RoleRequiredMixin, View):
    model = ManagementReview
    fmt = "pdf"
    read_roles = DASHBOARD_READERS
    FORMATS = {
        "pdf": ("application/pdf", "pdf"),
        "csv": ("text/csv; charset=utf-8", "csv"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    }

    def get(self, request, pk):
        review = get_object_or_404(ManagementReview, pk=pk)
        fmt = self.fmt
        pack, _frozen = selectors.review_pack(review)
        items = list(review.items.select_related("owner", "capa").order_by("kind", "id"))
        if fmt == "pdf":
            body = exports.review_pdf(review, pack, items, organisation=settings.QMS_ORGANISATION_NAME)
        elif fmt == "csv":
            body = exports.review_csv(review, pack, items)
        else:
            body = exports.review_xlsx(review, pack, items)
        content_type, extension = self.FORMATS[fmt]
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{review.reference}.{extension}"'
        return response

