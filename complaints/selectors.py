"""Reads shared by the pages, the API, "My work" and the other apps' dashboards, with their
joins and annotations done here once (docs/style.md "selectors.py")."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from complaints.expressions import WORKED_ON, next_deadline
from complaints.models import OPEN_STATES, Attachment, Communication, Complaint, Escalation, Survey
from complaints.workflow import ComplaintStatus
from qms import roles as qms_roles
from qms.audit.rows import RowRequest, bulk_rows, link_related
from qms.models import Signature, Transition
from qms.mywork import WorkSection

SEVERITY_RANK = Case(
    When(severity="critical", then=Value(4)),
    When(severity="high", then=Value(3)),
    When(severity="medium", then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)


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
    with what a list row shows joined in (the list page shows no CAPA, so none is fetched)."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        return Complaint.objects.none()
    return complaints_annotated(now).select_related("customer", "product", "category", "assignee")


def complaint_list_for_api(user, *, now=None):
    """The API's complaints: the serializer names customer, product, category and assignee by
    id only (no join needed), the two triage deciders by username (joined, not one query per
    row), and the CAPA ids (one prefetch query for the page)."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        return Complaint.objects.none()
    queryset = complaints_annotated(now).select_related("investigation_decided_by", "reportability_decided_by")
    if hasattr(Complaint, "capas"):  # the CAPA app adds Capa.complaints (related_name="capas")
        queryset = queryset.prefetch_related(Prefetch("capas", queryset=Complaint._meta.get_field("capas").related_model.objects.only("id")))
    return queryset


PEOPLE_OF_A_COMPLAINT = ("assignee", "created_by", "investigation_decided_by", "reportability_decided_by")


def complaint_get_for_detail(user, pk: int, *, now=None) -> Complaint:
    """One complaint with its customer, product and category joined in (its SLA terms are on the
    row itself), and
    the four people its page names read in one more query. Joining them too made a 12-table
    query whose planning took 16 ms at 100k complaints (PostgreSQL's geqo_threshold is 12),
    against 1.4 ms to run it."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        raise Complaint.DoesNotExist
    complaint = (
        complaints_annotated(now)
        .select_related("customer", "product", "category", "failure_mode", "recurrence_of")
        .get(pk=pk)
    )
    ids = {getattr(complaint, f"{name}_id") for name in PEOPLE_OF_A_COMPLAINT} - {None}
    people = get_user_model()._base_manager.in_bulk(ids) if ids else {}
    for name in PEOPLE_OF_A_COMPLAINT:
        person_id = getattr(complaint, f"{name}_id")
        if person_id is not None:
            setattr(complaint, name, people[person_id])
    return complaint


@dataclass
class ComplaintPage:
    """What the complaint page shows around the record, each list in its display order."""

    attachments: list = field(default_factory=list)
    communications: list = field(default_factory=list)
    escalations: list = field(default_factory=list)
    surveys: list = field(default_factory=list)  # newest first
    recurrences: list = field(default_factory=list)
    capas: list | None = None  # None: the CAPA app is not installed
    transitions: list = field(default_factory=list)
    signatures: list = field(default_factory=list)


def complaint_page_parts(complaint: Complaint) -> ComplaintPage:
    """Files, messages, escalations, surveys, later recurrences, linked CAPAs, workflow steps,
    signatures and the people who wrote, uploaded, acted or signed: every one of them in one
    UNION ALL (qms.audit.rows), so the page costs the same few queries whatever it holds."""
    content_type = ContentType.objects.get_for_model(Complaint)  # cached per process
    own = {"content_type": content_type, "object_id": complaint.pk}
    attachments = Attachment.objects.filter(complaint_id=complaint.pk)
    communications = Communication.objects.filter(complaint_id=complaint.pk)
    transitions = Transition.objects.filter(**own)
    signatures = Signature.objects.filter(**own)
    people = get_user_model()._base_manager.filter(
        Q(pk__in=attachments.values("uploaded_by_id"))
        | Q(pk__in=communications.values("author_id"))
        | Q(pk__in=transitions.values("actor_id"))
        | Q(pk__in=signatures.values("signer_id"))
    )
    requests = [
        ("attachments", attachments),
        ("communications", communications),
        ("escalations", Escalation.objects.filter(complaint_id=complaint.pk)),
        ("surveys", Survey.objects.filter(complaint_id=complaint.pk)),
        ("recurrences", Complaint.objects.filter(recurrence_of_id=complaint.pk)),
        ("transitions", transitions),
        ("signatures", signatures),
        ("people", people),
    ]
    has_capas = hasattr(Complaint, "capas")  # the CAPA app adds Capa.complaints (related_name="capas")
    if has_capas:
        capa_model = Complaint._meta.get_field("capas").related_model
        requests.append(("capas", capa_model.objects.filter(complaints=complaint.pk)))
    fetched = _rows_of(requests)

    def rows(tag, key, reverse=False):
        return sorted(fetched.get(tag, []), key=key, reverse=reverse)

    people_by_id = {person.pk: person for person in fetched.get("people", [])}
    page = ComplaintPage(
        attachments=rows("attachments", lambda a: (a.uploaded_at, a.pk)),
        communications=rows("communications", lambda c: (c.at, c.pk)),
        escalations=rows("escalations", lambda e: (e.at, e.pk)),
        surveys=rows("surveys", lambda s: (s.sent_at, s.pk), reverse=True),
        recurrences=rows("recurrences", lambda c: (c.received_at, c.pk), reverse=True),
        capas=rows("capas", lambda c: (c.created_at, c.pk), reverse=True) if has_capas else None,
        transitions=rows("transitions", lambda t: (t.at, t.pk)),
        signatures=rows("signatures", lambda s: (s.signed_at, s.pk)),
    )
    signatures_by_id = {sig.pk: sig for sig in page.signatures}
    link_related(page.attachments, "uploaded_by", people_by_id)
    link_related(page.communications, "author", people_by_id)
    link_related(page.transitions, "actor", people_by_id)
    link_related(page.transitions, "signature", signatures_by_id)
    link_related(page.signatures, "signer", people_by_id)
    for row in [*page.escalations, *page.surveys, *page.attachments, *page.communications]:
        type(row)._meta.get_field("complaint").set_cached_value(row, complaint)
    return page


def _rows_of(requests: list[tuple[str, object]]) -> dict[str, list]:
    """{tag: rows} of every (tag, queryset), in one UNION ALL query (qms.audit.rows.bulk_rows)."""
    fetched = bulk_rows([RowRequest(tag, queryset) for tag, queryset in requests])
    return {tag: [row for row, _extra in rows] for tag, rows in fetched.items()}


def complaint_counts(user, *, now=None) -> dict:
    """Counts for the list page's header. Every counter is about open complaints (overdue,
    new and recurring ones are open too), so one conditional aggregate reads only the open rows,
    from the partial index complaints_open_counts_idx (an index-only scan of the open
    complaints, however many closed ones the table holds)."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        return {"open": 0, "overdue": 0, "new": 0, "recurring": 0}
    now = now or timezone.now()
    return Complaint.objects.filter(status__in=OPEN_STATES).aggregate(
        open=Count("status"),
        overdue=Count("status", filter=overdue_q(now)),
        new=Count("status", filter=Q(status=ComplaintStatus.NEW)),
        recurring=Count("status", filter=Q(is_recurring=True)),
    )


