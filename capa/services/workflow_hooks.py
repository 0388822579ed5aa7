"""The steps of the CAPA workflows that need these services, registered under the names the
workflows give them (qms/workflow.py)."""

from __future__ import annotations

from capa.services.actions import action_progress
from capa.services.checks import check_set_due_date
from capa.services.common import default_check_due_date
from capa.workflow import (
    ACTION_WORKFLOW,
    CAPA_WORKFLOW,
    CheckResult,
)
from qms.errors import IllegalTransition

# --- Workflow hooks ------------------------------------------------------------------------
# The steps of the CAPA workflows that need these services, registered under the names the
# workflows give them (qms/workflow.py).


@CAPA_WORKFLOW.hook("start_observation")
def hook_start_observation(ctx):
    """Implementation is complete: the effectiveness observation window starts now, and checks
    without a due date get the default (90 days after implementation)."""
    ctx.set("implemented_at", ctx.at)
    due = default_check_due_date(ctx.at)
    for check in ctx.record.checks.filter(result=CheckResult.PENDING, due_date__isnull=True):
        check_set_due_date(check=check, due_date=due, actor=ctx.actor)


@ACTION_WORKFLOW.hook("check_progress")
def hook_check_progress(ctx):
    progress = action_progress(ctx.record)  # document revised / role trained, where the system can see it
    if progress is not None and not progress.is_done:
        raise IllegalTransition(progress.message)
