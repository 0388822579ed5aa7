"""Two years of demo document revisions and their training (issue 18 item 9), built through the
services with the clock set back; the calendar and people are the kernel's (qms/demo_history.py).
Here, in training, because it writes documents and the training on them."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import Group
from django.utils import timezone

from qms import roles as qms_roles
from qms.demo import DEMO_PASSWORD
from qms.demo_history import DAYS, QUIET_DAYS, WORK_INSTRUCTIONS, _clock, _people, _progress


def seed_documents(log=print) -> None:
    """Two work instructions revised every few months since two years ago, each revision
    trained by the employees (signed, some late): the training compliance trend."""
    from documents import services as documents
    from documents.models import Document, DocumentType
    from training import services as training
    from training.models import AssignmentStatus, TrainingAssignment

    if Document.objects.filter(title=WORK_INSTRUCTIONS[0][0]).exists():
        log("  document history present already")
        return
    staff, staff2, manager = _people()
    if manager is None:
        return
    rng = random.Random(9)  # noqa: S311 (demo data, reproducible)
    end = timezone.now() - datetime.timedelta(days=QUIET_DAYS + 30)  # read before the clock is set back
    start = (timezone.now() - datetime.timedelta(days=DAYS - 5)).replace(hour=9, minute=0, second=0, microsecond=0)
    revisions = signed = 0
    with _clock(start) as clock:
        employees = Group.objects.get(name=qms_roles.EMPLOYEE)
        for title, purpose in WORK_INSTRUCTIONS:
            at = start + datetime.timedelta(days=rng.randrange(20))
            clock.move_to(at)
            document = documents.document_create(actor=staff, title=title, doc_type=DocumentType.WORK_INSTRUCTION, owner=staff,
                                                 review_period_months=12, content_text=f"1. Purpose\n{purpose}\n", effective_from=at.date())
            version = document.versions.get()
            requirement = None
            rev = 1
            while at < end:
                documents.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]}, reason="Ready for review.")
                clock.move_to(at + datetime.timedelta(days=2))
                documents.version_transition(version, "review", actor=staff2, reason="Checked against current practice.")
                documents.version_transition(version, "approve", actor=manager, password=DEMO_PASSWORD, meaning="Approved", reason="Approved for use.")
                documents.version_transition(version, "make_effective", actor=staff, reason="Released on approval.")
                revisions += 1
                if requirement is None:
                    requirement = training.requirement_create(actor=staff, document=document, role=employees, due_days=14,
                                                              reason="Demo history: every employee is trained on it")
                    training.assign_for_requirement(requirement=requirement)
                else:
                    training.assign_for_version(document_version_id=version.pk)
                p = _progress(at, start)
                for assignment in TrainingAssignment.objects.filter(document_version=version, status=AssignmentStatus.ASSIGNED).select_related("user"):
                    if not assignment.user.has_usable_password():
                        continue
                    clock.move_to(at + datetime.timedelta(days=2 + rng.uniform(1, 6) + rng.uniform(0, 30) * (1 - p)))
                    training.assignment_transition(assignment, "complete", actor=assignment.user, password=DEMO_PASSWORD)
                    signed += 1
                at += datetime.timedelta(days=rng.randrange(110, 170))
                clock.move_to(at)
                rev += 1
                version = documents.version_create(document=document, actor=staff, effective_from=at.date(),
                                                   content_text=f"1. Purpose\n{purpose}\n\n2. Steps (revision {rev})\nAs trained.\n",
                                                   change_summary=f"Revision {rev}: steps clarified after the last internal audit.")
            documents.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]}, reason="Ready for review.")
    log(f"  {revisions} revisions of {len(WORK_INSTRUCTIONS)} work instructions over two years, {signed} training records signed")
