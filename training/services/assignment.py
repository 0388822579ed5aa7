"""Who must train on a version (requirements by role or job function, revision impact), and the
assignments generated for them."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from documents.models import DocumentVersion
from qms.errors import ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.services import system_user
from qms.workflow import transition
from training.models import (
    AssignmentSource,
    AssignmentStatus,
    ReleaseGate,
    RevisionImpact,
    TrainingAssignment,
    TrainingRequirement,
)
from training.services.common import (
    ADVISORY_NAMESPACE,
    APPROVED,
    EFFECTIVE,
    RETIRED_VERSION_STATUSES,
    release_gate_for,
)
from training.services.requirements import _require_quality
from training.workflow import ASSIGNMENT_WORKFLOW

# ---------------------------------------------------------------- who must train


def version_is_major(version) -> bool:
    """Documents carry no major/minor flag; the training side records it (RevisionImpact).
    The first revision is always major; without a decision a revision is major (safe side)."""
    if version.revision_index <= 1:
        return True
    is_major = RevisionImpact.objects.filter(document_version_id=version.pk).values_list("is_major", flat=True).first()
    return True if is_major is None else is_major


def _normal_function(value: str) -> str:
    return (value or "").strip().casefold()


def required_users(version, *, user_ids=None) -> dict[int, int]:
    """{user id: due days} for everyone who must train on `version` (active users only); the
    shortest due period wins when several requirements apply. Three queries."""
    requirements = TrainingRequirement.objects.filter(document_id=version.document_id, is_active=True)
    if not version_is_major(version):
        requirements = requirements.filter(only_major_revisions=False)
    by_role: dict[int, int] = {}
    by_function: dict[str, int] = {}
    for role_id, job_function, due_days in requirements.values_list("role_id", "job_function", "due_days"):
        if role_id:
            by_role[role_id] = min(due_days, by_role.get(role_id, due_days))
        else:
            key = _normal_function(job_function)
            by_function[key] = min(due_days, by_function.get(key, due_days))
    User = get_user_model()
    due: dict[int, int] = {}
    if by_role:
        members = User.groups.through.objects.filter(group_id__in=by_role, user__is_active=True)
        if user_ids is not None:
            members = members.filter(user_id__in=user_ids)
        for user_id, group_id in members.values_list("user_id", "group_id"):
            due[user_id] = min(by_role[group_id], due.get(user_id, by_role[group_id]))
    if by_function:
        people = User.objects.filter(is_active=True).annotate(jf=Lower(Trim("job_function"))).filter(jf__in=list(by_function))
        if user_ids is not None:
            people = people.filter(pk__in=user_ids)
        for user_id, jf in people.values_list("pk", "jf"):
            due[user_id] = min(by_function[jf], due.get(user_id, by_function[jf]))
    return due


# ---------------------------------------------------------------- generation


@dataclass
class AssignResult:
    created: int = 0
    superseded: int = 0


def _lock_version(version_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, version_id])


def _ensure_assignments(version_id: int, *, source: str, user_ids=None, reason: str = "") -> AssignResult:
    """Create the missing assignments on one version and, when it is effective, close the open
    assignments on its retired revisions as superseded. Safe to run any number of times."""
    result = AssignResult()
    actor = system_user()
    today = timezone.localdate()
    with transaction.atomic():
        _lock_version(version_id)
        version = DocumentVersion.objects.select_related("document").get(pk=version_id)
        if version.status == APPROVED:
            if not release_gate_for(version):
                return result  # only a release-gated version is trained on before it is effective
        elif version.status != EFFECTIVE:
            return result
        due_days = required_users(version, user_ids=user_ids)
        stale = []
        if version.status == EFFECTIVE:
            stale_qs = TrainingAssignment.objects.filter(
                document_id=version.document_id,
                status=AssignmentStatus.ASSIGNED,
                document_version__status__in=RETIRED_VERSION_STATUSES,
            ).exclude(document_version_id=version.pk)
            if user_ids is not None:
                stale_qs = stale_qs.filter(user_id__in=user_ids)
            stale = list(stale_qs.order_by("pk"))
        existing = dict(TrainingAssignment.objects.filter(document_version=version).values_list("user_id", "pk"))
        # Open training on a retired revision carries over to the new one (keeping its due date
        # when the person is not otherwise required to retrain, e.g. after a minor revision).
        carried_due = {a.user_id: a.due_date for a in stale}
        created = []
        for user_id in sorted((set(due_days) | set(carried_due)) - set(existing)):
            if user_id in due_days:
                due_date = today + datetime.timedelta(days=due_days[user_id])
                this_source = source
            else:
                due_date = carried_due[user_id]
                this_source = AssignmentSource.CARRIED_OVER
            assignment = TrainingAssignment(
                user_id=user_id,
                document_version=version,
                document_id=version.document_id,
                source=this_source,
                due_date=due_date,
            )
            set_history(assignment, user=actor, reason=reason or AssignmentSource(this_source).label, action="assign")
            assignment.save()
            existing[user_id] = assignment.pk
            created.append(assignment)
        for old in stale:
            transition(
                ASSIGNMENT_WORKFLOW,
                old,
                "supersede",
                actor=actor,
                reason=f"Revision {version.revision} of {version.document.number} became effective.",
                data={"superseded_by": TrainingAssignment(pk=existing[old.user_id])},
            )
        result.created = len(created)
        result.superseded = len(stale)
        if created:
            _notify_assigned(version, created)
    return result


def _notify_assigned(version, assignments) -> None:
    User = get_user_model()
    users = {u.pk: u for u in User.objects.filter(pk__in=[a.user_id for a in assignments])}
    by_due = defaultdict(list)
    for a in assignments:
        by_due[a.due_date].append(users[a.user_id])
    for due_date, people in by_due.items():
        notify(
            people,
            subject=f"Training assigned: {version.document.number} rev {version.revision}",
            body=f"Read {version.document} (revision {version.revision}) and sign it as read and understood by {due_date:%d %b %Y}.",
            url="/training/my/",
        )


def assign_for_version(*, document_version_id: int) -> AssignResult:
    """The task "training.assign_for_version", queued on commit when a version is approved
    (a release-gated version's trainees are assigned then, issue 16 item 6; the beat sweep
    prepare_gated_versions is the fallback) and when it becomes effective."""
    status = DocumentVersion.objects.filter(pk=document_version_id).values_list("status", flat=True).first()
    source = AssignmentSource.RELEASE_GATE if status == APPROVED else AssignmentSource.VERSION_EFFECTIVE
    return _ensure_assignments(document_version_id, source=source)


def _trainable_versions(document_ids=None):
    """Effective versions, and approved versions of release-gated types, of documents that have
    an active requirement."""
    gated_types = ReleaseGate.objects.filter(is_active=True).values("doc_type")
    has_requirement = Exists(TrainingRequirement.objects.filter(document_id=OuterRef("document_id"), is_active=True))
    versions = DocumentVersion.objects.filter(has_requirement).filter(
        Q(status=EFFECTIVE) | Q(status=APPROVED, document__doc_type__in=gated_types)
    )
    if document_ids is not None:
        versions = versions.filter(document_id__in=document_ids)
    return list(versions.order_by("pk").values_list("pk", flat=True))


def assign_for_user(*, user, actor=None) -> int:
    """A user joined a role or changed job function: assignments for the effective versions
    they now need, at once. Registered into qms.extensions.roles_changed (TrainingConfig.ready),
    which qms.services.user_set_roles and the user admin call."""
    created = 0
    reason = f"{user.full_name} joined a role or job function that requires this training"
    reason += f" (changed by {actor.full_name})." if actor is not None else "."
    for version_id in _trainable_versions():
        created += _ensure_assignments(version_id, source=AssignmentSource.ROLE_JOINED, user_ids=[user.pk], reason=reason).created
    return created


def assign_for_requirement(*, requirement) -> int:
    created = 0
    for version_id in _trainable_versions([requirement.document_id]):
        created += _ensure_assignments(
            version_id, source=AssignmentSource.REQUIREMENT_ADDED, reason=f"New requirement: {requirement}"
        ).created
    return created


@transaction.atomic
def assignment_request(*, user, document, due_date, actor, reason: str) -> TrainingAssignment:
    """One person asked to train on a controlled document's effective revision, outside the
    requirements (ISO 9001 7.2 c: action taken to acquire the competence), e.g. from a coaching
    record. Open training on that revision is reused; a revision already signed is refused,
    since one person trains once on one revision (the unique constraint)."""
    _require_quality(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on("reason", "Say why this training is asked for.")
    if user is None or not user.is_active:
        raise ValidationFailed.on("user", "Choose an active user.")
    if not isinstance(due_date, datetime.date) or due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "Give a due date that is not in the past.")
    version_id = getattr(document, "effective_version_id", None)
    if version_id is None:
        raise ValidationFailed.on("document", f"{document} has no effective revision to train on.")
    _lock_version(version_id)
    version = DocumentVersion.objects.select_related("document").get(pk=version_id)
    existing = TrainingAssignment.objects.select_for_update().filter(user=user, document_version=version).first()
    if existing is not None:
        if existing.status == AssignmentStatus.ASSIGNED:
            return existing
        when = existing.completed_at or existing.closed_at
        raise ValidationFailed.on(
            "document",
            f"{user.full_name} signed {version.document.number} rev {version.revision} already "
            f"({existing.get_status_display().lower()}{f' {when:%d %b %Y}' if when else ''}); "
            "choose another document, or ask for it again after its next revision.",
        )
    assignment = TrainingAssignment(
        user=user,
        document_version=version,
        document_id=version.document_id,
        source=AssignmentSource.REQUESTED,
        due_date=due_date,
    )
    set_history(assignment, user=actor, reason=reason, action="assign")
    assignment.save()
    _notify_assigned(version, [assignment])
    return assignment


def assign_missing() -> int:
    """Hourly reconcile: whatever path changed roles or job functions, nobody misses training;
    and open training on a withdrawn (obsolete) revision is closed."""
    created = 0
    for version_id in _trainable_versions():
        created += _ensure_assignments(version_id, source=AssignmentSource.RECONCILED).created
    close_withdrawn()
    return created


def close_withdrawn() -> int:
    """Open assignments on revisions made obsolete without a successor are closed as
    superseded: nobody can read or follow a withdrawn procedure."""
    actor = system_user()
    closed = 0
    for assignment in TrainingAssignment.objects.filter(
        status=AssignmentStatus.ASSIGNED, document_version__status="obsolete"
    ).select_related("document_version__document").order_by("pk"):
        version = assignment.document_version
        transition(ASSIGNMENT_WORKFLOW, assignment, "supersede", actor=actor,
                   reason=f"{version.document.number} revision {version.revision} was withdrawn (obsolete).")
        closed += 1
    return closed
