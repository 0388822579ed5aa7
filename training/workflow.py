"""The training assignment's state machine (docs/api.md "Workflows").

    assigned --complete (trainee, signed "Read and understood")--> completed
    assigned --waive (Quality Manager, reason, signed "Training waived")--> waived
    assigned --supersede (system: a newer revision became effective)--> superseded
"""

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed
from qms.workflow import Action, TransitionContext, Workflow
from training.models import AssignmentStatus, CompletionMethod

TRAINABLE_VERSION_STATUSES = ("effective", "approved")  # approved: a release-gated version
READ_MEANING = "Read and understood"
SESSION_MEANING = "Attended training session"
WAIVE_MEANING = "Training waived"


def _guard_complete(ctx: TransitionContext) -> None:
    assignment = ctx.record
    if ctx.actor.pk != assignment.user_id:
        raise NotAllowed("Only the trainee can sign their own training record.")
    status = type(assignment).objects.filter(pk=assignment.pk).values_list("document_version__status", flat=True).get()
    if status not in TRAINABLE_VERSION_STATUSES:
        raise IllegalTransition(f"{assignment.document_version} is {status}; train on the current revision instead.")


def _apply_complete(ctx: TransitionContext) -> None:
    session = ctx.data.get("session")
    ctx.set("completed_at", ctx.at)
    ctx.set("closed_at", ctx.at)
    ctx.set("completion_method", CompletionMethod.SESSION if session else CompletionMethod.READ)
    if session:
        ctx.set("session", session)


def _guard_waive(ctx: TransitionContext) -> None:
    if ctx.actor.pk == ctx.record.user_id:
        raise NotAllowed("A manager cannot waive their own training.")


def _apply_waive(ctx: TransitionContext) -> None:
    ctx.set("closed_at", ctx.at)
    ctx.set("completion_method", CompletionMethod.WAIVED)


def _apply_supersede(ctx: TransitionContext) -> None:
    ctx.set("closed_at", ctx.at)
    if ctx.data.get("superseded_by"):
        ctx.set("superseded_by", ctx.data["superseded_by"])


ASSIGNMENT_WORKFLOW = Workflow(
    states=AssignmentStatus,
    actions=[
        Action(
            "complete",
            sources=[AssignmentStatus.ASSIGNED],
            target=AssignmentStatus.COMPLETED,
            roles=qms_roles.EVERYONE,
            label="Sign: read and understood",
            needs_signature=True,
            meaning=READ_MEANING,
            meaning_for=lambda data: SESSION_MEANING if data.get("session") else READ_MEANING,
            guard=_guard_complete,
            apply=_apply_complete,
        ),
        Action(
            "waive",
            sources=[AssignmentStatus.ASSIGNED],
            target=AssignmentStatus.WAIVED,
            roles={qms_roles.MANAGER},
            label="Waive",
            needs_reason=True,
            needs_signature=True,
            meaning=WAIVE_MEANING,
            guard=_guard_waive,
            apply=_apply_waive,
            button_style="secondary",
        ),
        Action(
            "supersede",
            sources=[AssignmentStatus.ASSIGNED],
            target=AssignmentStatus.SUPERSEDED,
            roles=frozenset(),
            needs_reason=True,
            apply=_apply_supersede,
            system_may=True,
        ),
    ],
)
