"""Coaching on an evaluated interaction: who may coach, the coaching record (with an optional
training assignment), its transitions."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from service_quality import handoffs
from service_quality.models import CoachingRecord, Evaluation
from service_quality.services.common import _int, _text, workflow_transition
from service_quality.workflow import COACHING_WORKFLOW, EvaluationStatus

FOLLOW_UP_DAYS = 14


def may_coach(actor, evaluation) -> bool:
    """The evaluator, the person's team lead, or a Quality Manager; never the person."""
    if qms_roles.is_read_only(actor) or actor.pk == evaluation.subject_id:
        return False
    return (
        actor.pk == evaluation.evaluator_id
        or evaluation.subject.manager_id == actor.pk
        or qms_roles.has_role(actor, qms_roles.MANAGER)
    )


@transaction.atomic
def coaching_create(
    evaluation,
    *,
    actor,
    moment: str,
    what_good_looks_like: str,
    agreed_action: str,
    due_on,
    follow_up_days=FOLLOW_UP_DAYS,
    training_document=None,
):
    """A coaching record on a submitted evaluation. `training_document`: a controlled document
    the person is asked to (re)train on by the agreed action's due date; the training app's
    service makes the assignment. The follow-up evaluation is drawn `follow_up_days` after the
    agreed action is due (sampling.follow_ups_draw)."""
    evaluation = Evaluation.objects.select_related("subject").get(pk=evaluation.pk)
    if not may_coach(actor, evaluation):
        raise NotAllowed(
            "The evaluator, the team lead or a Quality Manager coaches; nobody coaches themselves."
        )
    if evaluation.status not in (EvaluationStatus.SUBMITTED, EvaluationStatus.UPHELD):
        raise IllegalTransition("Coach on a submitted evaluation.")
    if not isinstance(due_on, date):
        raise ValidationFailed.on("due_on", "Enter the date the agreed action is due.")
    if due_on < timezone.localdate():
        raise ValidationFailed.on("due_on", "The due date cannot be in the past.")
    if due_on > timezone.localdate() + timedelta(days=365):
        raise ValidationFailed.on("due_on", "Set a due date within a year.")
    record = CoachingRecord(
        evaluation=evaluation,
        person=evaluation.subject,
        coach=actor,
        moment=_text(moment, "moment", required=True),
        what_good_looks_like=_text(what_good_looks_like, "what_good_looks_like", required=True),
        agreed_action=_text(agreed_action, "agreed_action", required=True),
        due_on=due_on,
        follow_up_due_on=due_on
        + timedelta(days=_int(follow_up_days, "follow_up_days", low=1, high=180)),
    )
    if training_document is not None:
        from training.services import assignment_request

        try:
            record.training_assignment = assignment_request(
                user=evaluation.subject,
                document=training_document,
                due_date=due_on,
                actor=actor,
                reason=f"Coaching on {evaluation.reference}: {record.agreed_action[:200]}",
            )
        except ValidationFailed as exc:
            messages = [m for ms in exc.field_errors.values() for m in ms] or [exc.message]
            raise ValidationFailed.on("training_document", " ".join(messages)) from None
    set_history(record, user=actor, reason="Coaching recorded", action="create")
    record.save()
    handoffs.announce_coaching(record)
    return record


coaching_transition = workflow_transition(COACHING_WORKFLOW)
