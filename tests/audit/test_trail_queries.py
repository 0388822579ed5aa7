"""The trail costs a fixed number of queries whatever the number of entries on the page, the
number of tables they come from, or the size of the trail (docs/architecture.md rule 6; issue 9: at
most 12): one UNION ALL of keys across the tables (no COUNT), one query for the rows of every
table on the page, at most three for the objects their changes name, and the planner's
estimate of the total."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qms import roles as qms_roles
from qms import services
from qms.history import set_history
from qms.models import Department, SecurityEvent
from qms.signatures import signature_create


def make_trail(size, *, actor, member, quality, prefix):
    """About `size` entries across five kinds of table: department history, user history with
    its department and roles, signatures and security events (8 entries per round)."""
    for i in range(max(1, size // 8)):
        department = Department(name=f"{prefix} {i:04d}")
        set_history(department, user=actor, reason=f"Site {i} opened")
        department.save()
        department.name = f"{prefix} {i:04d} (renamed)"
        set_history(department, user=actor, reason="Renamed")
        department.save()
        signature_create(department, signer=actor, meaning="Approved", reason=f"Approval {i}")
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.LOGIN, username=actor.username, user=actor
        )
        member.department = department if member.department_id == quality.pk else quality
        set_history(member, user=actor, reason="Moved")
        member.save(update_fields=["department"])
        roles = [qms_roles.STAFF] if i % 2 else [qms_roles.MANAGER]
        services.user_set_roles(member, role_names=roles, actor=actor, reason="Role review")


def measure(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries.captured_queries), response


@pytest.fixture
def small_and_large(promoted, administrator, auditor, quality, client_for):
    def run(url, entries_of):
        client = client_for(auditor)
        client.get(
            url
        )  # warm caches (content types, session) as a real user's second request would
        make_trail(10, actor=administrator, member=promoted, quality=quality, prefix="Small")
        small_count, small = measure(client, url, {"page_size": 200})
        make_trail(200, actor=administrator, member=promoted, quality=quality, prefix="Large")
        large_count, large = measure(client, url, {"page_size": 200})
        return small_count, entries_of(small), large_count, entries_of(large)

    return run


def test_trail_page_costs_the_same_for_10_or_200_entries(small_and_large):
    small_queries, small_entries, large_queries, large_entries = small_and_large(
        "/audit/", lambda r: len(r.context["entries"])
    )
    assert small_entries < 30
    assert large_entries == 200
    # The larger trail has a next page, so its total is estimated (one EXPLAIN more).
    assert small_queries <= large_queries <= small_queries + 1, (small_queries, large_queries)
    assert large_queries <= 12


def test_trail_api_costs_the_same_for_10_or_200_entries(small_and_large):
    small_queries, small_entries, large_queries, large_entries = small_and_large(
        "/api/v1/audit-trail/", lambda r: len(r.json()["results"])
    )
    assert small_entries < 30
    assert large_entries == 200
    # The larger trail has a next page, so its total is estimated (one EXPLAIN more).
    assert small_queries <= large_queries <= small_queries + 1, (small_queries, large_queries)
    assert large_queries <= 12


def test_a_records_history_costs_the_same_for_few_or_many_entries(
    administrator, quality, django_assert_max_num_queries
):
    from qms.audit.selectors import record_history

    def rename(times):
        for i in range(times):
            quality.name = f"Quality {i}"
            set_history(quality, user=administrator, reason="Renamed")
            quality.save()

    rename(3)
    with CaptureQueriesContext(connection) as few:
        assert len(record_history(quality)) == 4
    rename(100)
    with CaptureQueriesContext(connection) as many:
        assert len(record_history(quality)) == 104
    assert len(few.captured_queries) == len(many.captured_queries) <= 4


def make_specimens(count, *, staff, manager):
    """Specimens created, edited, submitted and approved with a signature: history rows of
    one more table, transitions and signatures."""
    from tests.conftest import PASSWORD
    from tests.kernel_app.services import specimen_create, specimen_transition, specimen_update

    for i in range(count):
        specimen = specimen_create(actor=staff, title=f"Gauge {i}", summary="Draft.")
        specimen = specimen_update(
            specimen,
            actor=staff,
            version=specimen.version,
            reason="Checked",
            summary=f"Checked {i}.",
        )
        specimen_transition(specimen, "submit", actor=staff)
        specimen_transition(
            specimen, "approve", actor=manager, password=PASSWORD, meaning="Approved"
        )


FILTERS = [
    {},
    {"user": "administrator"},
    {"user": "nobody-at-all"},
    {"model": "qms.user"},
    {"model": "kernel_app.specimen", "action": "approve"},
    {"action": "created"},
    {"action": "signed"},
    {"date_from": "2000-01-01", "date_to": "2999-12-31"},
    {"record": "staff"},
    {"q": "renamed"},
]


@pytest.mark.parametrize("page_size", [25, 50, 200])
def test_trail_page_stays_within_12_queries_for_every_size_and_filter(
    page_size,
    promoted,
    administrator,
    auditor,
    staff,
    manager,
    quality,
    client_for,
    django_assert_max_num_queries,
):
    client = client_for(auditor)
    client.get("/audit/")
    for size, specimens in ((10, 1), (120, 12)):
        make_trail(size, actor=administrator, member=promoted, quality=quality, prefix=f"P{size}")
        make_specimens(specimens, staff=staff, manager=manager)
        for params in FILTERS:
            with django_assert_max_num_queries(12):
                response = client.get("/audit/", {**params, "page_size": page_size})
            assert response.status_code == 200, params
        first = client.get("/audit/", {"page_size": page_size}).context["page"]
        if first.has_older:
            with django_assert_max_num_queries(12):
                older = client.get(
                    "/audit/", {"page_size": page_size, "before": first.older_cursor}
                )
            assert older.context["entries"]


def test_trail_api_and_exports_stay_within_fixed_queries(
    promoted,
    administrator,
    auditor,
    staff,
    manager,
    quality,
    client_for,
    django_assert_max_num_queries,
):
    client = client_for(auditor)
    client.get("/api/v1/audit-trail/")
    make_trail(120, actor=administrator, member=promoted, quality=quality, prefix="Api")
    make_specimens(5, staff=staff, manager=manager)
    for params in FILTERS:
        with django_assert_max_num_queries(12):
            response = client.get("/api/v1/audit-trail/", {**params, "page_size": 50})
        assert response.status_code == 200, params
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/audit-trail/", {"page_size": 50, "page": 3}).status_code == 200
    # The CSV reads 500 entries per chunk by cursor: a few queries per chunk, not per entry.
    with CaptureQueriesContext(connection) as queries:
        body = b"".join(client.get("/audit/export.csv").streaming_content)
    assert body.count(b"\n") > 200
    assert len(queries.captured_queries) <= 14
