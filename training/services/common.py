"""What the training services share: the log, version states, notice days, the release gate of
a version's type, and queuing the follow-up tasks after commit."""

from __future__ import annotations

import logging

from django.conf import settings

from qms.notifications import queued_task
from training.models import (
    ReleaseGate,
)

log = logging.getLogger("training.services")  # the name it had before the package (issue 21)

EFFECTIVE = "effective"
APPROVED = "approved"
RETIRED_VERSION_STATUSES = ("superseded", "obsolete")
ADVISORY_NAMESPACE = 6_000_001  # pg_advisory_xact_lock(namespace, version id)

# Sweep timing (days): remind the trainee this many days before the due date; escalate to the
# manager the day after, and to the manager's manager (or the Quality Managers) two weeks on.
REMINDER_DAYS_BEFORE = getattr(settings, "QMS_TRAINING_REMINDER_DAYS", 7)
ESCALATION_DAYS_AFTER = {1: 1, 2: 14}


def release_gate_for(version) -> ReleaseGate | None:
    return ReleaseGate.objects.filter(doc_type=version.document.doc_type, is_active=True).first()


def _enqueue(task_name: str, *args) -> None:
    """Queue a follow-up task after commit. If the broker is down the change stays committed
    and the beat reconcile (training.assign_missing, prepare_gated_versions) does the work."""
    task = queued_task(
        {
            "training.assign_for_requirement": "training.tasks.assign_for_requirement",
            "training.prepare_gated_versions": "training.tasks.prepare_gated_versions",
        }[task_name]
    )
    try:
        task.delay(*args)
    except Exception:  # the broker's connection errors vary by transport
        log.warning("could not queue %s%r; the hourly reconcile will do it", task_name, args, exc_info=True)