def escalations_for(complaint):
    return Escalation.objects.filter(complaint=complaint).order_by("at", "id")


def my_work(user) -> list[WorkSection]:
    """The home page's complaints: my open complaints, nearest deadline first; for the quality
    team also the new complaints nobody has taken yet."""
    if not qms_roles.has_role(user, *qms_roles.QUALITY) or qms_roles.is_read_only(user):
        return []
    mine = Q(assignee=user, status__in=OPEN_STATES)
    unassigned = Q(assignee__isnull=True, status=ComplaintStatus.NEW)
    # Both lists in one query, nearest deadline first (a new complaint's deadline is its first
    # response), with each list's total: a window per list numbers and counts its rows.
    group = Case(When(mine, then=Value(0)), default=Value(1), output_field=IntegerField())
    order = [F("next_deadline").asc(nulls_last=True), F("id").asc()]
    rows = list(
        complaints_annotated(timezone.now())
        .select_related("customer")
        .filter(mine | unassigned)
        .annotate(
            work_list=group,
            work_rank=Window(RowNumber(), partition_by=[group], order_by=order),
            match_count=Window(Count("pk"), partition_by=[group]),
        )
        .filter(work_rank__lte=10)
        .order_by("work_list", "work_rank")
    )
    mine_items = [row for row in rows if row.work_list == 0]
    unassigned_items = [row for row in rows if row.work_list == 1][:5]
    list_url = reverse("complaints:list")
    sections = [
        WorkSection(
            title="My open complaints",
            template="complaints/_mywork_rows.html",
            items=mine_items,
            empty_text="No open complaints are assigned to you.",
            more_url=f"{list_url}?assignee={user.pk}&open=true",
            count=mine_items[0].match_count if mine_items else 0,
        )
    ]
    if unassigned_items:
        sections.append(
            WorkSection(
                title="New complaints nobody has taken",
                template="complaints/_mywork_rows.html",
                items=unassigned_items,
                more_url=f"{list_url}?status=new&unassigned=true",
                count=unassigned_items[0].match_count,
            )
        )
    return sections


# --- Recurrence (issue 16 item 5; decision 0023) ------------------------------------------------


def recurrence_counted() -> Q:
    """The complaints that count as an occurrence of a problem: not rejected (not a complaint)
    and not closed as "not a product problem" (user error, misuse). The recurrence KPI, the
    intake link and the CAPA effectiveness re-check all read this one rule."""
    return ~Q(status=ComplaintStatus.REJECTED) & ~Q(status=ComplaintStatus.CLOSED, is_product_problem=False)


