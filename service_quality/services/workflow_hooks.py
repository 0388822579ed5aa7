"""The steps of the service-quality workflows that write other records or announce hand-offs,
registered under the names the workflows give them (qms/workflow.py)."""

from __future__ import annotations

from qms.errors import IllegalTransition
from service_quality.handoffs import announce_acknowledged, announce_dispute, announce_scoring
from service_quality.models import EvaluationTask, TaskStatus
from service_quality.services.evaluations import evaluation_compute
from service_quality.services.scorecards import scorecard_supersede_previous
from service_quality.workflow import COACHING_WORKFLOW, EVALUATION_WORKFLOW, SCORECARD_WORKFLOW


@EVALUATION_WORKFLOW.hook("compute_score")
def hook_compute_score(ctx):
    result = evaluation_compute(ctx.record)
    if result.unanswered:
        raise IllegalTransition(
            f"Answer every criterion before submitting; still open: {', '.join(result.unanswered)}."
        )
    ctx.data["_result"] = result


@SCORECARD_WORKFLOW.hook("put_in_force")
def hook_put_in_force(ctx):
    """The previous revision in force is superseded in the same transaction (one in force per
    scorecard code, a partial unique constraint)."""
    scorecard_supersede_previous(ctx.record, actor=ctx.actor, at=ctx.at)
    ctx.set("in_force_at", ctx.at)


@EVALUATION_WORKFLOW.hook("submit")
def hook_submit(ctx):
    result = ctx.data["_result"]
    ctx.set("score_percent", result.percent)
    ctx.set("is_critical_fail", result.is_critical_fail)
    ctx.set("is_passed", result.is_passed)
    ctx.set("submitted_at", ctx.at)
    # The sampled task (if any) is done when its evaluation is submitted.
    EvaluationTask.objects.filter(evaluation=ctx.record).update(
        status=TaskStatus.DONE, done_at=ctx.at
    )


@EVALUATION_WORKFLOW.hook("dispute")
def hook_dispute(ctx):
    announce_dispute(ctx.record, reason=ctx.reason)


@EVALUATION_WORKFLOW.hook("rescore")
def hook_rescore(ctx):
    ctx.set("score_percent", None)
    ctx.set("is_critical_fail", False)
    ctx.set("is_passed", None)
    ctx.set("submitted_at", None)
    announce_scoring(ctx.record, why="the dispute was accepted: rescore")


@COACHING_WORKFLOW.hook("acknowledge")
def hook_acknowledge(ctx):
    ctx.set("acknowledged_at", ctx.at)
    announce_acknowledged(ctx.record)
