"""A real Celery worker (docs/architecture.md rule 9): a document version made effective produces
the right assignments exactly once, through documents' release hook and the task
"training.assign_for_version" (also queued by each approval); running the task again, twice at
once, creates nothing new."""

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from documents import services as document_services
from qms import roles as qms_roles
from tests.conftest import make_user, wait_for
from tests.training.conftest import approve_version, make_document, new_revision
from training import services
from training.models import AssignmentStatus, TrainingAssignment
from training.tasks import assign_for_version

pytestmark = [pytest.mark.celery]


@pytest.mark.django_db(transaction=True)
def test_a_version_made_effective_is_assigned_exactly_once_by_the_worker(celery_worker, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff = make_user("staff", qms_roles.STAFF)
    manager = make_user("manager", qms_roles.MANAGER)
    trainees = [make_user(f"op{i}", qms_roles.EMPLOYEE) for i in range(4)]
    make_user("bystander", qms_roles.AUDITOR)  # no requirement names Auditors
    sop = make_document(staff, "Line clearance")
    services.requirement_create(actor=staff, document=sop, role=Group.objects.get(name=qms_roles.EMPLOYEE), due_days=14)

    # Given revision 1 effective (released by a person; the hook queues the task on commit)
    rev1 = approve_version(sop.versions.get(), author=staff, approver=manager)
    document_services.version_transition(rev1, "make_effective", actor=staff)
    wait_for(lambda: TrainingAssignment.objects.filter(document_version=rev1).count() == 4, timeout=60, message="rev 1 assigned")

    # When revision 2 becomes effective
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    document_services.version_transition(rev2, "make_effective", actor=staff)

    # Then the worker assigns rev 2 to the four operators and supersedes their rev 1 training
    wait_for(lambda: TrainingAssignment.objects.filter(document_version=rev2).count() == 4, timeout=60, message="rev 2 assigned")
    wait_for(
        lambda: TrainingAssignment.objects.filter(document_version=rev1, status=AssignmentStatus.SUPERSEDED).count() == 4,
        timeout=30, message="rev 1 superseded",
    )
    assert {a.user for a in TrainingAssignment.objects.filter(document_version=rev2)} == set(trainees)

    # And running the task again, twice at once on two worker processes, changes nothing
    assign_for_version.delay(rev2.pk)
    assign_for_version.delay(rev2.pk)
    log = Path(celery_worker.log_path)

    def finished():
        return re.findall(r"training\.assign_for_version\[[^\]]+\] succeeded in [0-9.]+s: (\{.*\})", log.read_text())

    # Six runs: each revision's approval and its release queue the task on commit (the approval's
    # run finds an ungated version and does nothing, unless the release came first), then the
    # two repeats. Whichever run came first did the work, exactly once.
    wait_for(lambda: len(finished()) == 6, timeout=60, message="six task runs finished")
    results = [ast.literal_eval(r) for r in finished()]
    assert sum(r["created"] for r in results) == 8 and sum(r["superseded"] for r in results) == 4
    assert sorted(results, key=lambda r: (r["created"], r["superseded"])) == [{"created": 0, "superseded": 0}] * 4 + [
        {"created": 4, "superseded": 0},  # rev 1
        {"created": 4, "superseded": 4},  # rev 2
    ]
    assert TrainingAssignment.objects.filter(document_version=rev2).count() == 4
    assert TrainingAssignment.objects.count() == 8
    assert "Traceback" not in log.read_text()
