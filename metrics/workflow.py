"""The state machines of metrics, on the kernel's engine (qms.workflow).

- KPI alert: open -> cleared, taken only by the evaluation sweep (the system user) when the
  KPI has recovered; nobody clears an alert by hand, the KPI does.
- Management review: planned -> held (the input pack is compiled and frozen) -> closed (every
  action of the review done or cancelled).
- Review item (decision or action): open -> done / cancelled.
"""

from django.db import models

from qms import roles as qms_roles
from qms.errors import IllegalTransition, ValidationFailed
from qms.workflow import Action, TransitionContext, Workflow

MANAGERS = frozenset({qms_roles.MANAGER})


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared"


class ReviewStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    HELD = "held", "Held"
    CLOSED = "closed", "Closed"


class ReviewItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


def _clear(ctx: TransitionContext) -> None:
    ctx.set("cleared_at", ctx.at)
    ctx.set("cleared_value", ctx.data.get("value"))


ALERT_WORKFLOW = Workflow(
    states=AlertStatus,
    actions=[
        Action("clear", sources=["open"], target="cleared", roles=frozenset(), system_may=True, apply=_clear,
               label="Clear (the KPI recovered)"),
    ],
)


def _all_actions_finished(ctx: TransitionContext) -> None:
    open_actions = ctx.record.items.filter(kind="action", status=ReviewItemStatus.OPEN).count()
    if open_actions:
        raise IllegalTransition(f"{open_actions} action(s) of this review are still open: complete or cancel them first.")


def _set_closed(ctx: TransitionContext) -> None:
    ctx.set("closed_at", ctx.at)


REVIEW_WORKFLOW = Workflow(
    states=ReviewStatus,
    actions=[
        Action("hold", sources=["planned"], target="held", roles=MANAGERS, apply="freeze_pack",  # metrics.services
               label="Hold the meeting (freeze the input pack)"),
        Action("close", sources=["held"], target="closed", roles=MANAGERS, guard=_all_actions_finished,
               apply=_set_closed, label="Close the review"),
    ],
)


def _complete(ctx: TransitionContext) -> None:
    note = ctx.data.get("completion_note") or ctx.reason
    if not isinstance(note, str) or not note.strip():
        raise ValidationFailed.on("reason", "Say what was done (the evidence of completion).")
    ctx.set("completion_note", note.strip()[:4000])
    ctx.set("completed_at", ctx.at)


REVIEW_ITEM_WORKFLOW = Workflow(
    states=ReviewItemStatus,
    actions=[
        Action("complete", sources=["open"], target="done", roles=qms_roles.QUALITY, apply=_complete,
               label="Mark done"),
        Action("cancel", sources=["open"], target="cancelled", roles=MANAGERS, needs_reason=True,
               button_style="secondary", label="Cancel"),
    ],
)
