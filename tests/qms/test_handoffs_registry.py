"""Each app fills the hand-off registry (qms.handoffs): who must act next on a document version
and a training assignment, from the rows the page has loaded (issue 18 item 3)."""

import datetime

import pytest

from documents.models import DocumentVersion, SignoffKind, VersionSignoff, VersionStatus
from qms.handoffs import REGISTRY, waiting_for
from tests.conftest import make_user
from training.models import AssignmentStatus, TrainingAssignment

pytestmark = pytest.mark.django_db


def test_every_record_with_a_page_has_a_provider():
    assert {
        "complaints.complaint",
        "capa.capa",
        "documents.documentversion",
        "training.trainingassignment",
    } <= set(REGISTRY)


def test_a_version_in_review_waits_for_its_pending_reviewers_then_its_approvers():
    author, reviewer, done, approver = (
        make_user(name) for name in ("author", "reviewer", "done", "approver")
    )
    version = DocumentVersion(status=VersionStatus.IN_REVIEW, author=author, review_round=2)
    old_round = VersionSignoff(version=version, round=1, kind=SignoffKind.REVIEW, user=done)
    signoffs = [
        old_round,
        VersionSignoff(version=version, round=2, kind=SignoffKind.REVIEW, user=reviewer),
        VersionSignoff(
            version=version,
            round=2,
            kind=SignoffKind.REVIEW,
            user=done,
            completed_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        ),
        VersionSignoff(version=version, round=2, kind=SignoffKind.APPROVAL, user=approver),
    ]
    handoff = waiting_for(version, {"signoffs": signoffs})
    assert handoff.people == [reviewer] and handoff.what == "review this revision"

    signoffs[1].completed_at = datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)
    handoff = waiting_for(version, {"signoffs": signoffs})
    assert handoff.people == [approver] and "approve" in handoff.what

    version.status = VersionStatus.DRAFT
    assert waiting_for(version, {}).people == [author]
    version.status = VersionStatus.EFFECTIVE
    assert waiting_for(version, {}) is None


def test_an_open_training_assignment_waits_for_its_trainee():
    trainee = make_user("trainee")
    assignment = TrainingAssignment(
        user=trainee, status=AssignmentStatus.ASSIGNED, due_date=datetime.date(2026, 12, 21)
    )
    handoff = waiting_for(assignment)
    assert handoff.people == [trainee] and "by 21 Dec 2026" in handoff.what
    assignment.status = AssignmentStatus.COMPLETED
    assert waiting_for(assignment) is None
