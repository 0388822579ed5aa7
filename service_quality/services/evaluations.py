"""Evaluations of one interaction against a scorecard revision in force: created, scored
criterion by criterion (a changed answer keeps its history with the reason), transitioned."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.references import allocate_reference
from service_quality import scoring
from service_quality.handoffs import announce_scoring
from service_quality.models import Evaluation, InteractionKind, Score, Scorecard
from service_quality.permissions import is_evaluator
from service_quality.services.common import _text, workflow_transition
from service_quality.workflow import EVALUATION_WORKFLOW, EvaluationStatus, ScorecardStatus


def _evaluator(user, field: str = "evaluator"):
    if user is None or not is_evaluator(user):
        raise ValidationFailed.on(
            field,
            "Choose an evaluator (a Quality Manager, or Quality Staff with the evaluator job function).",
        )
    return user


@transaction.atomic
def evaluation_create(
    *,
    actor,
    scorecard: Scorecard,
    complaint,
    communication=None,
    subject=None,
    evaluator=None,
    summary: str = "",
) -> Evaluation:
    """An evaluation of one interaction: a communication-log entry (the person evaluated is its
    author unless named) or the handling of a complaint as a whole (its assignee)."""
    if not is_evaluator(actor):
        raise NotAllowed("Only evaluators may start evaluations.")
    evaluator = _evaluator(evaluator or actor)
    if scorecard is None or scorecard.status != ScorecardStatus.IN_FORCE:
        raise ValidationFailed.on("scorecard", "Choose a scorecard in force.")
    if complaint is None:
        raise ValidationFailed.on("complaint", "Choose the complaint.")
    if communication is not None:
        if communication.complaint_id != complaint.pk:
            raise ValidationFailed.on("communication", "This entry belongs to another complaint.")
        kind = InteractionKind.COMMUNICATION
        subject = subject or communication.author
    else:
        kind = InteractionKind.HANDLING
        subject = subject or complaint.assignee
    if scorecard.applies_to != kind:
        raise ValidationFailed.on(
            "scorecard", f"This scorecard evaluates a {scorecard.get_applies_to_display().lower()}."
        )
    if subject is None:
        raise ValidationFailed.on("subject", "Say whose interaction is evaluated.")
    if not subject.is_active:
        raise ValidationFailed.on("subject", "The person evaluated is not an active user.")
    if subject.pk == evaluator.pk:
        raise ValidationFailed.on(
            "evaluator", "Nobody evaluates their own interaction; choose another evaluator."
        )
    evaluation = Evaluation(
        reference=allocate_reference("SQE"),
        scorecard=scorecard,
        kind=kind,
        complaint=complaint,
        communication=communication,
        subject=subject,
        evaluator=evaluator,
        summary=_text(summary, "summary"),
        created_by=actor,
    )
    set_history(evaluation, user=actor, reason="Created", action="create")
    evaluation.save()
    if evaluator.pk != actor.pk:
        announce_scoring(evaluation, why=f"started by {actor.full_name}")
    return evaluation


def evaluation_answers(evaluation: Evaluation, scores=None) -> list[scoring.CriterionAnswer]:
    criteria = list(evaluation.scorecard.criteria.all())
    if scores is None:
        scores = {s.criterion_id: s.answer for s in evaluation.scores.all()}
    return [
        scoring.CriterionAnswer(
            code=c.label,
            scale=c.scale,
            weight=c.weight,
            is_critical=c.is_critical,
            answer=scores.get(c.pk),
        )
        for c in criteria
    ]


def evaluation_compute(evaluation: Evaluation) -> scoring.ScoreResult:
    return scoring.score(evaluation_answers(evaluation), pass_mark=evaluation.scorecard.pass_mark)


@transaction.atomic
def evaluation_score(
    evaluation: Evaluation, *, actor, answers: dict, reason: str = ""
) -> list[Score]:
    """Record answers {criterion id: {"answer": ..., "comment": ...}} of a draft evaluation.
    A changed answer keeps its history with the reason."""
    locked = (
        Evaluation.objects.select_for_update().select_related("scorecard").get(pk=evaluation.pk)
    )
    if actor.pk != locked.evaluator_id or not is_evaluator(actor):
        raise NotAllowed("Only the evaluator of this evaluation may score it.")
    if locked.status != EvaluationStatus.DRAFT:
        raise IllegalTransition(
            f"{locked} is {locked.get_status_display().lower()}; its scores can no longer change."
        )
    if not isinstance(answers, dict) or not answers:
        raise ValidationFailed.on("answers", "Give at least one answer.")
    reason = _text(reason, "reason")
    criteria = {c.pk: c for c in locked.scorecard.criteria.all()}
    existing = {s.criterion_id: s for s in locked.scores.select_for_update()}
    errors, plan = {}, []
    for key, item in answers.items():
        try:
            criterion = criteria[int(key)]
        except (TypeError, ValueError, KeyError):
            errors[str(key)] = ["Not a criterion of this evaluation's scorecard."]
            continue
        if isinstance(item, str):
            item = {"answer": item}
        if not isinstance(item, dict):
            errors[str(key)] = ["Give an answer."]
            continue
        answer = item.get("answer")
        if not scoring.is_valid_answer(criterion.scale, answer):
            allowed = ", ".join(scoring.ANSWERS[criterion.scale])
            errors[str(key)] = [f"Answer one of: {allowed}."]
            continue
        comment = item.get("comment", "") or ""
        if not isinstance(comment, str) or len(comment) > 2000:
            errors[str(key)] = ["Keep the comment under 2,000 characters."]
            continue
        plan.append((criterion, answer, comment.strip()))
    if errors:
        raise ValidationFailed("Some answers are not valid.", field_errors=errors)
    saved = []
    for criterion, answer, comment in plan:
        score = existing.get(criterion.pk)
        if score is None:
            score = Score(
                evaluation=locked,
                criterion=criterion,
                answer=answer,
                comment=comment,
                scored_by=actor,
            )
            set_history(score, user=actor, reason=reason or "Scored", action="score")
            score.save()
        elif (score.answer, score.comment) != (answer, comment):
            if not reason:
                raise ValidationFailed.on("reason", "Say why an answer given before is changed.")
            score.answer, score.comment, score.scored_by = answer, comment, actor
            set_history(score, user=actor, reason=reason, action="rescore")
            score.save(update_fields=["answer", "comment", "scored_by"])
        saved.append(score)
    return saved


evaluation_transition = workflow_transition(EVALUATION_WORKFLOW)


def evaluators():
    User = get_user_model()
    return [
        u
        for u in User.objects.filter(is_active=True, groups__name__in=qms_roles.QUALITY).distinct()
        if is_evaluator(u)
    ]
