"""Lists and the detail page cost the same number of queries for 5 or 50 rows
(docs/architecture.md rule 6). On a mismatch the SQL of both runs is printed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services
from complaints.models import Communication
from tests.complaints.conftest import advance, hours_ago

pytestmark = pytest.mark.django_db


def count_queries(fetch):
    with CaptureQueriesContext(connection) as context:
        response = fetch()
    assert response.status_code == 200
    return len(context.captured_queries), [q["sql"] for q in context.captured_queries]


def assert_same(small, large):
    assert small[0] == large[0], "\n".join(["5 rows:", *small[1], "", "50 rows:", *large[1]])


def make_many(make_complaint, staff, product, category, n):
    for i in range(n):
        complaint = make_complaint(
            title=f"Complaint {i}", assignee=staff, product=product, category=category, received_at=hours_ago(1 + i % 9)
        )
        if i % 3 == 0:
            advance(complaint, "acknowledge", actor=staff)
    services.escalate_due_complaints()


@pytest.mark.parametrize("url_name", ["complaints:list"])
def test_list_page_query_count_is_constant(client_for, staff, make_complaint, product, category, url_name):
    client = client_for(staff)
    make_many(make_complaint, staff, product, category, 5)
    small = count_queries(lambda: client.get(reverse(url_name), {"page_size": 50}))
    make_many(make_complaint, staff, product, category, 45)
    large = count_queries(lambda: client.get(reverse(url_name)))
    assert_same(small, large)
    print(f"complaint list page: {small[0]} queries")


def test_api_list_query_count_is_constant(api_for, staff, make_complaint, product, category):
    client = api_for(staff)
    make_many(make_complaint, staff, product, category, 5)
    small = count_queries(lambda: client.get("/api/v1/complaints/?page_size=100"))
    make_many(make_complaint, staff, product, category, 45)
    large = count_queries(lambda: client.get("/api/v1/complaints/?page_size=100"))
    assert_same(small, large)
    print(f"complaint API list: {small[0]} queries")


def grow(complaint, staff, n):
    for i in range(n):
        services.communication_add(complaint=complaint, actor=staff, direction="outbound", channel="email", summary=f"Reply {i}")
        services.complaint_update(
            complaint, actor=staff, reason=f"edit {i}", version=complaint.version, lot_number=f"L-{i}"
        )
        complaint.refresh_from_db()


def test_detail_page_query_count_is_constant(client_for, staff, make_complaint):
    complaint = make_complaint(received_at=hours_ago(5), assignee=staff)
    services.escalate_due_complaints()
    advance(complaint, "acknowledge", "investigate", actor=staff)
    client = client_for(staff)
    grow(complaint, staff, 5)
    small = count_queries(lambda: client.get(complaint.get_absolute_url()))
    grow(complaint, staff, 45)
    assert Communication.objects.filter(complaint=complaint).count() == 50
    large = count_queries(lambda: client.get(complaint.get_absolute_url()))
    # Never more with more rows; one fewer when the newest history entries name no object the
    # page does not hold already (the system user of an older escalation, here).
    assert large[0] <= small[0], "\n".join(["5 rows:", *small[1], "", "50 rows:", *large[1]])
    print(f"complaint detail page: {small[0]} queries")


def test_my_work_query_count_is_constant(client_for, staff, make_complaint, product, category):
    client = client_for(staff)
    make_many(make_complaint, staff, product, category, 5)
    small = count_queries(lambda: client.get(reverse("home")))
    make_many(make_complaint, staff, product, category, 45)
    large = count_queries(lambda: client.get(reverse("home")))
    assert_same(small, large)
