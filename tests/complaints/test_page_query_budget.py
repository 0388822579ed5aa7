"""Query budgets of the complaint pages (issue 9): the detail page, the list page, the API list,
the create and transition POSTs. Each page is measured at two data sizes and must stay within
its budget at both (docs/architecture.md rule 6); django_assert_max_num_queries prints the SQL when a
budget is exceeded. Also: the list header's counters are right, and the detail page shows the
assignee's training-overdue flag."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.models import OPEN_STATES, Complaint
from complaints.workflow import ComplaintStatus
from qms import roles as qms_roles
from tests.complaints.conftest import advance, hours_ago

pytestmark = pytest.mark.django_db

DETAIL_BUDGET = 12  # the target for a page, whatever the data
LIST_BUDGET = 10
API_LIST_BUDGET = 6
CREATE_BUDGET = 12  # BEGIN and COMMIT included, as the benchmark counts them
TRANSITION_BUDGET = 12


def queries_of(fetch):
    with CaptureQueriesContext(connection) as context:
        response = fetch()
    assert response.status_code in (200, 302), response.status_code
    return len(context.captured_queries)


def enrich(complaint, staff, manager, n):
    """n messages, n field edits (history entries) and one file on an investigated complaint."""
    for i in range(n):
        services.communication_add(
            complaint=complaint,
            actor=staff,
            direction="outbound",
            channel="email",
            summary=f"Reply {i}",
        )
        complaint.refresh_from_db()
        services.complaint_update(
            complaint,
            actor=manager if i % 2 else staff,
            reason=f"edit {i}",
            version=complaint.version,
            lot_number=f"L-{i}",
        )
    services.attachment_add(
        complaint=complaint,
        actor=manager,
        uploaded_file=SimpleUploadedFile(f"note{n}.txt", b"hello", content_type="text/plain"),
    )
    complaint.refresh_from_db()


def detailed_complaint(make_complaint, staff, manager, product, category):
    """A complaint with every part the page shows: an earlier complaint it repeats, escalations,
    triage decided by two people, steps taken, a survey, a signed closure."""
    make_complaint(title="Earlier", product=product, category=category, received_at=hours_ago(40))
    complaint = make_complaint(
        received_at=hours_ago(30), assignee=staff, product=product, category=category
    )
    services.escalate_due_complaints()
    advance(complaint, "acknowledge", "investigate", actor=staff)
    services.complaint_update(
        complaint,
        actor=manager,
        reason="triage",
        version=complaint.version,
        investigation_required=True,
        is_reportable=False,
        reportability_reason="No harm possible.",
    )
    complaint.refresh_from_db()
    return complaint


def test_detail_page_stays_within_budget_with_5_or_50_messages_and_edits(
    client_for, staff, manager, make_complaint, product, category, django_assert_max_num_queries
):
    complaint = detailed_complaint(make_complaint, staff, manager, product, category)
    client = client_for(staff)
    client.get(complaint.get_absolute_url())  # warm the process-wide caches (content types)
    counts = []
    for n in (5, 45):
        enrich(complaint, staff, manager, n)
        with django_assert_max_num_queries(DETAIL_BUDGET):
            counts.append(queries_of(lambda: client.get(complaint.get_absolute_url())))
    # then resolved (survey) and closed with a signature: still within budget
    advance(complaint, "resolve", "close", actor=manager)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        counts.append(queries_of(lambda: client.get(complaint.get_absolute_url())))
    # More messages and edits never cost more queries. (It may cost one fewer: the related
    # objects the shown history names are fetched in one query, skipped when the page already
    # holds them all.)
    assert counts[1] <= counts[0], counts
    assert complaint.communications.count() == 50
    print(f"complaint detail page: {counts} queries")


def test_list_page_stays_within_budget_whatever_the_rows(
    client_for, staff, manager, make_complaint, product, category, django_assert_max_num_queries
):
    client = client_for(staff)
    counts = []
    for n, page in ((5, 1), (55, 1), (0, 3)):
        for i in range(n):
            complaint = make_complaint(
                title=f"Complaint {i}",
                assignee=staff if i % 2 else manager,
                product=product,
                category=category,
                received_at=hours_ago(1 + i % 9),
            )
            if i % 3 == 0:
                advance(complaint, "acknowledge", actor=staff)
        with django_assert_max_num_queries(LIST_BUDGET):
            counts.append(
                queries_of(lambda page=page: client.get(reverse("complaints:list"), {"page": page}))
            )
    with django_assert_max_num_queries(LIST_BUDGET):
        counts.append(
            queries_of(
                lambda: client.get(
                    reverse("complaints:list"),
                    {"open": "true", "severity": "medium", "ordering": "deadline"},
                )
            )
        )
    assert len(set(counts)) == 1, counts
    print(f"complaint list page: {counts} queries")


def test_api_list_has_no_query_per_row_for_the_triage_deciders(
    api_for, staff, manager, make_complaint, product, category, django_assert_max_num_queries
):
    client = api_for(staff)
    counts = []
    for n, size in ((5, 5), (45, 50)):
        for i in range(n):
            complaint = make_complaint(
                title=f"Complaint {i}",
                product=product,
                category=category,
                received_at=hours_ago(1 + i),
            )
            services.complaint_update(
                complaint,
                actor=manager if i % 2 else staff,
                reason="triage",
                version=complaint.version,
                investigation_required=True,
                is_reportable=False,
                reportability_reason="No harm possible.",
            )
        with django_assert_max_num_queries(API_LIST_BUDGET):
            response_count = queries_of(
                lambda size=size: client.get("/api/v1/complaints/", {"page_size": size})
            )
        counts.append(response_count)
    # More messages and edits never cost more queries. (It may cost one fewer: the related
    # objects the shown history names are fetched in one query, skipped when the page already
    # holds them all.)
    assert counts[1] <= counts[0], counts
    body = client.get("/api/v1/complaints/", {"page_size": 50}).json()
    assert {row["reportability_decided_by"] for row in body["results"]} == {"staff", "manager"}
    print(f"complaint API list: {counts} queries")


def test_list_header_counts_are_those_of_the_open_complaints(
    staff, manager, make_complaint, product, category, failure_mode
):
    now = timezone.now()
    fresh = make_complaint(title="fresh", received_at=hours_ago(1))
    late_new = make_complaint(
        title="late new", received_at=hours_ago(10)
    )  # first response (4 h) missed
    late_worked = advance(
        make_complaint(title="late worked", received_at=hours_ago(30)),
        "acknowledge",
        "investigate",
        actor=staff,
    )
    make_complaint(title="earlier", product=product, failure_mode=failure_mode, received_at=hours_ago(50))
    recurring = make_complaint(
        title="again", product=product, failure_mode=failure_mode, received_at=hours_ago(2)
    )
    assert recurring.is_recurring
    waiting = advance(
        make_complaint(title="waiting", received_at=hours_ago(30)),
        "acknowledge",
        "investigate",
        "wait_for_customer",
        actor=staff,
    )
    closed = advance(
        make_complaint(
            title="closed", received_at=hours_ago(40), product=product, category=category
        ),
        "acknowledge",
        "investigate",
        "resolve",
        "close",
        actor=manager,
    )
    rejected = advance(
        make_complaint(title="rejected", received_at=hours_ago(20)),
        "reject",
        actor=staff,
        reason="Not ours",
    )
    counts = selectors.complaint_counts(staff, now=now)

    every = list(selectors.complaints_annotated(now))
    open_rows = [c for c in every if c.status in OPEN_STATES]
    assert counts == {
        "open": len(open_rows),
        "overdue": sum(1 for c in every if c.is_overdue),
        "new": sum(1 for c in every if c.status == ComplaintStatus.NEW),
        "recurring": sum(1 for c in open_rows if c.is_recurring),
    }
    assert counts["open"] == 6 and counts["new"] == 4 and counts["recurring"] >= 1
    overdue_ids = set(
        Complaint.objects.filter(selectors.overdue_q(now)).values_list("pk", flat=True)
    )
    assert {late_new.pk, late_worked.pk} <= overdue_ids
    assert not {fresh.pk, waiting.pk, closed.pk, rejected.pk} & overdue_ids
    assert selectors.complaint_counts(make_outsider(), now=now) == {
        "open": 0,
        "overdue": 0,
        "new": 0,
        "recurring": 0,
    }


def make_outsider():
    from tests.conftest import make_user

    return make_user("nobody_here", qms_roles.EMPLOYEE)


def test_list_header_counts_read_the_open_rows_only():
    """The counters' query filters on the open states, so PostgreSQL can answer it from the
    partial index complaints_open_counts_idx (checked with EXPLAIN at 100k complaints)."""
    from django.test.utils import CaptureQueriesContext as Capture

    from tests.conftest import make_user

    reader = make_user("reader", qms_roles.STAFF)
    with Capture(connection) as context:
        selectors.complaint_counts(reader)
    sql = context.captured_queries[-1]["sql"]
    assert (
        "FILTER" in sql
        and "IN ('new', 'acknowledged', 'investigating', 'awaiting_customer')" in sql
    )
    assert "JOIN" not in sql


def test_detail_page_flags_the_assignee_with_overdue_training(
    client_for, staff, manager, make_complaint
):
    from tests.training.conftest import make_document, release_version
    from training import services as training_services
    from training.models import TrainingAssignment

    complaint = make_complaint(assignee=staff)
    client = client_for(manager)
    assert "training overdue" not in client.get(complaint.get_absolute_url()).content.decode()

    document = make_document(staff, title="Complaint handling")
    release_version(document.versions.get(), author=staff, approver=manager, run_task=False)
    requirement = training_services.requirement_create(
        actor=manager,
        document=document,
        role=Group.objects.get(name=qms_roles.STAFF),
        due_days=10,
        reason="Complaint handlers",
    )
    training_services.assign_for_requirement(requirement=requirement)
    # test set-up only: the assignment fell due yesterday
    TrainingAssignment.objects.filter(user=staff).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )

    page = client.get(complaint.get_absolute_url()).content.decode()
    assignee_row = page.split("<dt>Assignee</dt>", 1)[1].split("</dd>", 1)[0]
    assert "training overdue" in assignee_row
    assert f"/training/assignments/?user={staff.pk}" in assignee_row


def test_create_and_transition_posts_stay_within_budget(
    client_for, manager, staff, customer, product, django_assert_max_num_queries
):
    from tests.complaints.conftest import ensure_policies

    ensure_policies(
        business=True
    )  # the business calendar and its holidays are read once per request
    client = client_for(manager)
    form = {
        "title": "Label printer jams",
        "description": "Jams after 40 labels.",
        "customer": customer.pk,
        "channel": "email",
        "product": product.pk,
        "severity": "medium",
        "assignee": manager.pk,
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    client.post(reverse("complaints:create"), form)  # warm-up (content types, sessions)
    with django_assert_max_num_queries(CREATE_BUDGET):
        response = client.post(reverse("complaints:create"), {**form, "title": "Second jam"})
    assert response.status_code == 302
    complaint = Complaint.objects.get(title="Second jam")
    assert complaint.history.count() == 1 and complaint.history.get().history_user == manager
    assert complaint.first_response_due is not None and complaint.next_escalation_at is not None

    advance(complaint, "acknowledge", "investigate", actor=manager)
    url = reverse("complaints:transition", args=[complaint.pk])
    for action in ("wait_for_customer", "resume"):
        with django_assert_max_num_queries(TRANSITION_BUDGET):
            assert client.post(url, {"action": action, "reason": ""}).status_code == 302
        complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING and complaint.sla_paused_at is None
    assert list(complaint.history.order_by("history_id").values_list("history_action", flat=True))[
        -2:
    ] == ["wait_for_customer", "resume"]
