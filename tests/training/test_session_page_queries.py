"""The training-session page costs a fixed number of queries whatever the number of
attendees, of those who signed, or the length of the session's history (docs/architecture.md
rule 6; issue 9: at most 12 a page)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import PASSWORD
from training import services
from training.models import SessionAttendee

pytestmark = pytest.mark.django_db

BUDGET = 12


def count(client, url):
    client.get(url)  # warm the content-type cache, as a running server has it
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), "\n".join(q["sql"][:200] for q in queries.captured_queries if q["sql"])


def test_session_page_costs_the_same_with_more_attendees(
    client_for, requirement, sop, staff, manager, employee, trainees
):
    held_on = datetime.date.today() - datetime.timedelta(days=1)
    version = sop.effective_version
    small_session = services.session_record(
        actor=staff,
        document_version=version,
        held_on=held_on,
        attendees=[employee],
        password=PASSWORD,
    )
    big_session = services.session_record(
        actor=manager,
        document_version=version,
        held_on=held_on,
        attendees=trainees,
        password=PASSWORD,
    )
    for attendee in SessionAttendee.objects.filter(
        session=big_session, user__in=trainees[:2]
    ).select_related("user", "assignment"):
        services.attendance_sign(attendee=attendee, actor=attendee.user, password=PASSWORD)
    client = client_for(manager)
    small, small_sql = count(client, reverse("training:session", args=[small_session.pk]))
    large, large_sql = count(client, reverse("training:session", args=[big_session.pk]))
    assert large == small, small_sql + "\n---\n" + large_sql
    assert large <= BUDGET, large_sql
    page = client.get(reverse("training:session", args=[big_session.pk])).content.decode()
    assert all(t.full_name in page for t in trainees)
