"""The session's user arrives with their role names in the same query (qms.auth), sessions are
read from the cache and written through to the database (cached_db), and a role taken away
applies to the very next request."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from qms import roles

pytestmark = pytest.mark.django_db


def test_roles_and_unread_count_come_with_the_session_user(client_for, manager, django_assert_num_queries):
    from qms.models import Notification

    Notification.objects.create(recipient=manager, subject="CMP-2026-1 assigned to you", body="", url="/")
    Notification.objects.create(recipient=manager, subject="CMP-2026-2 assigned to you", body="", url="/")
    client = client_for(manager)
    client.get("/notifications/")  # the session is now in the cache
    with django_assert_num_queries(3) as captured:  # the user with roles and unread count; the list's total and rows
        response = client.get("/notifications/")
    assert response.status_code == 200 and response.context["unread_notifications"] == 2
    sql = captured.captured_queries[0]["sql"]
    assert "qms_user" in sql and "ARRAY(" in sql and "auth_group" in sql and "qms_notification" in sql
    assert not any("django_session" in q["sql"] for q in captured.captured_queries)
    assert not any(q["sql"].startswith('SELECT "auth_group"."name"') for q in captured.captured_queries)
    client.post("/notifications/read/")
    assert client.get("/notifications/").context["unread_notifications"] == 0


def test_a_role_taken_away_applies_to_the_next_request(client_for, manager):
    client = client_for(manager)
    assert client.get("/metrics/").status_code == 200
    manager.groups.remove(Group.objects.get(name=roles.MANAGER))
    assert client.get("/metrics/").status_code == 403
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    assert client.get("/metrics/").status_code == 200


def test_a_deactivated_user_is_logged_out_at_once(client_for, manager):
    client = client_for(manager)
    assert client.get("/complaints/").status_code == 200
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    response = client.get("/complaints/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_session_outlives_a_cache_flush(client_for, manager):
    client = client_for(manager)
    assert client.get("/complaints/").status_code == 200
    cache.clear()
    assert client.get("/complaints/").status_code == 200  # read back from the database
