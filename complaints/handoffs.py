"""Who must act next on a complaint (qms.handoffs, issue 18 item 3)."""

from complaints.workflow import ComplaintStatus
from qms.handoffs import Handoff, register

_STEP = {
    ComplaintStatus.NEW: "acknowledge the complaint",
    ComplaintStatus.ACKNOWLEDGED: "start the investigation",
    ComplaintStatus.INVESTIGATING: "record the investigation and resolve",
    ComplaintStatus.RESOLVED: "close the complaint",
}


@register("complaints.complaint")
def complaint_waiting_for(complaint, known: dict) -> Handoff | None:
    if complaint.status == ComplaintStatus.AWAITING_CUSTOMER:
        return Handoff(what="reply with the information asked for", group="the customer")
    step = _STEP.get(complaint.status)
    if step is None:
        return None
    if complaint.assignee_id is None:
        return Handoff(what=f"assign someone to {step}", group="a Quality Manager")
    return Handoff(what=step, people=[complaint.assignee])
