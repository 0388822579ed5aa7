"""The service-quality state machines, on the kernel's engine (qms.workflow).

- A scorecard revision is a controlled record (ISO 9001 7.5.2/7.5.3): draft -> approved (signed
  by a Quality Manager) -> in force -> superseded when the next revision comes into force.
  Only a draft may change; a change of an approved or in-force scorecard is a new revision.
- An evaluation: draft -> submitted (by its evaluator, every criterion answered) -> disputed (by
  the person evaluated, with a reason) -> upheld / sent back for rescoring (a Quality Manager's
  signed decision).

Guards read the record's own fields and relations only, so this module imports no models.
"""

from django.db import models

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed
from qms.workflow import Action, Workflow

MANAGERS = frozenset({qms_roles.MANAGER})
QUALITY = qms_roles.QUALITY


class ScorecardStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    IN_FORCE = "in_force", "In force"
    SUPERSEDED = "superseded", "Superseded"


def _scorecard_has_criteria(ctx):
    if not ctx.record.criteria.exists():
        raise IllegalTransition("Add at least one criterion before approval.")


def _set_approved_at(ctx):
    ctx.set("approved_at", ctx.at)


def _put_in_force(ctx):
    """The previous revision in force is superseded in the same transaction (one in force per
    scorecard code, a partial unique constraint)."""
    from service_quality.services import scorecard_supersede_previous

    scorecard_supersede_previous(ctx.record, actor=ctx.actor, at=ctx.at)
    ctx.set("in_force_at", ctx.at)


def _set_superseded_at(ctx):
    ctx.set("superseded_at", ctx.at)


SCORECARD_WORKFLOW = Workflow(
    states=ScorecardStatus,
    actions=[
        Action(
            "approve",
            sources=[ScorecardStatus.DRAFT],
            target=ScorecardStatus.APPROVED,
            roles=MANAGERS,
            needs_signature=True,
            meaning="Approved",
            guard=_scorecard_has_criteria,
            apply=_set_approved_at,
        ),
        Action(
            "put_in_force",
            sources=[ScorecardStatus.APPROVED],
            target=ScorecardStatus.IN_FORCE,
            roles=MANAGERS,
            label="Put in force",
            apply=_put_in_force,
        ),
        Action(
            "supersede",
            sources=[ScorecardStatus.IN_FORCE],
            target=ScorecardStatus.SUPERSEDED,
            roles=MANAGERS,
            needs_reason=True,
            apply=_set_superseded_at,
            button_style="danger",
        ),
    ],
)


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    DISPUTED = "disputed", "Disputed"
    UPHELD = "upheld", "Upheld after dispute"


def _evaluator_only(ctx):
    if ctx.actor.pk != ctx.record.evaluator_id:
        raise NotAllowed("Only the evaluator of this evaluation may submit it.")


def _submit_guard(ctx):
    _evaluator_only(ctx)
    from service_quality.services import evaluation_compute

    result = evaluation_compute(ctx.record)
    if result.unanswered:
        raise IllegalTransition(
            f"Answer every criterion before submitting; still open: {', '.join(result.unanswered)}."
        )
    ctx.data["_result"] = result


def _submit_apply(ctx):
    result = ctx.data["_result"]
    ctx.set("score_percent", result.percent)
    ctx.set("is_critical_fail", result.is_critical_fail)
    ctx.set("is_passed", result.is_passed)
    ctx.set("submitted_at", ctx.at)
    from service_quality.models import EvaluationTask, TaskStatus

    # The sampled task (if any) is done when its evaluation is submitted.
    EvaluationTask.objects.filter(evaluation=ctx.record).update(
        status=TaskStatus.DONE, done_at=ctx.at
    )


def _subject_only(ctx):
    if ctx.actor.pk != ctx.record.subject_id:
        raise NotAllowed("Only the person evaluated may dispute an evaluation.")


def _decide_guard(ctx):
    # Separation of duties: the evaluator does not decide a dispute of their own evaluation.
    if ctx.actor.pk in (ctx.record.evaluator_id, ctx.record.subject_id):
        raise NotAllowed("The evaluator and the person evaluated cannot decide this dispute.")


def _dispute_apply(ctx):
    from service_quality.handoffs import announce_dispute

    announce_dispute(ctx.record, reason=ctx.reason)


def _rescore_apply(ctx):
    from service_quality.handoffs import announce_scoring

    ctx.set("score_percent", None)
    ctx.set("is_critical_fail", False)
    ctx.set("is_passed", None)
    ctx.set("submitted_at", None)
    announce_scoring(ctx.record, why="the dispute was accepted: rescore")


EVALUATION_WORKFLOW = Workflow(
    states=EvaluationStatus,
    actions=[
        Action(
            "submit",
            sources=[EvaluationStatus.DRAFT],
            target=EvaluationStatus.SUBMITTED,
            roles=QUALITY,
            guard=_submit_guard,
            apply=_submit_apply,
        ),
        Action(
            "dispute",
            sources=[EvaluationStatus.SUBMITTED],
            target=EvaluationStatus.DISPUTED,
            roles=qms_roles.EVERYONE,
            needs_reason=True,
            guard=_subject_only,
            apply=_dispute_apply,
            button_style="secondary",
        ),
        Action(
            "uphold",
            sources=[EvaluationStatus.DISPUTED],
            target=EvaluationStatus.UPHELD,
            roles=MANAGERS,
            label="Uphold the evaluation",
            needs_reason=True,
            needs_signature=True,
            meaning="Dispute decided: evaluation upheld",
            guard=_decide_guard,
        ),
        Action(
            "send_back",
            sources=[EvaluationStatus.DISPUTED],
            target=EvaluationStatus.DRAFT,
            roles=MANAGERS,
            label="Accept the dispute: rescore",
            needs_reason=True,
            needs_signature=True,
            meaning="Dispute decided: evaluation to be rescored",
            guard=_decide_guard,
            apply=_rescore_apply,
            button_style="danger",
        ),
    ],
)


class CoachingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    COMPLETED = "completed", "Completed"


def _coached_person_only(ctx):
    if ctx.actor.pk != ctx.record.person_id:
        raise NotAllowed("Only the person coached acknowledges the coaching.")


def _set_acknowledged_at(ctx):
    from service_quality.handoffs import announce_acknowledged

    ctx.set("acknowledged_at", ctx.at)
    announce_acknowledged(ctx.record)


def _coach_only(ctx):
    if ctx.actor.pk != ctx.record.coach_id and not qms_roles.has_role(ctx.actor, qms_roles.MANAGER):
        raise NotAllowed("The coach or a Quality Manager records the agreed action as done.")
    if ctx.actor.pk == ctx.record.person_id:
        raise NotAllowed("The person coached does not close their own coaching.")


def _set_completed_at(ctx):
    ctx.set("completed_at", ctx.at)


COACHING_WORKFLOW = Workflow(
    states=CoachingStatus,
    actions=[
        Action(
            "acknowledge",
            sources=[CoachingStatus.OPEN],
            target=CoachingStatus.ACKNOWLEDGED,
            roles=qms_roles.EVERYONE,
            needs_signature=True,
            meaning="Coaching acknowledged",
            guard=_coached_person_only,
            apply=_set_acknowledged_at,
        ),
        Action(
            "complete",
            sources=[CoachingStatus.ACKNOWLEDGED],
            target=CoachingStatus.COMPLETED,
            roles=QUALITY,
            label="Agreed action done",
            guard=_coach_only,
            apply=_set_completed_at,
        ),
    ],
)
