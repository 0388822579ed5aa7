"""Who must act next in service quality, and the hand-offs announced once through the kernel
(qms.handoffs, issue 18 item 3; decision record 0041):

- an evaluation task drawn (sampled, or the follow-up after coaching): its evaluator;
- an evaluation in draft: its evaluator (told when someone else started it, or a dispute sent
  it back for rescoring);
- a disputed evaluation: the Quality Managers other than its evaluator and the person;
- coaching waiting for acknowledgement: the person coached; acknowledged: the coach, who
  records the agreed action done.

Each state is announced in the transaction that enters it; the key carries the record's version
where a state can be entered again (a second dispute after a rescore is a new hand-off).
"""

from django.contrib.auth import get_user_model

from qms import roles as qms_roles
from qms.handoffs import Handoff, announce, register
from service_quality.models import CoachingRecord, Evaluation, EvaluationTask, TaskStatus
from service_quality.workflow import CoachingStatus, EvaluationStatus


def dispute_deciders(evaluation) -> list:
    """Quality Managers who may decide a dispute: not its evaluator, not the person evaluated."""
    return list(
        get_user_model()
        .objects.filter(groups__name=qms_roles.MANAGER, is_active=True)
        .exclude(pk__in=[evaluation.evaluator_id, evaluation.subject_id])
        .distinct()
        .order_by("pk")
    )


@register("service_quality.evaluation")
def evaluation_waiting_for(evaluation: Evaluation, known: dict) -> Handoff | None:
    if evaluation.status == EvaluationStatus.DRAFT:
        return Handoff(what="score every criterion and submit", people=[evaluation.evaluator])
    if evaluation.status == EvaluationStatus.DISPUTED:
        return Handoff(
            what="decide the dispute (signature)",
            group="a Quality Manager other than the evaluator",
        )
    return None


@register("service_quality.coachingrecord")
def coaching_waiting_for(record: CoachingRecord, known: dict) -> Handoff | None:
    if record.status == CoachingStatus.OPEN:
        return Handoff(
            what=f"read and acknowledge the coaching (signature) by {record.due_on:%d %b %Y}",
            people=[record.person],
        )
    if record.status == CoachingStatus.ACKNOWLEDGED:
        return Handoff(what="record the agreed action as done", people=[record.coach])
    task = known.get("follow_up_task")
    if task is not None and task.status != TaskStatus.DONE:
        return Handoff(
            what=f"evaluate the follow-up interaction by {task.due_on:%d %b %Y}",
            people=[task.evaluator],
        )
    return None


def announce_task(task: EvaluationTask, subject_name: str) -> bool:
    """In the draw's transaction: the evaluator has an interaction to evaluate by a date."""
    follow_up = task.coaching_id is not None
    what = "Follow-up evaluation after coaching" if follow_up else "Interaction to evaluate"
    return announce(
        task,
        state="follow_up_due" if follow_up else "evaluation_due",
        recipients=[task.evaluator],
        subject=f"{what}: {subject_name}, {task.complaint.reference}, by {task.due_on:%d %b %Y}",
        body=(
            "Open the task and evaluate the interaction on the scorecard in force. You never "
            "evaluate your own interactions; ask a Quality Manager to reassign it if needed."
        ),
    )


def announce_coaching(record: CoachingRecord) -> bool:
    return announce(
        record,
        state="awaiting_acknowledgement",
        recipients=[record.person],
        subject=f"Coaching on {record.evaluation.reference}: please read and acknowledge it",
        body=f"Agreed action, due {record.due_on:%d %b %Y}: {record.agreed_action[:500]}",
    )


def announce_acknowledged(record: CoachingRecord) -> bool:
    return announce(
        record,
        state="awaiting_completion",
        recipients=[record.coach],
        subject=f"{record.person.full_name} acknowledged the coaching on {record.evaluation.reference}",
        body="Record the agreed action as done when it is.",
    )


def announce_dispute(evaluation: Evaluation, *, reason: str) -> bool:
    return announce(
        evaluation,
        state=f"awaiting_dispute_decision:{evaluation.version}",
        recipients=dispute_deciders(evaluation),
        subject=f"{evaluation.reference} is disputed by {evaluation.subject.full_name}: decide it",
        body=f"Reason given: {reason[:1000]}\nUphold the evaluation or send it back for rescoring (signature).",
    )


def announce_scoring(evaluation: Evaluation, *, why: str) -> bool:
    return announce(
        evaluation,
        state=f"awaiting_scoring:{evaluation.version}",
        recipients=[evaluation.evaluator],
        subject=f"{evaluation.reference} waits for your scores ({why})",
        body=f"Score {evaluation.subject.full_name}'s interaction on {evaluation.complaint.reference} and submit.",
    )
