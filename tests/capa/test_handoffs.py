"""Hand-offs of a CAPA (issue 18 item 3): a CAPA whose effectiveness check was recorded
effective waits for a Quality Manager's closure signature; it is on their My work, they are told
once (in-app and e-mail through the outbox, on commit), and the CAPA page says who must act."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from capa import services
from capa.handoffs import announce_closure
from qms.handoffs import waiting_for
from qms.models import HandoffNotice, Notification, OutboxMessage
from tests.capa.conftest import advance, make_capa
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CLOSURE_SUBJECT = "waits for your closure signature"


@pytest.fixture
def capa_in_check(staff, staff2):
    capa = make_capa(actor=staff)
    return advance(capa, "effectiveness_check", actor=staff, verifier=staff2)


def _record_effective(capa, verifier):
    check = capa.checks.get(result="pending")
    # The result is recorded once the observation window is over (the clock moves there).
    after_window = datetime.combine(check.due_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    with time_machine.travel(after_window, tick=True):
        services.check_record_result(
            check, "mark_effective", actor=verifier, evidence="No leak complaint for 90 days."
        )
    capa.refresh_from_db()
    return capa


def test_recording_the_check_effective_tells_every_quality_manager_once_on_commit(
    capa_in_check, staff, staff2, manager, manager2, django_capture_on_commit_callbacks
):
    # when: the verifier records the check effective
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _record_effective(capa_in_check, staff2)

    # then: both Quality Managers have an in-app notification and an e-mail queued on commit
    notes = Notification.objects.filter(subject__contains=CLOSURE_SUBJECT)
    assert sorted(n.recipient.username for n in notes) == ["manager", "manager2"]
    assert notes.first().url == capa_in_check.get_absolute_url()
    assert OutboxMessage.objects.filter(subject__contains=CLOSURE_SUBJECT).count() == 2
    assert callbacks, "delivery is queued on commit"

    # and: announcing the same hand-off again tells nobody (keyed by record + state)
    with transaction.atomic():
        assert announce_closure(capa_in_check) is False
    assert Notification.objects.filter(subject__contains=CLOSURE_SUBJECT).count() == 2
    assert (
        HandoffNotice.objects.filter(record_label="capa.capa", record_id=capa_in_check.pk).count()
        == 1
    )


def test_a_rolled_back_hand_off_tells_nobody_and_can_be_announced_later(capa_in_check, manager):
    with pytest.raises(RuntimeError), transaction.atomic():
        announce_closure(capa_in_check)
        raise RuntimeError("the closing transaction failed")
    assert not Notification.objects.filter(subject__contains=CLOSURE_SUBJECT).exists()
    with transaction.atomic():
        assert announce_closure(capa_in_check) is True


def test_the_capa_waiting_for_closure_is_on_the_quality_managers_my_work_only(
    capa_in_check, staff, staff2, manager, client_for
):
    _record_effective(capa_in_check, staff2)
    page = client_for(manager).get("/").content.decode()
    assert "CAPAs waiting for a closure signature" in page
    section = page.split("CAPAs waiting for a closure signature", 1)[1]
    assert capa_in_check.reference in section.split("</table>", 1)[0]
    assert (
        "CAPAs waiting for a closure signature" not in client_for(staff).get("/").content.decode()
    )


def test_my_work_stays_within_the_query_budget_with_capas_to_sign(
    staff, staff2, manager, client_for, django_assert_max_num_queries
):
    for n in range(3):
        capa = advance(
            make_capa(actor=staff, title=f"Seals {n}"),
            "effectiveness_check",
            actor=staff,
            verifier=staff2,
        )
        _record_effective(capa, staff2)
    client = client_for(manager)
    client.get("/")  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        response = client.get("/")
    assert response.status_code == 200


def test_the_capa_page_says_who_must_act_next(capa_in_check, staff, staff2, manager, client_for):
    client = client_for(manager)
    page = client.get(capa_in_check.get_absolute_url()).content.decode()
    assert (
        "Waiting for:</strong> Staff2" in page
        or f"Waiting for:</strong> {staff2.full_name}" in page
    )
    assert "record the effectiveness result" in page

    _record_effective(capa_in_check, staff2)
    page = client.get(capa_in_check.get_absolute_url()).content.decode()
    assert "Waiting for:</strong> a Quality Manager — sign the closure" in page

    services.capa_transition(
        capa_in_check, "close", actor=manager, password=PASSWORD, reason="Effective"
    )
    capa_in_check.refresh_from_db()
    assert waiting_for(capa_in_check) is None
