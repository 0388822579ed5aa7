"""Release on the effective date (the beat sweep) and what follows an approval or a release in
other apps (training)."""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from documents.models import DocumentVersion, VersionStatus
from documents.services.notifications import notify_approved, notify_effective
from documents.workflow import VERSION_WORKFLOW
from qms.errors import IllegalTransition
from qms.services import system_user
from qms.workflow import transition

log = logging.getLogger(__name__)


def versions_due_for_release(today: datetime.date | None = None) -> list[int]:
    today = today or timezone.localdate()
    return list(
        DocumentVersion.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=today)
        .order_by("effective_from", "pk")
        .values_list("pk", flat=True)
    )


def versions_make_due_effective() -> int:
    """The beat sweep: release every approved version whose effective date has come, as the
    system user. Each release is its own transaction; a version taken by a concurrent sweep or
    by a person in between is skipped (the workflow refuses it), so running twice is harmless."""
    actor = system_user()
    released = 0
    for version_id in versions_due_for_release():
        with transaction.atomic():
            version = DocumentVersion.objects.select_for_update(skip_locked=True).filter(pk=version_id, status=VersionStatus.APPROVED).first()
            if version is None:
                continue
            try:
                transition(VERSION_WORKFLOW, version, "make_effective", actor=actor,
                           reason=f"Effective date {version.effective_from:%d %b %Y} reached (scheduled release).")
            except IllegalTransition as exc:
                log.info("version %s not released: %s", version_id, exc.message)
                continue
        released += 1
    return released


# ---------------------------------------------------------------- the hook for other apps


TRAINING_TASK = "training.assign_for_version"


def on_version_approved(version_id: int) -> None:
    """Runs after the transaction that approved a version has committed (the approve step's
    after_commit, i.e. transaction.on_commit). Training hooks in here too: the task named
    TRAINING_TASK assigns a release-gated version's trainees now, at approval (issue 16 item 6);
    for other versions it does nothing. If the broker is down, the approval stays committed and
    the beat sweep "training.prepare_gated_versions" assigns them."""
    if TRAINING_TASK in current_app.tasks:
        try:
            current_app.send_task(TRAINING_TASK, args=[version_id])
        except Exception:  # the broker's connection errors vary by transport
            log.warning("could not queue %s for version %s; the beat sweep will assign", TRAINING_TASK, version_id, exc_info=True)
    notify_approved(version_id)


def on_version_effective(version_id: int) -> None:
    """Runs after the transaction that made a version effective has committed.

    Training (ISO 13485 6.2) hooks in HERE: when the task named TRAINING_TASK is registered
    (training/tasks.py with `@shared_task(name="training.assign_for_version")` taking the
    version id), it is queued for every release, whether a person or the scheduled sweep
    released the version. Add any further reaction to a release as one more explicit line below.
    """
    if TRAINING_TASK in current_app.tasks:
        current_app.send_task(TRAINING_TASK, args=[version_id])
    notify_effective(version_id)
