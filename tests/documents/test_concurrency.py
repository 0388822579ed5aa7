"""Races between two real database connections (threads, transactional_db): the database keeps
exactly one effective version per document, and exactly one approver completes approval."""

import contextlib
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from documents import services
from documents.models import Document, DocumentVersion, VersionStatus
from qms.errors import IllegalTransition
from qms.models import Transition
from tests.conftest import make_user
from tests.documents.conftest import SOP_TEXT, approve, release, submit

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(index):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", target(index))
        except Exception as exc:  # collected and asserted by the test
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


@pytest.fixture
def people():
    return make_user("staff", "Quality Staff"), make_user("manager", "Quality Manager"), make_user("manager2", "Quality Manager")


def test_two_concurrent_make_effective_calls_leave_one_effective_version(people):
    staff, manager, _ = people
    document = services.document_create(actor=staff, title="Race", doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                        effective_from=timezone.localdate())
    release(document.versions.get(), author=staff, approver=manager)
    revision_2 = services.version_create(document=document, actor=staff, change_summary="Step 3.",
                                         effective_from=document.versions.get(revision_index=1).effective_from)
    submit(revision_2, actor=staff, approvers=[manager])
    approve(revision_2, manager)

    def make_effective(index):
        mine = DocumentVersion.objects.get(pk=revision_2.pk)  # each request loads its own copy
        actor = staff if index == 0 else manager
        return services.version_transition(mine, "make_effective", actor=actor, reason=f"thread {index}").status

    results = run_in_threads(2, make_effective)
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, IllegalTransition) and "it is effective" in error.message
    statuses = dict(DocumentVersion.objects.filter(document=document).values_list("revision_index", "status"))
    assert statuses == {1: VersionStatus.SUPERSEDED, 2: VersionStatus.EFFECTIVE}
    assert Document.objects.get(pk=document.pk).effective_version_id == revision_2.pk
    assert Transition.objects.filter(object_id=revision_2.pk, action="make_effective").count() == 1


def test_two_connections_inserting_effective_versions_one_is_refused_by_the_index(people):
    """The guarantee does not rest on the application: two connections that each write an
    effective version directly collide on the partial unique index."""
    staff, _, _ = people
    document = services.document_create(actor=staff, title="Index", doc_type="sop", owner=staff, content_text=SOP_TEXT)
    day = document.versions.get().created_at.date()
    both_inserted = threading.Barrier(2, timeout=5)

    def insert(index):
        with transaction.atomic():
            DocumentVersion.objects.create(document=document, revision_index=10 + index, revision=str(10 + index),
                                           status="effective", effective_from=day, author=staff)
            # The other insert blocks on our uncommitted row (that is the point), so the wait
            # times out and we commit.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inserted.wait()
        return index

    results = run_in_threads(2, insert)
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, IntegrityError) and "documents_one_effective_version" in str(error)
    assert DocumentVersion.objects.filter(document=document, status="effective").count() == 1


def test_two_approvers_signing_at_once_complete_the_approval_once(people):
    staff, manager, manager2 = people
    document = services.document_create(actor=staff, title="Two approvers", doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                        effective_from=timezone.localdate())
    version = document.versions.get()
    submit(version, actor=staff, approvers=[manager, manager2])

    def sign(index):
        mine = DocumentVersion.objects.get(pk=version.pk)
        return approve(mine, (manager, manager2)[index]).status

    results = run_in_threads(2, sign)
    assert all(kind == "ok" for kind, _ in results), results
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    actions = sorted(Transition.objects.filter(object_id=version.pk).exclude(action="submit").values_list("action", flat=True))
    assert actions == ["approve", "sign_approval"]


def test_release_and_obsolete_of_the_previous_version_at_once_do_not_deadlock(people):
    staff, manager, _ = people
    document = services.document_create(actor=staff, title="Both", doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                        effective_from=timezone.localdate())
    first = document.versions.get()
    release(first, author=staff, approver=manager)
    second = services.version_create(document=document, actor=staff, change_summary="Step 3.", effective_from=first.effective_from)
    submit(second, actor=staff, approvers=[manager])
    approve(second, manager)

    def act(index):
        if index == 0:
            return services.version_transition(DocumentVersion.objects.get(pk=second.pk), "make_effective", actor=staff).status
        return services.version_transition(DocumentVersion.objects.get(pk=first.pk), "obsolete", actor=manager,
                                           reason="Withdrawn", password="Correct-Horse-9").status

    results = run_in_threads(2, act)
    assert all(kind == "ok" or isinstance(value, IllegalTransition) for kind, value in results), results
    statuses = list(DocumentVersion.objects.filter(document=document).values_list("status", flat=True))
    assert statuses.count("effective") <= 1
    assert DocumentVersion.objects.get(pk=second.pk).status == VersionStatus.EFFECTIVE
    assert Document.objects.get(pk=document.pk).effective_version_id == second.pk
