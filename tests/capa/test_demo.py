"""The CAPA demo data: every state, several from complaints, idempotent."""

import pytest

from capa.models import Capa
from capa.workflow import CapaStatus

pytestmark = pytest.mark.django_db


def test_demo_has_every_state_and_runs_twice(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from capa import demo as capa_demo
    from complaints import demo as complaints_demo
    from documents import demo as documents_demo
    from qms import demo as qms_demo

    lines = []
    qms_demo.seed(log=lines.append)
    complaints_demo.seed(log=lines.append)
    documents_demo.seed(log=lines.append)
    capa_demo.seed(log=lines.append)
    assert set(Capa.objects.values_list("status", flat=True)) == set(CapaStatus.values)
    from_complaints = Capa.objects.filter(complaints__isnull=False).distinct()
    assert from_complaints.count() >= 4
    closed = Capa.objects.get(status="closed")
    assert closed.complaints.count() == 2 and len(closed.root_cause.whys) == 5 and len(closed.root_cause.fishbone) == 6
    assert Capa.objects.get(reopen_count=1).status == "action_planning"
    from capa.models import Escalation

    assert set(Escalation.objects.values_list("kind", flat=True)) == {"action_overdue", "check_due"}
    count, escalations = Capa.objects.count(), Escalation.objects.count()
    capa_demo.seed(log=lines.append)
    assert Capa.objects.count() == count and Escalation.objects.count() == escalations
