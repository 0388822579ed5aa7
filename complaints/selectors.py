"""Reads shared by the pages, the API, "My work" and the other apps' dashboards, with their
joins and annotations done here once (STYLE.md "selectors.py")."""

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone

from complaints.models import OPEN_STATES, Complaint, Escalation, Survey
from complaints.workflow import ComplaintStatus
from qms import roles as qms_roles
from qms.mywork import WorkSection

SEVERITY_RANK = Case(
    When(severity="critical", then=Value(4)),
    When(severity="high", then=Value(3)),
    When(severity="medium", then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
WORKED_ON = (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING)


def overdue_q(now) -> Q:
    """Past a deadline now: not acknowledged in time, or not resolved in time (the resolution
    clock does not run while the complaint awaits the customer)."""
    return Q(status=ComplaintStatus.NEW, first_response_due__lt=now) | Q(status__in=WORKED_ON, resolution_due__lt=now)


def breached_q(now) -> Q:
    """Missed a deadline at some point: overdue now, acknowledged late or resolved late."""
    return (
        overdue_q(now)
        | Q(acknowledged_at__gt=F("first_response_due"))
        | Q(resolved_at__gt=F("resolution_due"))
    )


def next_deadline():
    """The deadline that matters now: first response while new, resolution while worked on."""
    return Case(
        When(status=ComplaintStatus.NEW, then=F("first_response_due")),
        When(status__in=WORKED_ON, then=F("resolution_due")),
        default=None,
        output_field=DateTimeField(),
    )


def complaints_annotated(now=None):
    now = now or timezone.now()
    return Complaint.objects.annotate(
        is_overdue=ExpressionWrapper(overdue_q(now), output_field=BooleanField()),
        is_breached=ExpressionWrapper(breached_q(now), output_field=BooleanField()),
        severity_rank=SEVERITY_RANK,
        next_deadline=next_deadline(),
    )


def complaint_list_for_user(user, *, now=None):
    """Complaints the user may read (Quality Staff, Quality Managers, Auditors read them all),
    with what a list row shows joined in."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        return Complaint.objects.none()
    queryset = complaints_annotated(now).select_related("customer", "product", "category", "assignee")
    if hasattr(Complaint, "capas"):  # the CAPA app adds Capa.complaints (related_name="capas")
        queryset = queryset.prefetch_related("capas")
    return queryset


def complaint_get_for_detail(user, pk: int, *, now=None) -> Complaint:
    """One complaint with everything its page shows, in a fixed number of queries."""
    queryset = complaint_list_for_user(user, now=now).select_related(
        "created_by", "recurrence_of", "sla_policy", "sla_policy__calendar",
        "investigation_decided_by", "reportability_decided_by",
    ).prefetch_related(
        "attachments__uploaded_by",
        "communications__author",
        "escalations",
        Prefetch("surveys", queryset=Survey.objects.order_by("-sent_at")),
        Prefetch("recurrences", queryset=Complaint.objects.only("id", "reference", "title", "status", "received_at", "recurrence_of")),
    )
    return queryset.get(pk=pk)


def complaint_counts(user, *, now=None) -> dict:
    """Counts for the list page's header, one aggregate query."""
    now = now or timezone.now()
    return complaint_list_for_user(user, now=now).aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATES)),
        overdue=Count("id", filter=overdue_q(now)),
        new=Count("id", filter=Q(status=ComplaintStatus.NEW)),
        recurring=Count("id", filter=Q(is_recurring=True, status__in=OPEN_STATES)),
    )


def escalations_for(complaint):
    return Escalation.objects.filter(complaint=complaint).order_by("at", "id")


def my_work(user) -> list[WorkSection]:
    """The home page's complaints: my open complaints, nearest deadline first; for the quality
    team also the new complaints nobody has taken yet."""
    if not qms_roles.has_role(user, *qms_roles.QUALITY) or qms_roles.is_read_only(user):
        return []
    now = timezone.now()
    base = complaints_annotated(now).select_related("customer")
    mine = base.filter(assignee=user, status__in=OPEN_STATES).order_by(F("next_deadline").asc(nulls_last=True), "id")
    unassigned = base.filter(assignee__isnull=True, status=ComplaintStatus.NEW).order_by(F("first_response_due").asc(nulls_last=True), "id")
    list_url = reverse("complaints:list")
    mine_items = list(mine[:10])
    unassigned_items = list(unassigned[:5])
    sections = [
        WorkSection(
            title="My open complaints",
            template="complaints/_mywork_rows.html",
            items=mine_items,
            empty_text="No open complaints are assigned to you.",
            more_url=f"{list_url}?assignee={user.pk}&open=true",
            count=mine.count(),
        )
    ]
    if unassigned_items:
        sections.append(
            WorkSection(
                title="New complaints nobody has taken",
                template="complaints/_mywork_rows.html",
                items=unassigned_items,
                more_url=f"{list_url}?status=new&unassigned=true",
                count=unassigned.count(),
            )
        )
    return sections