def complaint_repeats(keys, *, since, until=None):
    """Counted complaints with one of the recurrence keys, received in [since, until]: the one
    query behind the intake link and the CAPA re-checks (complaints_recurrence_key_idx)."""
    keys = {key for key in keys if key}
    if not keys:
        return Complaint.objects.none()
    queryset = Complaint.objects.filter(recurrence_counted(), recurrence_key__in=keys, received_at__gte=since)
    if until is not None:
        queryset = queryset.filter(received_at__lte=until)
    return queryset


def recurring_complaints() -> Q:
    """The recurrence KPI's numerator: complaints linked to an earlier one, by the same rule."""
    return Q(is_recurring=True) & recurrence_counted()


# --- The complaint's dossier (qms.audit.exports) ---------------------------------------------


def complaint_dossier_sections(complaint: Complaint) -> list[dict]:
    """The parts of a complaint's file beyond its fields, for its dossier PDF and audit page
    (ISO 13485 8.2.2, 21 CFR 820.198(e)): the regulatory decisions with who took them, the
    communication log, escalations, the survey and the linked CAPAs with their status. The
    attachments (with SHA-256), history, signatures and transitions are the kernel's sections.
    One query (qms.audit.rows.bulk_rows), whatever the size of the file. Registered into
    qms.extensions by ComplaintsConfig.ready."""
    from qms.audit.display import EMPTY, format_datetime

    def yes_no(value) -> str:
        return EMPTY if value is None else ("Yes" if value else "No")

    capas = complaint.capas.all()  # the CAPAs linked to it (capa.models; no import upwards)
    deciders = [pk for pk in (complaint.investigation_decided_by_id, complaint.reportability_decided_by_id) if pk]
    people_rows = get_user_model()._base_manager.filter(
        Q(pk__in=deciders) | Q(pk__in=complaint.communications.values("author_id")) | Q(pk__in=capas.values("owner_id"))
    )
    fetched = bulk_rows(
        [
            RowRequest("communications", complaint.communications.all()),
            RowRequest("escalations", complaint.escalations.all()),
            RowRequest("surveys", complaint.surveys.all()),
            RowRequest("capas", capas),
            RowRequest("people", people_rows),
        ]
    )

    def rows(tag, key):
        return sorted((row for row, _extra in fetched.get(tag, [])), key=key)

    people = {person.pk: person for person, _extra in fetched.get("people", [])}
    communication_rows = rows("communications", lambda c: (c.at, c.pk))
    capa_rows = rows("capas", lambda c: c.reference)
    link_related(communication_rows, "author", people)
    link_related(capa_rows, "owner", people)

    def decider(pk) -> str:
        return people[pk].full_name if pk in people else EMPTY

    decisions = [
        ["Investigation required", yes_no(complaint.investigation_required), complaint.no_investigation_reason or EMPTY, decider(complaint.investigation_decided_by_id)],
        ["Reportable to a regulator", yes_no(complaint.is_reportable), complaint.reportability_reason or EMPTY, decider(complaint.reportability_decided_by_id)],
    ]
    communications = [
        [format_datetime(c.at), c.get_direction_display(), c.get_channel_display(), c.author.full_name, c.summary]
        for c in communication_rows
    ]
    escalations = [
        [format_datetime(e.at), e.get_kind_display(), str(e.level), f"{e.percent} %", format_datetime(e.due_at), ", ".join(e.notified or []) or EMPTY]
        for e in rows("escalations", lambda e: (e.at, e.pk))
    ]
    surveys = [
        [
            format_datetime(s.sent_at),
            s.email,
            format_datetime(s.answered_at) if s.answered_at else f"not answered (link expires {format_datetime(s.expires_at)})",
            EMPTY if s.csat is None else f"{s.csat} / 5",
            EMPTY if s.ces is None else f"{s.ces} / 7",
            EMPTY if s.nps is None else f"{s.nps} / 10",
            s.comment or EMPTY,
        ]
        for s in rows("surveys", lambda s: (s.sent_at, s.pk))
    ]
    capas = [
        [capa.reference, capa.title, capa.get_status_display(), capa.owner.full_name if capa.owner_id else EMPTY, capa.due_date.isoformat() if capa.due_date else EMPTY]
        for capa in capa_rows
    ]
    return [
        {"title": "Regulatory decisions", "columns": ["Decision", "Answer", "Reason", "Decided by"], "rows": decisions, "widths": [0.22, 0.1, 0.48, 0.2]},
        {"title": "Communications", "columns": ["At", "Direction", "Channel", "By", "Summary"], "rows": communications, "empty": "No communication logged.", "widths": [0.15, 0.14, 0.1, 0.13, 0.48]},
        {"title": "Escalations", "columns": ["At", "Deadline", "Level", "Reached", "Due at", "Notified"], "rows": escalations, "empty": "No escalation."},
        {"title": "Customer survey", "columns": ["Sent", "To", "Answered", "CSAT", "CES", "NPS", "Comment"], "rows": surveys, "empty": "No survey sent.", "widths": [0.14, 0.2, 0.14, 0.08, 0.08, 0.08, 0.28]},
        {"title": "Linked CAPAs", "columns": ["CAPA", "Title", "Status", "Owner", "Due"], "rows": capas, "empty": "No CAPA linked.", "widths": [0.16, 0.4, 0.14, 0.16, 0.14]},
    ]
