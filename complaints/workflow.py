"""The complaint workflow (docs/api.md "Workflows"), on the kernel's engine (qms.workflow).

    new -> acknowledged -> investigating <-> awaiting_customer
                               |
                               v
                           resolved -> closed
    reopen: resolved/closed -> investigating;  reject: new/acknowledged -> rejected

Buttons, the API's `transitions/` and services.complaint_transition all read this table.
The steps' side effects (SLA deadlines, the survey invitation, recurrence, the regulatory
decision at closure) are hooks named here and registered by complaints.services, which owns
those writes (qms/workflow.py: the workflow never imports the services).
"""

from django.db import models

from qms import roles
from qms.errors import ValidationFailed
from qms.workflow import Action, TransitionContext, Workflow


class ComplaintStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"


MANAGERS = frozenset({roles.MANAGER})


def data_text(ctx: TransitionContext, name: str, limit: int) -> str:
    value = ctx.data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed.on(name, "Must be text.")
    value = value.strip()
    if len(value) > limit:
        raise ValidationFailed.on(name, f"At most {limit} characters.")
    return value


def data_yes_no(ctx: TransitionContext, name: str):
    """A yes/no field sent with the step: True/False, "yes"/"no", "true"/"false", or absent."""
    value = ctx.data.get(name, None)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"yes", "true", "1", "on"}:
        return True
    if isinstance(value, str) and value.lower() in {"no", "false", "0", "off"}:
        return False
    raise ValidationFailed.on(name, "Must be yes or no.")


def guard_resolve(ctx: TransitionContext) -> None:
    resolution = data_text(ctx, "resolution", 10000) or ctx.record.resolution.strip()
    if not resolution:
        raise ValidationFailed.on("resolution", "Describe the resolution before resolving the complaint.")
    ctx.data["resolution"] = resolution


S = ComplaintStatus

COMPLAINT_WORKFLOW = Workflow(
    states=ComplaintStatus,
    actions=[
        Action("acknowledge", sources=[S.NEW], target=S.ACKNOWLEDGED, roles=roles.QUALITY, apply="acknowledge"),
        Action("investigate", sources=[S.ACKNOWLEDGED], target=S.INVESTIGATING, roles=roles.QUALITY,
               label="Start investigation"),
        Action("wait_for_customer", sources=[S.INVESTIGATING], target=S.AWAITING_CUSTOMER, roles=roles.QUALITY,
               label="Wait for customer", apply="wait_for_customer", button_style="secondary"),
        Action("resume", sources=[S.AWAITING_CUSTOMER], target=S.INVESTIGATING, roles=roles.QUALITY,
               label="Resume investigation", apply="resume"),
        Action("resolve", sources=[S.INVESTIGATING], target=S.RESOLVED, roles=roles.QUALITY,
               guard=guard_resolve, apply="resolve"),
        Action("close", sources=[S.RESOLVED], target=S.CLOSED, roles=MANAGERS, needs_signature=True,
               meaning="Approved for closure", guard="guard_close", apply="close"),
        Action("reopen", sources=[S.RESOLVED, S.CLOSED], target=S.INVESTIGATING, roles=roles.QUALITY,
               needs_reason=True, apply="reopen", button_style="secondary"),
        Action("reject", sources=[S.NEW, S.ACKNOWLEDGED], target=S.REJECTED, roles=roles.QUALITY,
               needs_reason=True, apply="reject", label="Reject (not a complaint)", button_style="danger"),
    ],
)
