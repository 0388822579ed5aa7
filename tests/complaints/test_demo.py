import pytest

from complaints import demo as complaints_demo
from complaints.models import Complaint, Escalation, Survey
from qms import demo as qms_demo
from tests.complaints.conftest import ensure_policies

pytestmark = pytest.mark.django_db


def test_demo_data_covers_every_state_and_is_idempotent():
    ensure_policies(business=True, first_response_hours="8", resolution_hours="64")
    qms_demo.seed(log=lambda *_: None)
    complaints_demo.seed(log=lambda *_: None)
    states = set(Complaint.objects.values_list("status", flat=True))
    assert states == {"new", "acknowledged", "investigating", "awaiting_customer", "resolved", "closed", "rejected"}
    assert Complaint.objects.filter(is_recurring=True).exists()
    assert Survey.objects.filter(answered_at__isnull=False).count() >= 3
    assert Escalation.objects.exists()
    count = Complaint.objects.count()
    complaints_demo.seed(log=lambda *_: None)
    assert Complaint.objects.count() == count
