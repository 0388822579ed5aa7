"""The approval matrix (issue 16): who reviews and approves each document type."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from documents.models import SIGNOFF_ROLES, STRICT_RULE, ApprovalRule, DocumentType
from qms import roles as qms_roles
from qms.errors import NotAllowed, StaleVersion, ValidationFailed
from qms.history import set_history
from qms.reasons import person_reason
from qms.versioning import check_version, save_versioned

RULE_FIELDS = tuple(STRICT_RULE)
MAX_JOB_FUNCTIONS = 50


def _clean_roles(value, field: str) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed.on(field, "Give a list of role names.")
    roles = list(dict.fromkeys(item.strip() for item in value))
    unknown = [role for role in roles if role not in SIGNOFF_ROLES]
    if unknown:
        raise ValidationFailed.on(field, f"Only {' and '.join(SIGNOFF_ROLES)} take part in review and approval; not {', '.join(unknown)[:200]}.")
    if not roles:
        raise ValidationFailed.on(field, "Name at least one role.")
    return [role for role in SIGNOFF_ROLES if role in roles]


def _clean_job_functions(value, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed.on(field, "Give a list of job functions.")
    names = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if len(names) > MAX_JOB_FUNCTIONS:
        raise ValidationFailed.on(field, f"At most {MAX_JOB_FUNCTIONS} job functions.")
    if any(len(name) > 120 or any(ord(ch) < 32 for ch in name) for name in names):
        raise ValidationFailed.on(field, "A job function is at most 120 characters of plain text.")
    return names


def _clean_rule(changes: dict) -> dict:
    cleaned = {
        "reviewer_roles": _clean_roles(changes["reviewer_roles"], "reviewer_roles"),
        "reviewer_job_functions": _clean_job_functions(changes["reviewer_job_functions"], "reviewer_job_functions"),
        "approver_roles": _clean_roles(changes["approver_roles"], "approver_roles"),
        "approver_job_functions": _clean_job_functions(changes["approver_job_functions"], "approver_job_functions"),
    }
    required = changes["required_approver_role"] or ""
    if not isinstance(required, str) or (required.strip() and required.strip() not in SIGNOFF_ROLES):
        raise ValidationFailed.on("required_approver_role", f"Choose {' or '.join(SIGNOFF_ROLES)}, or leave it empty.")
    cleaned["required_approver_role"] = required = required.strip()
    if required and required not in cleaned["approver_roles"]:
        raise ValidationFailed.on("required_approver_role", f"A {required} can only be required when the approvers may be {required}s.")
    return cleaned


def approval_rule_set(*, actor, doc_type: str, reason: str, expected_version, **changes) -> ApprovalRule:
    """Set the approval matrix row of a document type (a site policy, issue 16): Quality
    Managers only, with their reason, in the history. The first change of a type that still
    runs on the strict default creates its row (from version 1, the default's version)."""
    if not qms_roles.may_act(actor, qms_roles.MANAGER):
        raise NotAllowed("Only a Quality Manager sets the approval matrix.")
    if doc_type not in DocumentType.values:
        raise ValidationFailed.on("doc_type", "Choose a document type.")
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "This field cannot be changed here.")
    try:
        with transaction.atomic():
            locked = ApprovalRule.objects.select_for_update().filter(doc_type=doc_type).first()
            current = locked or ApprovalRule(doc_type=doc_type, **STRICT_RULE)
            check_version(current, expected_version)
            reason = person_reason(reason, ask="Say why the approval matrix changes.")
            cleaned = _clean_rule({name: changes.get(name, getattr(current, name)) for name in RULE_FIELDS})
            changed = [name for name, value in cleaned.items() if getattr(current, name) != value]
            for name in changed:
                setattr(current, name, cleaned[name])
            if locked is None:
                set_history(current, user=actor, reason=reason, action="create")
                current.save()
            elif changed:
                save_versioned(current, actor=actor, reason=reason, fields=changed, action="update")
    except IntegrityError:  # another manager created the row first
        raise StaleVersion("Someone else set this approval rule after you opened it; reload and apply your change again.") from None
    return current
