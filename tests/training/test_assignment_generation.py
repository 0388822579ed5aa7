"""Assignments are generated on each trigger (new effective version, a user joining a role,
a new requirement), exactly once, and open ones are superseded by a newer revision."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from qms import roles as qms_roles
from qms.models import Notification, Transition
from qms.services import user_set_roles
from tests.conftest import make_user
from tests.training.conftest import make_document, new_revision, release_version
from training import services
from training.models import AssignmentSource, AssignmentStatus, TrainingAssignment

pytestmark = pytest.mark.django_db


def test_new_requirement_assigns_the_effective_version_to_every_member(requirement, trainees, employee, sop):
    assigned = TrainingAssignment.objects.filter(document_version=sop.effective_version)
    assert {a.user for a in assigned} == {*trainees, employee}
    first = assigned.first()
    assert first.status == AssignmentStatus.ASSIGNED
    assert first.source == AssignmentSource.REQUIREMENT_ADDED
    assert first.due_date == timezone.localdate() + datetime.timedelta(days=30)
    assert first.history.first().history_user.username == "system"
    assert Notification.objects.filter(recipient=employee, subject__contains=sop.number).exists()


def test_generation_is_idempotent(requirement, sop, trainees):
    before = TrainingAssignment.objects.count()
    again = services.assign_for_version(document_version_id=sop.effective_version_id)
    assert again.created == 0 and again.superseded == 0
    assert services.assign_for_requirement(requirement=requirement) == 0
    assert services.assign_missing() == 0
    assert TrainingAssignment.objects.count() == before


def test_a_new_effective_version_supersedes_open_assignments_and_assigns_the_new_one(requirement, sop, staff, manager, trainees):
    done = TrainingAssignment.objects.get(user=trainees[0], document_version=sop.effective_version)
    services.assignment_transition(done, "complete", actor=trainees[0], password="Correct-Horse-9")
    rev1 = sop.effective_version

    rev2 = release_version(new_revision(sop, actor=staff), author=staff, approver=manager)

    old_open = TrainingAssignment.objects.get(user=trainees[1], document_version=rev1)
    new = TrainingAssignment.objects.get(user=trainees[1], document_version=rev2)
    assert old_open.status == AssignmentStatus.SUPERSEDED
    assert old_open.superseded_by == new
    assert old_open.closed_at is not None
    step = Transition.objects.get(object_id=old_open.pk, action="supersede")
    assert step.actor.username == "system" and "Revision 2" in step.reason
    assert old_open.history.first().history_action == "supersede"
    # The completed record on rev 1 stays what it was: proof of training on that revision.
    done.refresh_from_db()
    assert done.status == AssignmentStatus.COMPLETED
    # Everyone required (completed or not) owes rev 2.
    assert TrainingAssignment.objects.filter(document_version=rev2).count() == 4
    again = services.assign_for_version(document_version_id=rev2.pk)
    assert (again.created, again.superseded) == (0, 0)


def test_a_user_added_to_a_role_gets_the_effective_versions_at_once(requirement, sop, administrator):
    newcomer = make_user("newcomer")
    assert not TrainingAssignment.objects.filter(user=newcomer).exists()
    user_set_roles(newcomer, role_names=[qms_roles.EMPLOYEE], actor=administrator, reason="Joined production")
    assignment = TrainingAssignment.objects.get(user=newcomer)
    assert assignment.document_version == sop.effective_version
    assert assignment.source == AssignmentSource.ROLE_JOINED
    # Setting the same roles again creates nothing.
    user_set_roles(newcomer, role_names=[qms_roles.EMPLOYEE], actor=administrator, reason="Confirmed")
    assert TrainingAssignment.objects.filter(user=newcomer).count() == 1


def test_a_job_function_requirement_matches_case_insensitively(sop, staff):
    welder = make_user("welder", job_function="Welder ")
    other = make_user("painter", job_function="Painter")
    req = services.requirement_create(actor=staff, document=sop, job_function="welder", due_days=10)
    assert services.assign_for_requirement(requirement=req) == 1
    assert TrainingAssignment.objects.get(user=welder).due_date == timezone.localdate() + datetime.timedelta(days=10)
    assert not TrainingAssignment.objects.filter(user=other).exists()


def test_the_shortest_due_period_wins_when_two_requirements_apply(sop, staff, employee, employee_group):
    employee.job_function = "Assembler"
    employee.save()
    services.requirement_create(actor=staff, document=sop, role=employee_group, due_days=30)
    services.requirement_create(actor=staff, document=sop, job_function="assembler", due_days=7)
    services.assign_for_version(document_version_id=sop.effective_version_id)
    assert TrainingAssignment.objects.get(user=employee).due_date == timezone.localdate() + datetime.timedelta(days=7)


def test_a_minor_revision_does_not_retrain_major_only_requirements(sop, staff, manager, employee, employee_group):
    quality = Group.objects.get(name=qms_roles.STAFF)
    services.requirement_create(actor=staff, document=sop, role=employee_group, only_major_revisions=True)
    services.requirement_create(actor=staff, document=sop, role=quality, only_major_revisions=False)
    services.assign_for_version(document_version_id=sop.effective_version_id)
    mine = TrainingAssignment.objects.get(user=employee)
    services.assignment_transition(mine, "complete", actor=employee, password="Correct-Horse-9")

    rev2 = new_revision(sop, actor=staff, summary="Typo fixed")
    services.revision_impact_set(document_version=rev2, is_major=False, actor=staff, reason="Typo only")
    release_version(rev2, author=staff, approver=manager)

    assert not TrainingAssignment.objects.filter(user=employee, document_version=rev2).exists()
    assert TrainingAssignment.objects.filter(user=staff, document_version=rev2).exists()


def test_open_training_carries_over_a_minor_revision_with_its_due_date(sop, staff, manager, employee, employee_group):
    services.requirement_create(actor=staff, document=sop, role=employee_group, only_major_revisions=True, due_days=20)
    services.assign_for_version(document_version_id=sop.effective_version_id)
    old = TrainingAssignment.objects.get(user=employee)
    rev2 = new_revision(sop, actor=staff)
    services.revision_impact_set(document_version=rev2, is_major=False, actor=staff, reason="Layout only")
    release_version(rev2, author=staff, approver=manager)
    carried = TrainingAssignment.objects.get(user=employee, document_version=rev2)
    assert carried.source == AssignmentSource.CARRIED_OVER
    assert carried.due_date == old.due_date
    old.refresh_from_db()
    assert old.status == AssignmentStatus.SUPERSEDED


def test_inactive_users_and_documents_without_requirements_get_nothing(staff, manager, employee):
    employee.is_active = False
    employee.save()
    document = make_document(staff, "Unrequired")
    version = release_version(document.versions.get(), author=staff, approver=manager)
    assert services.assign_for_version(document_version_id=version.pk).created == 0


def test_draft_versions_are_never_assigned(requirement, sop, staff):
    draft = new_revision(sop, actor=staff)
    assert services.assign_for_version(document_version_id=draft.pk).created == 0
    assert not TrainingAssignment.objects.filter(document_version=draft).exists()


def test_first_revision_cannot_be_minor(staff):
    document = make_document(staff, "Fresh")
    with pytest.raises(services.ValidationFailed):
        services.revision_impact_set(document_version=document.versions.get(), is_major=False, actor=staff, reason="x")


def test_a_role_given_in_the_user_admin_assigns_training_at_once(requirement, sop, administrator, client_for, employee_group):
    newcomer = make_user("joiner")
    c = client_for(administrator)
    url = f"/admin/qms/user/{newcomer.pk}/change/"
    form = c.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list | tuple)}
    data.update(
        {
            "username": "joiner", "email": "joiner@example.com", "is_active": "on", "job_function": "Welder",
            "groups": [employee_group.pk], "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00",
        }
    )
    data.pop("password", None)
    data.pop("last_login", None)
    response = c.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assignment = TrainingAssignment.objects.get(user=newcomer)
    assert assignment.document_version == sop.effective_version
