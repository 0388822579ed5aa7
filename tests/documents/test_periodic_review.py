"""Periodic review (ISO 9001 7.5.2): reminders when due, escalation when overdue (idempotent),
confirmation resets the date, or a new revision is started."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from documents import services
from documents.models import PeriodicReview, ReviewReminder, VersionStatus
from qms.models import Notification
from qms.versioning import save_versioned
from tests.conftest import PASSWORD
from tests.documents.conftest import release

pytestmark = pytest.mark.django_db


def set_due(document, days_from_today, actor):
    document.refresh_from_db()
    document.next_review_due = timezone.localdate() + datetime.timedelta(days=days_from_today)
    save_versioned(document, actor=actor, reason="test", fields=["next_review_due"])
    return document


def test_release_sets_the_review_date_one_period_after_the_effective_date(effective_document):
    version = effective_document.effective_version
    assert effective_document.next_review_due == version.effective_from + relativedelta(years=2)


def test_sweep_reminds_once_then_escalates_per_30_days(effective_document, staff, manager):
    staff.manager = manager
    staff.save()
    set_due(effective_document, 20, manager)
    assert services.review_reminders_sweep() == 1
    assert services.review_reminders_sweep() == 0
    set_due(effective_document, -1, manager)
    assert services.review_reminders_sweep() == 1
    assert services.review_reminders_sweep(today=timezone.localdate() + datetime.timedelta(days=20)) == 0
    assert services.review_reminders_sweep(today=timezone.localdate() + datetime.timedelta(days=31)) == 1
    levels = list(ReviewReminder.objects.order_by("id").values_list("kind", "level"))
    assert levels == [("due", 0), ("overdue", 1), ("overdue", 2)]
    assert Notification.objects.filter(recipient=manager, subject__contains="overdue").count() == 2


def test_documents_far_from_review_or_without_effective_version_are_left_alone(make_document, effective_document, manager):
    make_document("Never released")
    set_due(effective_document, 120, manager)
    assert services.review_reminders_sweep() == 0


def test_confirm_no_change_resets_the_date_and_a_new_reminder_cycle_starts(effective_document, staff, manager):
    set_due(effective_document, -5, manager)
    services.review_reminders_sweep()
    review = services.periodic_review_confirm(effective_document, actor=staff, password=PASSWORD, comment="Still matches the line.")
    effective_document.refresh_from_db()
    today = timezone.localdate()
    assert effective_document.next_review_due == today + relativedelta(years=2) == review.next_review_due
    assert review.due_on == today - datetime.timedelta(days=5)
    assert services.review_reminders_sweep() == 0


def test_start_revision_from_review_copies_the_effective_text(effective_document, staff, manager):
    version = services.periodic_review_start_revision(effective_document, actor=staff, comment="Step 2.2 outdated.")
    assert version.status == VersionStatus.DRAFT and version.revision == "2"
    assert version.content_text == effective_document.effective_version.content_text
    assert version.change_summary == "Step 2.2 outdated."
    assert PeriodicReview.objects.get().outcome == "revision_started"
    version.effective_from = timezone.localdate()
    services.version_update(version, actor=staff, reason="Edited.", expected_version=version.version, effective_from=timezone.localdate())
    release(version, author=staff, approver=manager)
    effective_document.refresh_from_db()
    assert effective_document.effective_version_id == version.pk


def test_changing_the_review_period_moves_the_next_review_date(effective_document, manager):
    start = effective_document.effective_version.effective_from
    services.document_update(effective_document, actor=manager, reason="Yearly review from now on",
                             expected_version=effective_document.version, review_period_months=12)
    effective_document.refresh_from_db()
    assert effective_document.next_review_due == start + relativedelta(years=1)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime.date(2028, 2, 29), 24, datetime.date(2030, 2, 28)),  # no 29 Feb in 2030: the last day of February
        (datetime.date(2028, 2, 29), 48, datetime.date(2032, 2, 29)),
        (datetime.date(2026, 8, 31), 6, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 12, 31), 12, datetime.date(2027, 12, 31)),
    ],
)
def test_the_review_date_of_a_month_end_is_the_same_month_end_or_the_last_day(start, months, expected):
    from documents.workflow import next_review_date

    assert next_review_date(start, months) == expected
