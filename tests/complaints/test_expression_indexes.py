"""The complaint list's deadline sort and the dashboard's complaint KPIs are served by expression
indexes (complaints.expressions). An expression index only serves a query whose expression is
written exactly like the index's; these tests fail when the two drift apart."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Complaint
from metrics import kpis
from tests.complaints.conftest import advance

pytestmark = pytest.mark.django_db


def plan(sql: str, params=()) -> str:
    """The plan PostgreSQL picks when it may neither scan the whole table nor sort: an index
    with the query's expression, if there is one."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = on")
    return text


def list_queries(client, query: str) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        assert client.get(f"/complaints/?{query}").status_code == 200
    return [q["sql"] for q in context.captured_queries if '"complaints_complaint"' in q["sql"]]


@pytest.mark.parametrize("query", ["ordering=deadline", "ordering=-deadline", "open=true&severity=high&ordering=deadline"])
def test_deadline_sort_reads_the_deadline_index(client_for, manager, make_complaint, query):
    make_complaint(severity="high")
    page_query = next(q for q in list_queries(client_for(manager), query) if "ORDER BY" in q and "LIMIT" in q)
    assert "complaints_deadline_idx" in plan(page_query)


def test_open_list_of_one_severity_is_counted_from_the_open_counts_index(client_for, manager, make_complaint):
    make_complaint(severity="high")
    count_query = next(q for q in list_queries(client_for(manager), "open=true&severity=high") if "COUNT(*)" in q)
    assert "Index Only Scan using complaints_open_counts_idx" in plan(count_query)


@pytest.fixture
def table_of_real_shape(make_complaint):
    """2,000 closed complaints of long ago for another handler, analysed: on an empty or
    one-row table the planner's pick depended on the statistics that earlier tests had left
    behind (these plan tests failed in random order). Plain rows are enough for a plan."""
    from tests.conftest import make_user

    template = make_complaint()
    other = make_user("other-handler")
    long_ago = timezone.now() - timedelta(days=3 * 365)
    fields = {f.attname: getattr(template, f.attname) for f in Complaint._meta.concrete_fields if not f.primary_key}
    fields.update(assignee_id=other.pk, status="closed", received_at=long_ago, acknowledged_at=long_ago,
                  resolved_at=long_ago, closed_at=long_ago, first_response_due=long_ago, resolution_due=long_ago,
                  next_escalation_at=None, is_reportable=False, resolution="Replaced.")
    Complaint.objects.bulk_create(Complaint(**{**fields, "reference": f"CMP-PLAN-{n:05d}"}) for n in range(2000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE complaints_complaint")


def test_kpi_complaint_query_reads_the_horizon_index(table_of_real_shape):
    period = kpis.Period.last_days(30)
    sql, params = kpis.complaint_aggregates([period, period.previous()], kpis.NO_FILTERS).query.sql_with_params()
    assert "complaints_kpi_horizon_idx" in plan(sql, params)


def test_deadline_sort_breaks_ties_by_id_in_the_sort_direction(api_for, manager, make_complaint, staff):
    first, second, third = (make_complaint(title=f"Seal leak {i}") for i in range(3))
    closed = advance(make_complaint(title="Closed one"), "acknowledge", "investigate", "resolve", "close", actor=manager)
    # test set-up only: the three open ones fall due at the same minute
    due = timezone.now() + timedelta(hours=2)
    Complaint.objects.filter(pk__in=[first.pk, second.pk, third.pk]).update(first_response_due=due)
    client = api_for(manager)

    def ids(ordering):
        return [row["id"] for row in client.get(f"/api/v1/complaints/?ordering={ordering}").json()["results"]]

    assert ids("deadline") == [first.pk, second.pk, third.pk, closed.pk]  # no deadline: last
    assert ids("-deadline") == [closed.pk, third.pk, second.pk, first.pk]
    # Pages of one do not repeat or skip a complaint among equal deadlines.
    paged = [
        client.get(f"/api/v1/complaints/?ordering=deadline&page_size=1&page={n}").json()["results"][0]["id"]
        for n in (1, 2, 3, 4)
    ]
    assert paged == [first.pk, second.pk, third.pk, closed.pk]



def test_my_open_complaints_are_found_from_the_assignee_index(client_for, staff, make_complaint, table_of_real_shape):
    """"My work": one person's open complaints are a range of complaints_assignee_due_idx,
    not a walk of the deadline index through every complaint."""
    make_complaint(assignee=staff)
    with CaptureQueriesContext(connection) as context:
        assert client_for(staff).get("/").status_code == 200
    query = next(q["sql"] for q in context.captured_queries if '"complaints_complaint"."assignee_id" =' in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert "complaints_assignee_due_idx" in text, text
