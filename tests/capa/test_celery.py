"""The CAPA sweep on a real Celery worker (docs/architecture.md rules 4 and 9): an overdue action
and a due effectiveness check give exactly one escalation and one reminder, even when two
sweeps run at the same time."""

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from capa import services
from capa.models import CapaAction, EffectivenessCheck, Escalation
from qms import roles as qms_roles
from qms.models import Notification
from tests.capa.conftest import advance, make_capa, today
from tests.conftest import make_user, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_sweeps_escalate_once(celery_worker):
    # given: one CAPA with an action a day overdue, another whose check falls due today
    owner = make_user("owner", qms_roles.STAFF)
    verifier = make_user("verifier", qms_roles.STAFF)
    doer = make_user("doer", qms_roles.STAFF)
    make_user("boss", qms_roles.MANAGER)
    late = advance(make_capa(actor=owner), "action_planning", actor=owner, verifier=verifier)
    action = services.action_create(late, actor=owner, action_type="fix", description="Replace seals", owner=doer, due_date=today())
    CapaAction.objects.filter(pk=action.pk).update(due_date=today() - timedelta(days=1))
    checked = advance(make_capa(actor=owner, title="Labels peel"), "effectiveness_check", actor=owner, verifier=verifier)
    EffectivenessCheck.objects.filter(capa=checked).update(due_date=today())
    before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    new = Notification.objects.filter(id__gt=before)

    # when: two sweeps are queued at once on the worker (concurrency 2), and a third runs here
    from capa.tasks import sweep

    sweep.delay()
    sweep.delay()
    errors = []

    def in_process():
        try:
            services.escalate_overdue_actions()
            services.remind_due_checks()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=in_process)
    thread.start()
    thread.join()
    log = Path(celery_worker.log_path)
    finished = re.compile(r"Task capa\.sweep\[[^\]]+\] succeeded")
    wait_for(lambda: len(finished.findall(log.read_text())) >= 2, timeout=60, message="both sweeps to finish")

    # then: exactly one row and one notification per step and recipient
    assert not errors
    assert list(Escalation.objects.values_list("kind", "level").order_by("kind")) == [("action_overdue", 1), ("check_due", 1)]
    assert new.filter(subject__startswith="Overdue CAPA action").count() == 2  # doer and owner
    assert new.filter(subject__contains="is due", recipient=verifier).count() == 1
    assert new.count() == 3
    assert not Escalation.objects.filter(kind="check_overdue").exists()
    action.refresh_from_db()
    assert action.escalation_level == 1
