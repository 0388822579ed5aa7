"""What happens once a step of VERSION_WORKFLOW has committed, registered under the names the
workflow gives them (qms/workflow.py)."""

from __future__ import annotations

from documents.services.notifications import notify_rejected, notify_submitted
from documents.services.release import on_version_approved, on_version_effective
from documents.workflow import VERSION_WORKFLOW
from qms.workflow import TransitionContext


@VERSION_WORKFLOW.hook("after_submit")
def hook_after_submit(ctx: TransitionContext) -> None:
    notify_submitted(ctx.record.pk)


@VERSION_WORKFLOW.hook("after_approve")
def hook_after_approve(ctx: TransitionContext) -> None:
    on_version_approved(ctx.record.pk)


@VERSION_WORKFLOW.hook("after_reject")
def hook_after_reject(ctx: TransitionContext) -> None:
    notify_rejected(ctx.record.pk, reason=ctx.reason, by=ctx.actor.full_name)


@VERSION_WORKFLOW.hook("after_make_effective")
def hook_after_make_effective(ctx: TransitionContext) -> None:
    on_version_effective(ctx.record.pk)
