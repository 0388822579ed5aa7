"""Issue 16 item 5, the CAPA side: the effectiveness re-check matches recurrences by the rule the
recurrence KPI counts with (complaints.selectors.complaint_repeats), and a repeat of a closed
CAPA's problem raises a visible "recurrence after closure" flag with a task for its owner."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from capa import services
from capa.models import Capa
from complaints.models import Category, FailureMode
from tests.capa.conftest import advance, make_complaint

pytestmark = pytest.mark.django_db


def capa_for(first, *, actor, verifier, to, manager=None):
    capa = services.capa_create_from_complaint(complaint=first, actor=actor)
    return advance(capa, to, actor=actor, verifier=verifier, manager=manager)


def test_a_complaint_closed_as_not_a_product_problem_does_not_reopen_the_capa(staff, staff2):
    first = make_complaint(actor=staff, received_at=timezone.now() - timedelta(days=30))
    capa = capa_for(first, actor=staff, verifier=staff2, to="effectiveness_check")
    make_complaint(actor=staff, title="Dropped it", status="closed", is_product_problem=False, is_reportable=False)
    make_complaint(actor=staff, title="Spam", status="rejected")
    other_mode = FailureMode.objects.create(category=first.category, name="Cap cracked")
    make_complaint(actor=staff, title="Another problem", failure_mode=other_mode)
    assert services.recurrence_complaints(capa).count() == 0
    assert services.detect_recurrences() == 0
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"


def test_a_repeat_after_closure_flags_the_capa_once_and_tells_its_owner(staff, staff2, manager, client_for, api_for):
    first = make_complaint(actor=staff, received_at=timezone.now() - timedelta(days=30))
    capa = capa_for(first, actor=staff, verifier=staff2, to="closed", manager=manager)
    # The CAPA is closed once its observation window is over; the repeats come the day after.
    with time_machine.travel(capa.closed_at + timedelta(days=1), tick=True):
        assert services.flag_recurrences_after_closure() == 0
        noise = Category.objects.create(name="Noise")
        make_complaint(actor=staff, title="Different problem", category=noise)
        assert services.flag_recurrences_after_closure() == 0
        again = make_complaint(actor=staff, title="Seal leaks again")
        assert services.flag_recurrences_after_closure() == 1
        assert services.flag_recurrences_after_closure() == 0  # once
        capa.refresh_from_db()
        assert capa.recurred_after_closure_at is not None and again.reference in capa.recurrence_after_closure
        entry = capa.history.order_by("-history_id").first()
        assert entry.history_user.username == "system" and "Recurrence after closure" in entry.history_change_reason
        assert staff.notifications.filter(subject__contains="recurred after closure").exists()  # the owner's task
        page = client_for(staff).get(capa.get_absolute_url()).content.decode()
        assert "Recurrence after closure" in page and again.reference in page
        data = api_for(staff).get(f"/api/v1/capas/{capa.pk}/").json()
        assert data["recurred_after_closure_at"] and again.reference in data["recurrence_after_closure"]


def test_a_capa_closed_long_ago_is_not_flagged(staff, staff2, manager, settings):
    settings.CAPA_RECURRENCE_AFTER_CLOSURE_DAYS = 30
    first = make_complaint(actor=staff, received_at=timezone.now() - timedelta(days=30))
    capa = capa_for(first, actor=staff, verifier=staff2, to="closed", manager=manager)
    # A repeat 31 days after the closure, outside the 30 days in which a repeat is a recurrence.
    with time_machine.travel(capa.closed_at + timedelta(days=31), tick=True):
        make_complaint(actor=staff, title="Seal leaks again")
        assert services.flag_recurrences_after_closure() == 0
        # (the control: a sweep whose 30 days still reach back to the closure flags it)
        assert services.flag_recurrences_after_closure(now=capa.closed_at + timedelta(days=29)) == 1
