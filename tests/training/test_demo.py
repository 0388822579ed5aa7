"""The demo data: a realistic mix, built through the services, and idempotent."""

import pytest

from documents import demo as documents_demo
from qms import demo as qms_demo
from training import demo, selectors
from training.models import (
    AssignmentStatus,
    TrainingAssignment,
    TrainingNotice,
    TrainingRequirement,
    TrainingSession,
)

pytestmark = pytest.mark.django_db


def test_demo_data_has_every_kind_of_training_and_a_second_run_changes_nothing():
    qms_demo.seed(log=lambda *_: None)
    documents_demo.seed(log=lambda *_: None)
    demo.seed(log=lambda *_: None)
    statuses = set(TrainingAssignment.objects.values_list("status", flat=True))
    assert statuses == {AssignmentStatus.ASSIGNED, AssignmentStatus.COMPLETED, AssignmentStatus.WAIVED, AssignmentStatus.SUPERSEDED}
    assert selectors.overdue_user_ids()
    assert TrainingSession.objects.count() == 1
    assert TrainingNotice.objects.exists()
    matrix = selectors.training_matrix()
    assert matrix.totals["current"] and matrix.totals["due"] and matrix.totals["overdue"]
    assert 40 <= matrix.compliance <= 90
    # Supplier evaluation (approved, SOP, gated at 80%) has trainees before it is effective.
    assert TrainingAssignment.objects.filter(document__title="Supplier evaluation", document_version__status="approved").exists()

    counts = (TrainingAssignment.objects.count(), TrainingRequirement.objects.count(), TrainingNotice.objects.count())
    snapshot = sorted(TrainingAssignment.objects.values_list("pk", "status", "due_date"))
    demo.seed(log=lambda *_: None)
    assert (TrainingAssignment.objects.count(), TrainingRequirement.objects.count(), TrainingNotice.objects.count()) == counts
    assert sorted(TrainingAssignment.objects.values_list("pk", "status", "due_date")) == snapshot
