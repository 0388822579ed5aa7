"""Training of a release-gated version is assigned at approval (issue 16 item 6): the approval's
commit queues the task "training.assign_for_version" (transaction.on_commit), which a real
worker runs at once, the beat sweep staying the fallback; and a gate with nobody required to
train is shown as such to the approver, never as "0 of 0 (100 %)"."""

import json
import re
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from documents import services as document_services
from documents.models import DocumentType, DocumentVersion
from qms import roles as qms_roles
from tests.conftest import PASSWORD, make_user, wait_for
from tests.training.conftest import approve_version, make_document, new_revision
from training import services
from training.models import AssignmentSource, TrainingAssignment

# ------------------------------------------------------------------ assigned on commit, by the worker


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_gated_version_is_assigned_by_the_worker_when_its_approval_commits(
    celery_worker, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    log = Path(celery_worker.log_path)
    staff = make_user("staff", qms_roles.STAFF)
    manager = make_user("manager", qms_roles.MANAGER)
    trainees = [make_user(f"op{i}", qms_roles.EMPLOYEE) for i in range(3)]
    sop = make_document(staff, "Line clearance")
    services.requirement_create(
        actor=staff, document=sop, role=Group.objects.get(name=qms_roles.EMPLOYEE), due_days=14
    )
    rev1 = approve_version(sop.versions.get(), author=staff, approver=manager)
    document_services.version_transition(rev1, "make_effective", actor=staff)
    wait_for(
        lambda: TrainingAssignment.objects.filter(document_version=rev1).count() == 3,
        timeout=60,
        message="rev 1 assigned",
    )

    # Given SOPs gated on training (setting the gate runs the sweep once; wait until it is done)
    services.release_gate_set(
        actor=manager,
        doc_type=DocumentType.SOP,
        required_percent=100,
        is_active=True,
        reason="Train before release",
    )
    wait_for(
        lambda: (
            "training.prepare_gated_versions" in log.read_text()
            and re.search(r"prepare_gated_versions\[[^\]]+\] succeeded", log.read_text())
        ),
        timeout=60,
        message="the gate's sweep ran",
    )

    # When revision 2 is approved
    rev2 = new_revision(sop, actor=staff)
    approved = approve_version(rev2, author=staff, approver=manager)
    assert approved.status == "approved"
    approved_at = DocumentVersion.objects.get(pk=rev2.pk).approved_at

    # Then the worker assigns its three trainees at once, before release, as release-gate training
    started = time.monotonic()
    wait_for(
        lambda: TrainingAssignment.objects.filter(document_version=rev2).count() == 3,
        timeout=30,
        message="rev 2 assigned at approval",
    )
    latency = (
        max(a.assigned_at for a in TrainingAssignment.objects.filter(document_version=rev2))
        - approved_at
    )
    print(
        f"assigned {latency.total_seconds():.2f} s after the approval (waited {time.monotonic() - started:.2f} s)"
    )
    assert latency.total_seconds() < 30
    assignments = TrainingAssignment.objects.filter(document_version=rev2)
    assert {a.user for a in assignments} == set(trainees)
    assert {a.source for a in assignments} == {AssignmentSource.RELEASE_GATE}
    assert DocumentVersion.objects.get(pk=rev2.pk).status == "approved"
    # by the task the approval queued, not by the beat sweep (which ran once, before rev 2 existed)
    assert len(re.findall(r"prepare_gated_versions\[[^\]]+\] succeeded", log.read_text())) == 1
    wait_for(
        lambda: (
            "{'created': 3, 'superseded': 0}" in log.read_text().split("prepare_gated_versions")[-1]
        ),
        timeout=30,
        message="the approval's task result",
    )

    # And the sweep, the fallback, finds nothing left to do
    assert services.release_gate_prepare() == 0
    assert "Traceback" not in log.read_text()


def _queued(queue: str) -> list[tuple[str, str]]:
    """(task name, args) of the messages waiting in a queue of the real broker (Redis)."""
    from qms.celery import app

    with app.connection_for_read() as connection:
        raw = connection.default_channel.client.lrange(queue, 0, -1)
    return [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in map(json.loads, raw)]


@pytest.mark.django_db
def test_the_task_is_queued_on_commit_of_the_approval_not_before(
    staff, manager, celery_queue, django_capture_on_commit_callbacks
):
    services.release_gate_set(
        actor=manager, doc_type=DocumentType.SOP, required_percent=50, is_active=True, reason="Gate"
    )
    sop = make_document(staff)
    version = sop.versions.get()
    document_services.version_transition(
        version, "submit", actor=staff, data={"approvers": [manager.pk], "reviewers": []}
    )
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            document_services.version_transition(
                version, "approve", actor=manager, password=PASSWORD, meaning="Approved"
            )
        # Inside the approval's transaction nothing is queued and nothing assigned ...
        assert _queued(celery_queue) == [] and not TrainingAssignment.objects.exists()
        # ... its commit queues the task, once, for this version
        for callback in callbacks:
            callback()
        assert _queued(celery_queue) == [("training.assign_for_version", f"[{version.pk}]")]
    finally:
        from qms.celery import app

        with app.connection_for_write() as connection:
            connection.default_channel.client.delete(celery_queue)


@pytest.mark.django_db
def test_the_task_on_a_version_that_is_not_gated_assigns_nothing_before_release(
    requirement, sop, staff, manager
):
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    result = services.assign_for_version(document_version_id=rev2.pk)
    assert (result.created, result.superseded) == (0, 0)
    assert not TrainingAssignment.objects.filter(document_version=rev2).exists()


@pytest.mark.django_db
def test_the_task_run_at_approval_and_the_sweep_create_each_assignment_once(
    requirement, sop, staff, manager, trainees, employee
):
    services.release_gate_set(
        actor=manager, doc_type=DocumentType.SOP, required_percent=50, is_active=True, reason="Gate"
    )
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    assert services.assign_for_version(document_version_id=rev2.pk).created == 4
    assert services.assign_for_version(document_version_id=rev2.pk).created == 0
    assert services.release_gate_prepare() == 0
    assert {a.source for a in TrainingAssignment.objects.filter(document_version=rev2)} == {
        AssignmentSource.RELEASE_GATE
    }


# ------------------------------------------------------------------ a gate with nobody to train


def _version_page(client, version):
    return client.get(
        reverse("documents:version", args=[version.document_id, version.pk])
    ).content.decode()


@pytest.fixture
def gated(manager):
    return services.release_gate_set(
        actor=manager,
        doc_type=DocumentType.SOP,
        required_percent=100,
        is_active=True,
        reason="Gate",
    )


def _in_review(staff, manager, document=None):
    document = document or make_document(staff, "Cleaning of the filling line")
    version = document.versions.filter(status="draft").get()
    document_services.version_transition(
        version, "submit", actor=staff, data={"approvers": [manager.pk], "reviewers": []}
    )
    return DocumentVersion.objects.get(pk=version.pk)


@pytest.mark.django_db
def test_a_gate_without_any_requirement_is_shown_as_nobody_to_train_to_the_approver(
    gated, staff, manager, client_for
):
    version = _in_review(staff, manager)
    page = _version_page(client_for(manager), version)
    assert "Nobody to train" in page
    assert (
        "Nobody is required to train on this revision: no active training requirement names this document."
        in page
    )
    assert "0 of 0" not in page and "(100%)" not in page
    status = services.release_gate_status(version)
    assert (status.has_trainees, status.required_count, status.has_requirement) == (False, 0, False)


@pytest.mark.django_db
def test_a_gate_whose_roles_have_nobody_says_so(gated, staff, manager, client_for):
    document = make_document(staff, "Autoclave loading")
    services.requirement_create(
        actor=staff, document=document, role=Group.objects.get(name=qms_roles.AUDITOR), due_days=7
    )
    version = _in_review(staff, manager, document)
    page = _version_page(client_for(manager), version)
    assert "the roles and job functions its requirements name have no active member" in page
    assert "0 of 0" not in page
    # the training page of the revision says the same
    training_page = (
        client_for(manager).get(reverse("training:version", args=[version.pk])).content.decode()
    )
    assert (
        "Nobody is required to train on this revision" in training_page
        and "0 of 0" not in training_page
    )


@pytest.mark.django_db
def test_a_gate_where_everyone_was_waived_says_so(
    requirement, sop, gated, staff, manager, trainees, employee, client_for
):
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    services.assign_for_version(document_version_id=rev2.pk)
    for assignment in TrainingAssignment.objects.filter(document_version=rev2):
        services.assignment_transition(
            assignment, "waive", actor=manager, reason="Line closed", password=PASSWORD
        )
    page = _version_page(client_for(manager), rev2)
    assert "everyone required (4) has been waived" in page and "0 of 0" not in page


@pytest.mark.django_db
def test_a_gate_with_trainees_still_shows_its_progress(
    requirement, sop, gated, staff, manager, client_for
):
    rev2 = approve_version(new_revision(sop, actor=staff), author=staff, approver=manager)
    services.assign_for_version(document_version_id=rev2.pk)
    page = _version_page(client_for(manager), rev2)
    assert "0 of 4 people trained (0%)" in page and "Nobody to train" not in page
