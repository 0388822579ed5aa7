"""The regulatory decisions of a complaint (decision 0021): investigation required or not (and
on which basis), reportable or not, checked at closure."""

from __future__ import annotations

from complaints.models import (
    Complaint,
    NoInvestigationBasis,
)
from complaints.services.deadlines import _set
from complaints.workflow import ComplaintStatus
from qms.errors import ValidationFailed


def _check_failure_mode(failure_mode, category):
    """The failure mode is active and belongs to the category; the category it implies when none."""
    if failure_mode is None:
        return category
    if not failure_mode.is_active:
        raise ValidationFailed.on("failure_mode", "This failure mode is no longer in use; choose another.")
    if category is not None and failure_mode.category_id != category.pk:
        raise ValidationFailed.on("failure_mode", f"{failure_mode.name!r} is not a failure mode of {category.name}.")
    return category or failure_mode.category


TRIAGE_DECISION_FIELDS = ("investigation_required", "no_investigation_reason", "no_investigation_reference")
REPORTABILITY_FIELDS = ("is_reportable", "reportability_reason")


def complaint_by_reference(value) -> Complaint | None:
    """A complaint named by the user: the row, its id, or its reference (CMP-2026-00042)."""
    if value is None or value == "":
        return None
    if isinstance(value, Complaint):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        found = Complaint.objects.filter(pk=value).first()
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 12:
        found = Complaint.objects.filter(pk=int(value.strip())).first()
    elif isinstance(value, str) and len(value.strip()) <= 20:
        found = Complaint.objects.filter(reference__iexact=value.strip()).first()
    else:
        found = None
    if found is None:
        raise ValidationFailed.on("no_investigation_reference", f"No complaint {str(value)[:40]!r} is known.")
    return found


def apply_triage(complaint: Complaint, *, fields, actor, **decision) -> None:
    """Set the regulated triage fields and who decided, when they change. The basis of a "no
    investigation" decision is derived: the earlier complaint it names, else the written text."""
    if "no_investigation_reference" in decision:
        decision["no_investigation_reference"] = complaint_by_reference(decision["no_investigation_reference"])
    if any(name in decision for name in TRIAGE_DECISION_FIELDS):
        changed = False
        for name in TRIAGE_DECISION_FIELDS:
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if complaint.investigation_required is False:
            basis = (
                NoInvestigationBasis.EARLIER_INVESTIGATION
                if complaint.no_investigation_reference_id
                else NoInvestigationBasis.JUSTIFICATION
            )
        else:
            basis = ""
            if complaint.no_investigation_reference_id is not None:
                _set(complaint, fields, "no_investigation_reference", None)
        if complaint.no_investigation_basis != basis:
            _set(complaint, fields, "no_investigation_basis", basis)
        if changed:
            _set(complaint, fields, "investigation_decided_by", actor)
    if any(name in decision for name in REPORTABILITY_FIELDS):
        changed = False
        for name in REPORTABILITY_FIELDS:
            if name in decision and getattr(complaint, name) != decision[name]:
                _set(complaint, fields, name, decision[name])
                changed = True
        if changed:
            _set(complaint, fields, "reportability_decided_by", actor)


REPORTABLE_NEEDS_INVESTIGATION = (
    "A reportable complaint must be investigated (21 CFR 820.198(d)): set \"investigation required\" to yes."
)
NO_INVESTIGATION_NEEDS_BASIS = (
    "Name the earlier complaint that was investigated for the same problem, or give a written justification."
)


def triage_errors(
    complaint: Complaint,
    *,
    investigation_required,
    no_investigation_reason: str,
    no_investigation_reference,
    is_reportable,
    reportability_reason: str,
    closing: bool = False,
) -> dict[str, list[str]]:
    """The one rule of the regulatory decision (21 CFR 820.198(b), (d); QMSR 820.35), checked
    when it is recorded (create, edit, API) and again at closure, where it must be complete."""
    errors: dict[str, list[str]] = {}
    if investigation_required is None and closing:
        errors["investigation_required"] = ["Record whether an investigation was required."]
    if investigation_required is False:
        if is_reportable is True:
            errors["investigation_required"] = [REPORTABLE_NEEDS_INVESTIGATION]
        if no_investigation_reference is not None:
            earlier = no_investigation_reference
            if earlier.pk == complaint.pk:
                errors["no_investigation_reference"] = ["Name another complaint, not this one."]
            elif earlier.investigation_required is not True or earlier.status == ComplaintStatus.REJECTED:
                errors["no_investigation_reference"] = [f"{earlier.reference} was not investigated; name one that was."]
            elif complaint.received_at and earlier.received_at > complaint.received_at:
                errors["no_investigation_reference"] = [f"{earlier.reference} was received after this complaint."]
        elif not (no_investigation_reason or "").strip():
            errors["no_investigation_reason"] = [NO_INVESTIGATION_NEEDS_BASIS]
    if is_reportable is None and closing:
        errors["is_reportable"] = ["Record whether the complaint is reportable to a regulator."]
    elif is_reportable is not None and not (reportability_reason or "").strip():
        errors["reportability_reason"] = ["Give the reason for the reportability decision."]
    return errors


def check_triage(complaint: Complaint, *, closing: bool = False) -> None:
    """triage_errors() on the decision stored on the row; ValidationFailed when incomplete."""
    errors = triage_errors(
        complaint,
        investigation_required=complaint.investigation_required,
        no_investigation_reason=complaint.no_investigation_reason,
        no_investigation_reference=complaint.no_investigation_reference,
        is_reportable=complaint.is_reportable,
        reportability_reason=complaint.reportability_reason,
        closing=closing,
    )
    if errors:
        message = errors.get("investigation_required", ["The regulatory decision is incomplete."])[0]
        raise ValidationFailed(message, field_errors=errors)
