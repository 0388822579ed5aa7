"""CAPAs: create (by hand or from a complaint), update, transition, reopen notices."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from capa.models import (
    Capa,
    RootCauseAnalysis,
    Source,
    risk_level_for,
)
from capa.services.common import (
    MAX_TEXT,
    _quality_user,
    _require_writer,
    _score,
    _text,
    quality_managers,
)
from capa.workflow import (
    CAPA_WORKFLOW,
)
from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.notifications import notify
from qms.references import allocate_reference
from qms.versioning import check_version, save_versioned
from qms.workflow import transition

# --- CAPA ------------------------------------------------------------------------------------


@transaction.atomic
def capa_create(
    *,
    actor,
    title: str,
    problem_statement: str,
    owner,
    due_date: date,
    kind: str = "corrective",
    source: str = Source.OTHER,
    severity: int = 3,
    occurrence: int = 3,
    containment_action: str = "",
    containment_by=None,
    containment_at=None,
    complaints=(),
) -> Capa:
    _require_writer(actor)
    severity, occurrence = _score(severity, "severity"), _score(occurrence, "occurrence")
    if due_date is None:
        raise ValidationFailed.on("due_date", "Set a due date.")
    if due_date < timezone.localdate():
        raise ValidationFailed.on("due_date", "The due date cannot be in the past.")
    complaints = list(complaints)
    if complaints and source != Source.COMPLAINT:
        raise ValidationFailed.on("source", "A CAPA linked to complaints has the source 'Complaint'.")
    capa = Capa(
        reference=allocate_reference("CAPA", width=4),
        title=_text(title, "title", required=True, max_length=200),
        kind=kind,
        source=source,
        problem_statement=_text(problem_statement, "problem_statement", required=True),
        severity=severity,
        occurrence=occurrence,
        risk_level=risk_level_for(severity, occurrence),
        containment_action=_text(containment_action, "containment_action"),
        containment_by=containment_by,
        containment_at=containment_at,
        owner=_quality_user(owner, "owner"),
        due_date=due_date,
        created_by=actor,
    )
    _check_containment(capa)
    set_history(capa, user=actor, reason="Created", action="create")
    capa.save()
    if complaints:
        capa.complaints.add(*complaints)
    RootCauseAnalysis.objects.create(capa=capa)
    if capa.owner_id != actor.pk:
        notify([capa.owner], subject=f"{capa.reference} is yours: {capa.title}", url=capa.get_absolute_url())
    return capa


def _check_containment(capa) -> None:
    if capa.containment_at and capa.containment_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed.on("containment_at", "Containment cannot be in the future.")
    if (capa.containment_by or capa.containment_at) and not capa.containment_action:
        raise ValidationFailed.on("containment_action", "Say what was done to contain the problem.")


def capa_create_from_complaint(*, complaint, actor, owner=None, due_date: date | None = None, **fields) -> Capa:
    """One click from a complaint: a corrective CAPA with the complaint linked and its facts
    carried over. The caller may override any field (the CAPA form pre-fills with these)."""
    initial = capa_initial_from_complaint(complaint)
    initial.update(fields)
    return capa_create(
        actor=actor,
        owner=owner or actor,
        due_date=due_date or timezone.localdate() + timedelta(days=60),
        complaints=[complaint],
        **initial,
    )


def capa_initial_from_complaint(complaint) -> dict:
    severity = {"low": 2, "medium": 3, "high": 4, "critical": 5}.get(getattr(complaint, "severity", ""), 3)
    product = f" ({complaint.product})" if getattr(complaint, "product_id", None) else ""
    return {
        "title": f"{complaint.title}{product}"[:200],
        "kind": "corrective",
        "source": Source.COMPLAINT,
        "problem_statement": f"Raised from complaint {complaint.reference}.\n\n{complaint.description}".strip()[:MAX_TEXT],
        "severity": severity,
        "occurrence": 3 if getattr(complaint, "is_recurring", False) else 2,
    }


EDITABLE_CAPA_FIELDS = (
    "title",
    "kind",
    "source",
    "problem_statement",
    "severity",
    "occurrence",
    "containment_action",
    "containment_by",
    "containment_at",
    "owner",
    "due_date",
)


@transaction.atomic
def capa_update(capa: Capa, *, actor, reason: str, version, complaints=None, **changes) -> Capa:
    _require_writer(actor)
    reason = _text(reason, "reason", required=True, max_length=4000)
    locked = Capa.objects.select_for_update().get(pk=capa.pk)
    check_version(locked, version)
    if not locked.is_open:
        raise IllegalTransition(f"{locked} is {locked.get_status_display().lower()}; it can no longer be edited.")
    unknown = set(changes) - set(EDITABLE_CAPA_FIELDS)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in changes.items():
        if name in ("title",):
            value = _text(value, name, required=True, max_length=200)
        elif name in ("problem_statement",):
            value = _text(value, name, required=True)
        elif name == "containment_action":
            value = _text(value, name)
        elif name in ("severity", "occurrence"):
            value = _score(value, name)
        elif name == "owner":
            value = _quality_user(value, "owner")
        elif name == "due_date" and value is None:
            raise ValidationFailed.on("due_date", "Set a due date.")
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if {"severity", "occurrence"} & set(changed):
        locked.risk_level = risk_level_for(locked.severity, locked.occurrence)
        changed.append("risk_level")
    _check_containment(locked)
    if complaints is not None and locked.source != Source.COMPLAINT and complaints:
        raise ValidationFailed.on("source", "A CAPA linked to complaints has the source 'Complaint'.")
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    if complaints is not None and {c.pk for c in complaints} != set(locked.complaints.values_list("pk", flat=True)):
        set_history(locked, user=actor, reason=reason, action="link_complaints")
        locked.complaints.set(complaints)
        if not changed:
            save_versioned(locked, actor=actor, reason=reason, fields=[], action="link_complaints")
    return locked


def capa_transition(capa: Capa, action: str, *, actor, reason: str = "", password=None, meaning=None, data=None) -> Capa:
    return transition(CAPA_WORKFLOW, capa, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data)


def notify_reopened(capa: Capa, *, reason: str) -> None:
    """In the reopening transaction (outbox): tell the owner and the Quality Managers."""
    notify(
        [capa.owner, *quality_managers()],
        subject=f"{capa.reference} reopened: the effectiveness check failed",
        body=reason,
        url=capa.get_absolute_url(),
    )
