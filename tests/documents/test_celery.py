"""A real Celery worker (docs/architecture.md rule 9): an approved version becomes effective when its
date comes, superseding its predecessor; the periodic-review sweep reminds and escalates once."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone

from documents import services
from documents.models import DocumentVersion, ReviewReminder, VersionStatus
from documents.tasks import release_due_versions, remind_periodic_reviews
from qms.models import Notification, Transition
from qms.versioning import save_versioned
from tests.conftest import make_user, wait_for
from tests.documents.conftest import SOP_TEXT, approve, release, submit

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_worker_releases_an_approved_version_on_its_date_and_supersedes_the_old_one(celery_worker):
    staff, manager = make_user("staff", "Quality Staff"), make_user("manager", "Quality Manager")
    today = timezone.localdate()
    document = services.document_create(actor=staff, title="Scheduled", doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                        effective_from=today)
    release(document.versions.get(), author=staff, approver=manager)
    new = services.version_create(document=document, actor=staff, change_summary="New step.",
                                  effective_from=today + datetime.timedelta(days=1))
    submit(new, actor=staff, approvers=[manager])
    approve(new, manager)

    # Not yet its day: the sweep leaves it alone.
    release_due_versions.delay()
    first = re.compile(r"documents\.release_due_versions\[[^\]]+\] succeeded in [\d.]+s: 0")
    wait_for(lambda: first.search(Path(celery_worker.log_path).read_text()), timeout=60, message="first sweep released nothing")
    assert DocumentVersion.objects.get(pk=new.pk).status == VersionStatus.APPROVED

    # The day comes (the date column is what the sweep reads).
    DocumentVersion.objects.filter(pk=new.pk).update(effective_from=today)
    release_due_versions.delay()
    release_due_versions.delay()  # a duplicate tick is harmless
    wait_for(lambda: DocumentVersion.objects.get(pk=new.pk).status == VersionStatus.EFFECTIVE, timeout=60,
             message="the worker made the version effective")
    old = DocumentVersion.objects.get(document=document, revision_index=1)
    assert old.status == VersionStatus.SUPERSEDED and old.superseded_by_id == new.pk
    release_step = Transition.objects.get(object_id=new.pk, action="make_effective")
    assert release_step.actor.username == "system" and "scheduled release" in release_step.reason
    wait_for(lambda: Notification.objects.filter(recipient=staff, subject__endswith="is effective").exists(), timeout=30,
             message="owner told on commit")


def test_worker_sends_periodic_review_reminders_once_and_escalates_overdue(celery_worker):
    staff, manager = make_user("staff", "Quality Staff"), make_user("manager", "Quality Manager")
    staff.manager = manager
    staff.save()
    today = timezone.localdate()
    documents = []
    for title, due in (("Due soon", today + datetime.timedelta(days=10)), ("Overdue", today - datetime.timedelta(days=3)),
                       ("Not yet", today + datetime.timedelta(days=200))):
        document = services.document_create(actor=staff, title=title, doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                            effective_from=today)
        release(document.versions.get(), author=staff, approver=manager)
        document.refresh_from_db()
        document.next_review_due = due
        save_versioned(document, actor=manager, reason="test: review date", fields=["next_review_due"])
        documents.append(document)

    remind_periodic_reviews.delay()
    remind_periodic_reviews.delay()
    wait_for(lambda: ReviewReminder.objects.count() == 2, timeout=60, message="two reminders")
    wait_for(lambda: Path(celery_worker.log_path).read_text().count("documents.remind_periodic_reviews") >= 4, timeout=60,
             message="both sweeps finished")
    due, overdue = ReviewReminder.objects.get(document=documents[0]), ReviewReminder.objects.get(document=documents[1])
    assert (due.kind, due.level, overdue.kind, overdue.level) == ("due", 0, "overdue", 1)
    assert Notification.objects.filter(recipient=staff, subject__startswith="Periodic review of").count() == 2
    assert Notification.objects.filter(recipient=manager, subject__contains="overdue by 3 days").count() == 1
    assert ReviewReminder.objects.count() == 2
