"""Who must act next on a training assignment (qms.handoffs, issue 18 item 3)."""

from qms.handoffs import Handoff, register
from training.models import AssignmentStatus


@register("training.trainingassignment")
def assignment_waiting_for(assignment, known: dict) -> Handoff | None:
    if assignment.status != AssignmentStatus.ASSIGNED:
        return None
    return Handoff(
        what=f"read the document and sign the training by {assignment.due_date:%d %b %Y}",
        people=[assignment.user],
    )
