"""The service-quality state machines, on the kernel's engine (qms.workflow).

- A scorecard revision is a controlled record (ISO 9001 7.5.2/7.5.3): draft -> approved (signed
  by a Quality Manager) -> in force -> superseded when the next revision comes into force.
  Only a draft may change; a change of an approved or in-force scorecard is a new revision.
- An evaluation: draft -> submitted (by its evaluator, every criterion answered) -> disputed (by
  the person evaluated, with a reason) -> upheld / sent back for rescoring (a Quality Manager's
  signed decision).

Guards read the record's own fields and relations only, so this module imports no models; the
steps that write other records or announce hand-offs are hooks named here and registered by
service_quality.services (qms/workflow.py).
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
            apply="put_in_force",
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
    # The score is computed by service_quality.services (every criterion answered).
    EVALUATION_WORKFLOW.run_hook("compute_score", ctx)


def _subject_only(ctx):
    if ctx.actor.pk != ctx.record.subject_id:
        raise NotAllowed("Only the person evaluated may dispute an evaluation.")


def _decide_guard(ctx):
    # Separation of duties: the evaluator does not decide a dispute of their own evaluation.
    if ctx.actor.pk in (ctx.record.evaluator_id, ctx.record.subject_id):
        raise NotAllowed("The evaluator and the person evaluated cannot decide this dispute.")


EVALUATION_WORKFLOW = Workflow(
    hooks=("compute_score",),
    states=EvaluationStatus,
    actions=[
        Action(
            "submit",
            sources=[EvaluationStatus.DRAFT],
            target=EvaluationStatus.SUBMITTED,
            roles=QUALITY,
            guard=_submit_guard,
            apply="submit",
        ),
        Action(
            "dispute",
            sources=[EvaluationStatus.SUBMITTED],
            target=EvaluationStatus.DISPUTED,
            roles=qms_roles.EVERYONE,
            needs_reason=True,
            guard=_subject_only,
            apply="dispute",
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
            apply="rescore",
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
            apply="acknowledge",
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
