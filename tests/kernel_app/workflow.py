"""The Specimen's state machine: one plain step with a guard, one signed step with a side
effect on commit, one step that needs a reason."""

import time

from qms import roles as qms_roles
from qms.errors import IllegalTransition
from qms.workflow import Action, Workflow
from tests.kernel_app.models import SpecimenStatus

# Side effects of `approve`, appended on commit (tests read and clear it).
SIDE_EFFECTS: list[tuple[str, int]] = []


def needs_summary(ctx):
    if ctx.data.get("slow"):
        time.sleep(float(ctx.data["slow"]))  # widens the race window in the concurrency test
    if not ctx.record.summary.strip():
        raise IllegalTransition("Write a summary before submitting.")


def stamp_approval(ctx):
    ctx.set("approved_at", ctx.at)


def announce_approval(ctx):
    SIDE_EFFECTS.append(("approved", ctx.record.pk))


SPECIMEN_WORKFLOW = Workflow(
    states=SpecimenStatus,
    actions=[
        Action("submit", sources=["draft"], target="in_review", roles=qms_roles.QUALITY, guard=needs_summary),
        Action(
            "approve",
            sources=["in_review"],
            target="approved",
            roles={qms_roles.MANAGER},
            needs_signature=True,
            meaning="Approved",
            apply=stamp_approval,
            after_commit=announce_approval,
        ),
        Action("send_back", sources=["in_review"], target="draft", roles={qms_roles.MANAGER}, needs_reason=True),
        Action("withdraw", sources=["draft", "in_review"], target="withdrawn", roles=qms_roles.QUALITY, needs_reason=True),
    ],
)
