"""Browser pages of the complaints app. Every write calls complaints.services."""

import mimetypes
from contextlib import nullcontext
from itertools import chain

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from complaints import selectors, services
from complaints.exports import COMPLAINT_COLUMNS
from complaints.filters import ComplaintFilter
from complaints.forms import (
    AttachmentForm,
    CalendarForm,
    CategoryForm,
    CommunicationForm,
    ComplaintCreateForm,
    ComplaintEditForm,
    CustomerEditForm,
    CustomerForm,
    FailureModeForm,
    HolidayForm,
    ProductForm,
    PublicComplaintForm,
    SlaPolicyForm,
    SurveyForm,
)
from complaints.models import (
    Attachment,
    BusinessCalendar,
    Category,
    Complaint,
    Customer,
    FailureMode,
    Holiday,
    Product,
    SlaPolicy,
)
from complaints.workflow import COMPLAINT_WORKFLOW
from qms import roles as qms_roles
from qms.audit.selectors import mark_signatures, record_history
from qms.errors import DomainError
from qms.listexport import export_format, list_export
from qms.pagination import BoundedCountPaginator
from qms.permissions import RoleRequiredMixin
from qms.uploads import clean_file_name, protect_download
from qms.web import TransitionView, form_errors, refuse_form

PUBLIC_FORM_LIMIT = 5  # submissions per address per hour
PUBLIC_FORM_WINDOW = 3600


