"""Two generators for the same version at the same moment (two workers, a beat reconcile and
a release hook) create each assignment once: the advisory lock per version serialises them and
the unique (user, document_version) constraint is the final word."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from qms import roles as qms_roles
from tests.conftest import make_user
from tests.training.conftest import make_document, release_version
from training import services
from training.models import TrainingAssignment, TrainingRequirement


@pytest.mark.django_db(transaction=True)
def test_concurrent_generators_create_each_assignment_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff = make_user("staff", qms_roles.STAFF)
    manager = make_user("manager", qms_roles.MANAGER)
    people = [make_user(f"p{i}", qms_roles.EMPLOYEE) for i in range(12)]
    sop = make_document(staff, "Gowning")
    version = release_version(sop.versions.get(), author=staff, approver=manager, run_task=False)
    # The requirement row without its on-commit task: the threads below are the generators.
    TrainingRequirement.objects.create(role=Group.objects.get(name=qms_roles.EMPLOYEE), document=sop, created_by=staff)

    barrier = threading.Barrier(4)
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    calls = [
        lambda: services.assign_for_version(document_version_id=version.pk).created,
        lambda: services.assign_for_version(document_version_id=version.pk).created,
        services.assign_missing,
        lambda: services.assign_for_user(user=people[0]),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(results) == 12
    assert TrainingAssignment.objects.filter(document_version=version).count() == 12
