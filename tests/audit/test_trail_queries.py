"""The trail costs a fixed number of queries whatever the number of entries on the page
(ARCHITECTURE.md rule 6): one COUNT, one UNION ALL across the tables, one query per table
with rows on the page, per tracked many-to-many field and per related model."""

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
        SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, username=actor.username, user=actor)
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
        client.get(url)  # warm caches (content types, session) as a real user's second request would
        make_trail(10, actor=administrator, member=promoted, quality=quality, prefix="Small")
        small_count, small = measure(client, url, {"page_size": 200})
        make_trail(200, actor=administrator, member=promoted, quality=quality, prefix="Large")
        large_count, large = measure(client, url, {"page_size": 200})
        return small_count, entries_of(small), large_count, entries_of(large)

    return run


def test_trail_page_costs_the_same_for_10_or_200_entries(small_and_large):
    small_queries, small_entries, large_queries, large_entries = small_and_large("/audit/", lambda r: len(r.context["entries"]))
    assert small_entries < 30
    assert large_entries == 200
    assert small_queries == large_queries, (small_queries, large_queries)
    assert large_queries <= 18


def test_trail_api_costs_the_same_for_10_or_200_entries(small_and_large):
    small_queries, small_entries, large_queries, large_entries = small_and_large("/api/v1/audit-trail/", lambda r: len(r.json()["results"]))
    assert small_entries < 30
    assert large_entries == 200
    assert small_queries == large_queries, (small_queries, large_queries)
    assert large_queries <= 15


def test_a_records_history_costs_the_same_for_few_or_many_entries(administrator, quality, django_assert_max_num_queries):
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