def add_domain_errors(form, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the field it names, or above the form."""
    if exc.field_errors:
        for field, errors in exc.field_errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc.message)


class ComplaintListView(RoleRequiredMixin, ListView):
    template_name = "complaints/complaint_list.html"
    context_object_name = "complaints"
    paginate_by = 25
    paginator_class = BoundedCountPaginator

    def get_queryset(self):
        self.filterset = ComplaintFilter(self.request.GET or None, queryset=selectors.complaint_list_for_user(self.request.user))
        return self.filterset.qs

    def get(self, request, *args, **kwargs):
        if fmt := export_format(request):  # ?export=csv|xlsx: every row the filters select
            queryset = self.get_queryset()
            return list_export(queryset, COMPLAINT_COLUMNS, name="complaints", fmt=fmt, request=request, filterset=self.filterset)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["counts"] = selectors.complaint_counts(self.request.user)
        context["sort"] = self.request.GET.get("ordering", "")
        context["may_write"] = qms_roles.has_role(self.request.user, *qms_roles.QUALITY) and not qms_roles.is_read_only(self.request.user)
        context["has_filters"] = any(v for k, v in self.request.GET.items() if k not in {"page", "ordering"})
        return context


class ComplaintDetailView(RoleRequiredMixin, DetailView):
    model = Complaint
    template_name = "complaints/complaint_detail.html"
    context_object_name = "complaint"

    def get_object(self, queryset=None):
        try:
            return selectors.complaint_get_for_detail(self.request.user, self.kwargs["pk"])
        except Complaint.DoesNotExist:
            raise Http404("No such complaint.") from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        complaint = self.object
        user = self.request.user
        page = selectors.complaint_page_parts(complaint)
        # What qms.web.record_audit_context gives every record page, with the transitions and
        # signatures read in the page's one query for the record's parts.
        mark_signatures(complaint, page.signatures)
        context.update(
            history_entries=record_history(complaint, limit=50),
            signatures=page.signatures,
            transitions=page.transitions,
            actions=COMPLAINT_WORKFLOW.available(complaint, user),
        )
        context["action_url"] = reverse("complaints:transition", args=[complaint.pk])
        context["may_write"] = qms_roles.has_role(user, *qms_roles.QUALITY) and not qms_roles.is_read_only(user)
        context["attachment_form"] = AttachmentForm()
        context["communication_form"] = CommunicationForm()
        context["page"] = page
        context["timeline"] = build_timeline(complaint, page)
        context["survey"] = page.surveys[0] if page.surveys else None
        context["now"] = timezone.now()
        context["capas"] = page.capas
        return context


def build_timeline(complaint, page: selectors.ComplaintPage) -> list[dict]:
    """Business events of the record, newest first: workflow steps, escalations, messages,
    files and the survey (the field-level history is shown beside it)."""
    events = chain(
        (
            {
                "at": t.at, "kind": "signature" if t.signature_id else "transition",
                "title": f"{t.action.replace('_', ' ').capitalize()}: {t.from_state.replace('_', ' ')} → {t.to_state.replace('_', ' ')}",
                "who": t.actor.full_name, "text": t.reason,
                "extra": f"Signed: {t.signature.meaning}" if t.signature_id else "",
            }
            for t in page.transitions
        ),
        (
            {
                "at": e.at, "kind": "escalation",
                "title": f"Escalated to level {e.level}: {e.get_kind_display().lower()} at {e.percent}%",
                "who": "QMS System", "text": f"Notified: {', '.join(e.notified) or 'nobody'}", "extra": "",
            }
            for e in page.escalations
        ),
        (
            {
                "at": c.at, "kind": "communication",
                "title": f"{c.get_direction_display()} ({c.get_channel_display()})",
                "who": c.author.full_name, "text": c.summary, "extra": "",
            }
            for c in page.communications
        ),
        (
            {"at": a.uploaded_at, "kind": "attachment", "title": f"File attached: {a.original_name}",
             "who": a.uploaded_by.full_name, "text": a.description, "extra": ""}
            for a in page.attachments
        ),
        (
            {"at": s.answered_at, "kind": "survey", "title": f"Survey answered: CSAT {s.csat}/5, CES {s.ces}/7, NPS {s.nps}/10",
             "who": "Customer", "text": s.comment, "extra": ""}
            for s in page.surveys if s.answered_at
        ),
        (
            {"at": s.sent_at, "kind": "survey", "title": "Survey invitation e-mailed", "who": "QMS System",
             "text": f"To {s.email}", "extra": ""}
            for s in page.surveys
        ),
        ({"at": complaint.received_at, "kind": "received", "title": f"Received by {complaint.get_channel_display().lower()}",
          "who": complaint.customer.name, "text": "", "extra": ""},),
    )
    return sorted(events, key=lambda e: e["at"], reverse=True)


class ComplaintCreateView(RoleRequiredMixin, FormView):
    template_name = "complaints/complaint_form.html"
    form_class = ComplaintCreateForm
    read_roles = qms_roles.QUALITY

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        actor = self.request.user
        if data["assignee"] is not None and data["assignee"].pk == actor.pk:
            data["assignee"] = actor  # the same person: the service reuses the roles read for this request
        # A new customer and the complaint are written together or not at all; a known
        # customer needs no outer transaction (complaint_create is atomic itself).
        try:
            with transaction.atomic() if data["customer"] is None else nullcontext():
                customer = data["customer"]
                if customer is None:
                    customer = services.customer_create(
                        actor=actor,
                        name=data["new_customer_name"],
                        organisation=data["new_customer_organisation"],
                        email=data["new_customer_email"],
                        phone=data["new_customer_phone"],
                    )
                complaint = services.complaint_create(
                    actor=actor,
                    customer=customer,
                    **{name: data[name] for name in ("title", "description", "channel", "product", "category", "failure_mode", "severity", "assignee", "received_at")},
                    lot_number=data["lot_number"],
                    udi=data["udi"],
                    **form.triage_values(),
                )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        note = f" It repeats {complaint.recurrence_of.reference} (the same problem)." if complaint.is_recurring else ""
        messages.success(self.request, f"{complaint.reference} logged.{note}")
        return redirect(complaint.get_absolute_url())


class ComplaintEditView(RoleRequiredMixin, FormView):
    model = Complaint
    template_name = "complaints/complaint_form.html"
    form_class = ComplaintEditForm
    read_roles = qms_roles.QUALITY

    def dispatch(self, request, *args, **kwargs):
        self.complaint = get_object_or_404(Complaint.objects.select_related("customer"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.complaint}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "complaint": self.complaint}

    def form_valid(self, form):
        fresh = Complaint.objects.get(pk=self.complaint.pk)
        try:
            services.complaint_update(
                fresh, actor=self.request.user, reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"], **form.changes(),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{self.complaint.reference} saved.")
        return redirect(self.complaint.get_absolute_url())


class ComplaintTransitionView(TransitionView):
    model = Complaint
    transition_service = staticmethod(services.complaint_transition)
    read_roles = qms_roles.QUALITY
    write_roles = qms_roles.QUALITY


class AttachmentUploadView(RoleRequiredMixin, View):
    model = Complaint
    http_method_names = ["post"]

    def post(self, request, pk):
        complaint = get_object_or_404(Complaint, pk=pk)
        form = AttachmentForm(request.POST, request.FILES)
        if not form.is_valid():
            errors = form_errors(form)
            if "file" in errors:
                errors["file"] = ["Choose a file to attach."]
            return refuse_form(request, complaint.get_absolute_url(), "attach", errors)
        try:
            services.attachment_add(
                complaint=complaint, actor=request.user, uploaded_file=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except DomainError as exc:
            errors = {f: m for f, m in exc.field_errors.items() if f == "description"} or {"file": [f"Not attached: {exc.message}"]}
            return refuse_form(request, complaint.get_absolute_url(), "attach", errors)
        messages.success(request, "File attached.")
        return redirect(complaint.get_absolute_url())


class AttachmentDownloadView(RoleRequiredMixin, View):
    """Files are served as downloads (never inline) after the role check: a stored HTML or SVG
    file cannot run in our origin."""

    model = Attachment
    def get(self, request, pk):
        attachment = get_object_or_404(Attachment, pk=pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404("The file is missing from storage.") from None
        content_type = attachment.content_type or mimetypes.guess_type(attachment.original_name)[0] or "application/octet-stream"
        response = FileResponse(
            handle, as_attachment=True, filename=clean_file_name(attachment.original_name), content_type=content_type
        )
        return protect_download(response)


class CommunicationAddView(RoleRequiredMixin, View):
    model = Complaint
    http_method_names = ["post"]

    def post(self, request, pk):
        complaint = get_object_or_404(Complaint, pk=pk)
        form = CommunicationForm(request.POST)
        if not form.is_valid():
            return refuse_form(request, complaint.get_absolute_url(), "log-message", form_errors(form))
        try:
            services.communication_add(complaint=complaint, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            errors = {f: m for f, m in exc.field_errors.items() if f in form.fields} or {"__all__": [f"Not logged: {exc.message}"]}
            return refuse_form(request, complaint.get_absolute_url(), "log-message", errors)
        messages.success(request, "Logged in the communication log.")
        return redirect(f"{complaint.get_absolute_url()}#communications")


# --- Customers, products, SLA policies ----------------------------------------------------


class CustomerListView(RoleRequiredMixin, ListView):
    template_name = "complaints/customer_list.html"
    context_object_name = "customers"
    paginate_by = 25
    paginator_class = BoundedCountPaginator

    def get_queryset(self):
        queryset = Customer.objects.annotate(
            complaint_count=Count("complaints"),
            open_count=Count("complaints", filter=Q(complaints__status__in=list(selectors.OPEN_STATES))),
        ).order_by("name", "id")
        search = self.request.GET.get("search", "").strip()[:200]
        if search:
            queryset = queryset.filter(Q(name__icontains=search) | Q(organisation__icontains=search) | Q(email__icontains=search))
        return queryset

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "search": self.request.GET.get("search", "")}


class CustomerCreateView(RoleRequiredMixin, FormView):
    template_name = "complaints/simple_form.html"
    form_class = CustomerForm
    read_roles = qms_roles.QUALITY
    extra_context = {"title": "New customer", "back_url": "complaints:customers"}

    def form_valid(self, form):
        try:
            customer = services.customer_create(actor=self.request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Customer {customer} created.")
        return redirect("complaints:customer", pk=customer.pk)


class CustomerDetailView(RoleRequiredMixin, DetailView):
    template_name = "complaints/customer_detail.html"
    model = Customer
    context_object_name = "customer"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["complaints"] = selectors.complaint_list_for_user(self.request.user).filter(customer=self.object).order_by("-received_at")[:50]
        context["may_write"] = qms_roles.has_role(self.request.user, *qms_roles.QUALITY) and not qms_roles.is_read_only(self.request.user)
        return context


class CustomerEditView(RoleRequiredMixin, FormView):
    model = Customer
    template_name = "complaints/simple_form.html"
    form_class = CustomerEditForm
    read_roles = qms_roles.QUALITY

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.customer}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": f"Edit {self.customer}", "back_url": "complaints:customers"}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        try:
            services.customer_update(
                Customer.objects.get(pk=self.customer.pk), actor=self.request.user, version=data.pop("version"),
                reason=data.pop("reason"), **data,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Customer saved.")
        return redirect("complaints:customer", pk=self.customer.pk)


class ProductListView(RoleRequiredMixin, ListView):
    template_name = "complaints/product_list.html"
    context_object_name = "products"
    paginate_by = 50

    def get_queryset(self):
        queryset = Product.objects.annotate(complaint_count=Count("complaints")).order_by("code")
        search = self.request.GET.get("search", "").strip()[:200]
        if search:
            queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = self.request.GET.get("search", "")
        context["form"] = ProductForm()
        context["category_form"] = CategoryForm(prefix="category")
        context["categories"] = Category.objects.order_by("name").prefetch_related(
            Prefetch("failure_modes", queryset=FailureMode.objects.order_by("name"))
        )
        context["failure_mode_form"] = FailureModeForm(prefix="failure_mode")
        user = self.request.user
        context["may_write"] = qms_roles.has_role(user, *qms_roles.QUALITY) and not qms_roles.is_read_only(user)
        context["may_manage"] = qms_roles.has_role(user, qms_roles.MANAGER) and not qms_roles.is_read_only(user)
        return context

    def post(self, request):
        if "category-name" in request.POST:
            return self.add_category(request)
        if "failure_mode-name" in request.POST:
            return self.add_failure_mode(request)
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product = services.product_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Product {product} added.")
        else:
            messages.error(request, "Give the product a code and a name (" + "; ".join(" ".join(e) for e in form.errors.values()) + ").")
        return redirect("complaints:products")

    def add_failure_mode(self, request):
        form = FailureModeForm(request.POST, prefix="failure_mode")
        if not form.is_valid():
            messages.error(request, "Choose the category and name the failure mode (at most 120 characters).")
            return redirect("complaints:products")
        try:
            failure_mode = services.failure_mode_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Failure mode {failure_mode} added.")
        return redirect("complaints:products")

    def add_category(self, request):
        form = CategoryForm(request.POST, prefix="category")
        if not form.is_valid():
            messages.error(request, "Give the category a name of at most 120 characters.")
            return redirect("complaints:products")
        try:
            category = services.category_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Category {category} added.")
        return redirect("complaints:products")


class SlaPolicyEditView(RoleRequiredMixin, FormView):
    model = SlaPolicy
    template_name = "complaints/simple_form.html"
    form_class = SlaPolicyForm
    read_roles = frozenset({qms_roles.MANAGER})
    write_roles = frozenset({qms_roles.MANAGER})

    def dispatch(self, request, *args, **kwargs):
        self.policy = get_object_or_404(SlaPolicy, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.policy}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=f"SLA policy: {self.policy.get_severity_display()} complaints", back_url="complaints:sla-policies", subnav="sla")
        return context

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        try:
            services.sla_policy_update(
                SlaPolicy.objects.get(pk=self.policy.pk), actor=self.request.user, version=data.pop("version"),
                reason=data.pop("reason"), **data,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "SLA policy saved. It applies to complaints received or re-triaged from now on.")
        return redirect("complaints:sla-policies")


class SlaPolicyListView(RoleRequiredMixin, TemplateView):
    template_name = "complaints/sla_policies.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policies = list(SlaPolicy.objects.select_related("calendar").order_by("first_response_hours"))
        calendars = {p.calendar_id: p.calendar for p in policies}
        context["policies"] = sorted(policies, key=lambda p: ["critical", "high", "medium", "low"].index(p.severity))
        context["calendars"] = list(calendars.values())
        context["holidays"] = list(Holiday.objects.filter(calendar_id__in=calendars, date__gte=timezone.localdate()).select_related("calendar")[:20])
        context["may_manage"] = qms_roles.has_role(self.request.user, qms_roles.MANAGER) and not qms_roles.is_read_only(self.request.user)
        context["holiday_form"] = HolidayForm(initial={"calendar": policies[0].calendar_id if policies else None})
        return context


class HolidayAddView(RoleRequiredMixin, View):
    http_method_names = ["post"]
    write_roles = frozenset({qms_roles.MANAGER})

    def post(self, request):
        form = HolidayForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Not added: " + "; ".join(" ".join(e) for e in form.errors.values()))
            return redirect("complaints:sla-policies")
        try:
            holiday = services.holiday_add(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, f"Not added: {exc.message}")
        else:
            messages.success(request, f"Holiday {holiday} added to {holiday.calendar.name}.")
        return redirect("complaints:sla-policies")


class CalendarEditView(RoleRequiredMixin, FormView):
    model = BusinessCalendar
    template_name = "complaints/simple_form.html"
    form_class = CalendarForm
    read_roles = frozenset({qms_roles.MANAGER})
    write_roles = frozenset({qms_roles.MANAGER})

    def dispatch(self, request, *args, **kwargs):
        self.calendar = get_object_or_404(BusinessCalendar, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.calendar}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=f"Business calendar: {self.calendar.name}", back_url="complaints:sla-policies", subnav="sla")
        return context

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        try:
            services.calendar_update(
                BusinessCalendar.objects.get(pk=self.calendar.pk), actor=self.request.user,
                version=data.pop("version"), reason=data.pop("reason"), **data,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Calendar saved. New and re-triaged complaints count on it from now on.")
        return redirect("complaints:sla-policies")


# --- Public pages (no login) --------------------------------------------------------------


def public_context(**context) -> dict:
    return {"organisation": settings.QMS_ORGANISATION_NAME, **context}


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(request, *, scope: str, limit: int, window: int) -> bool:
    """Count this request against the caller's address in the shared cache (Redis in
    production, so the limit holds across web workers); True when over the limit."""
    key = f"qms:ratelimit:{scope}:{client_address(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


@method_decorator(login_not_required, name="dispatch")
class PublicComplaintView(FormView):
    template_name = "complaints/public_form.html"
    form_class = PublicComplaintForm

    def get_context_data(self, **kwargs):
        return public_context(**super().get_context_data(**kwargs))

    def form_valid(self, form):
        data = form.cleaned_data
        if data.get("website"):
            # A bot filled in the hidden field: answer as if accepted, store nothing.
            return render(self.request, "complaints/public_thanks.html", public_context(reference=None))
        if rate_limited(self.request, scope="public-complaint", limit=PUBLIC_FORM_LIMIT, window=PUBLIC_FORM_WINDOW):
            form.add_error(None, "Too many complaints were sent from your address in the last hour. Please try again later or call us.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        try:
            complaint = services.complaint_submit_public(
                name=data["name"], email=data["email"], phone=data["phone"], organisation=data["organisation"],
                title=data["title"], description=data["description"], product=data["product"], lot_number=data["lot_number"],
                failure_mode=data.get("failure_mode"),
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            return self.form_invalid(form)
        self.request.session["public_complaint_reference"] = complaint.reference
        return redirect("complaints:public-thanks")


@login_not_required
def public_thanks(request):
    reference = request.session.get("public_complaint_reference")
    if not reference:
        return redirect("complaints:public-submit")
    return render(request, "complaints/public_thanks.html", public_context(reference=reference))


@method_decorator(login_not_required, name="dispatch")
class SurveyView(View):
    """The customer's survey page: answered once, expires after 30 days; a bad, used or expired
    link gets a page that says so (never an error page)."""

    template_name = "complaints/survey.html"

    def get(self, request, token):
        survey, state = services.survey_by_token(token)
        return self.page(request, survey, state, SurveyForm())

    def post(self, request, token):
        if rate_limited(request, scope="survey", limit=30, window=3600):
            return render(request, "complaints/survey.html", public_context(state="limited"), status=429)
        survey, state = services.survey_by_token(token)
        if state != services.SurveyState.OPEN:
            return self.page(request, survey, state, None)
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                services.survey_answer(token=token, **form.cleaned_data)
            except DomainError as exc:
                survey, state = services.survey_by_token(token)
                if state == services.SurveyState.OPEN:
                    add_domain_errors(form, exc)
                    return self.page(request, survey, state, form, status=400)
                return self.page(request, survey, state, None)
            return render(request, self.template_name, public_context(state="thanks", survey=survey))
        return self.page(request, survey, state, form, status=400)

    def page(self, request, survey, state, form, status=200):
        statuses = {"unknown": 404, "answered": 410, "expired": 410}
        return render(
            request, self.template_name, public_context(state=state, survey=survey, form=form), status=statuses.get(state, status)
        )

