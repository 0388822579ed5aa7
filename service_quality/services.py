"""Every write of the service-quality app (docs/style.md "services"): scorecards and their revisions,
sections and criteria, evaluations and their scores, transitions. Keyword-only, atomic, with
the history user and reason set explicitly; they raise the kernel's DomainErrors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.input import service_text
from qms.references import allocate_reference
from qms.versioning import check_version, save_versioned
from qms.workflow import transition
from service_quality import scoring
from service_quality.handoffs import announce_acknowledged, announce_dispute, announce_scoring
from service_quality.models import (
    AutoRule,
    Criterion,
    Evaluation,
    EvaluationTask,
    InteractionKind,
    Scale,
    Score,
    Scorecard,
    ScorecardSection,
    TaskStatus,
)
from service_quality.permissions import is_evaluator, may_manage_scorecards
from service_quality.workflow import (
    COACHING_WORKFLOW,
    EVALUATION_WORKFLOW,
    SCORECARD_WORKFLOW,
    EvaluationStatus,
    ScorecardStatus,
)

MAX_TEXT = 4000
MAX_PHRASES = 50


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    return service_text(value, field, required=required, max_length=max_length)


def _int(value, field: str, *, low: int, high: int) -> int:
    message = f"Enter a whole number from {low} to {high}."
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValidationFailed.on(field, message)
    if not low <= number <= high:
        raise ValidationFailed.on(field, message)
    return number


def _choice(value, field: str, choices) -> str:
    valid = {c for c, _ in choices}
    if value not in valid:
        raise ValidationFailed.on(
            field, f"Choose one of: {', '.join(sorted(v for v in valid if v)) or 'none'}."
        )
    return value


def _require_scorecard_manager(actor) -> None:
    if not may_manage_scorecards(actor):
        raise NotAllowed("Only Quality Managers may change scorecards.")


def _lock_draft(scorecard: Scorecard) -> Scorecard:
    locked = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if locked.status != ScorecardStatus.DRAFT:
        raise IllegalTransition(
            f"{locked} is {locked.get_status_display().lower()}; change it by making a new revision."
        )
    return locked


# --- scorecards --------------------------------------------------------------------------------


@transaction.atomic
def scorecard_create(
    *,
    actor,
    name: str,
    description: str = "",
    applies_to: str = InteractionKind.COMMUNICATION,
    pass_mark=80,
) -> Scorecard:
    _require_scorecard_manager(actor)
    scorecard = Scorecard(
        code=allocate_reference("SQC", width=3, per_year=False),
        revision=1,
        name=_text(name, "name", required=True, max_length=200),
        description=_text(description, "description"),
        applies_to=_choice(applies_to, "applies_to", InteractionKind.choices),
        pass_mark=_int(pass_mark, "pass_mark", low=0, high=100),
        created_by=actor,
    )
    set_history(scorecard, user=actor, reason="Created", action="create")
    scorecard.save()
    return scorecard


SCORECARD_EDITABLE = ("name", "description", "applies_to", "pass_mark", "change_summary")


@transaction.atomic
def scorecard_update(scorecard: Scorecard, *, actor, reason: str, version, **changes) -> Scorecard:
    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    locked = _lock_draft(scorecard)
    check_version(locked, version)
    unknown = set(changes) - set(SCORECARD_EDITABLE)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in changes.items():
        if name == "name":
            value = _text(value, name, required=True, max_length=200)
        elif name in ("description", "change_summary"):
            value = _text(value, name)
        elif name == "applies_to":
            value = _choice(value, name, InteractionKind.choices)
        elif name == "pass_mark":
            value = _int(value, name, low=0, high=100)
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked


@transaction.atomic
def section_add(scorecard: Scorecard, *, actor, title: str, position=None) -> ScorecardSection:
    _require_scorecard_manager(actor)
    locked = _lock_draft(scorecard)
    title = _text(title, "title", required=True, max_length=120)
    if locked.sections.filter(title__iexact=title).exists():
        raise ValidationFailed.on("title", "This scorecard has a section of that title already.")
    if position in (None, ""):
        position = locked.sections.count() + 1
    section = ScorecardSection(
        scorecard=locked, title=title, position=_int(position, "position", low=0, high=999)
    )
    set_history(section, user=actor, reason="Section added", action="create")
    section.save()
    return section


def _criterion_values(
    scorecard, *, section, label, guidance, scale, weight, is_critical, auto_rule, phrases, position
):
    if section is None or section.scorecard_id != scorecard.pk:
        raise ValidationFailed.on("section", "Choose a section of this scorecard.")
    if not isinstance(is_critical, bool):
        raise ValidationFailed.on("is_critical", "Say yes or no.")
    if phrases is None:
        phrases = []
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise ValidationFailed.on("phrases", "Give the phrases as a list of text.")
    phrases = [p.strip() for p in phrases if p.strip()]
    if len(phrases) > MAX_PHRASES or any(len(p) > 200 for p in phrases):
        raise ValidationFailed.on(
            "phrases", f"At most {MAX_PHRASES} phrases of up to 200 characters."
        )
    auto_rule = _choice(auto_rule or "", "auto_rule", AutoRule.choices)
    if auto_rule == AutoRule.REQUIRED_PHRASE and not phrases:
        raise ValidationFailed.on("phrases", "A required-statement rule needs at least one phrase.")
    scale = _choice(scale, "scale", Scale.choices)
    return {
        "section": section,
        "label": _text(label, "label", required=True, max_length=200),
        "guidance": _text(guidance, "guidance"),
        "scale": scale,
        "weight": _int(weight, "weight", low=1, high=100),
        "is_critical": is_critical,
        "auto_rule": auto_rule,
        "phrases": phrases,
        "position": _int(position, "position", low=0, high=999),
    }


@transaction.atomic
def criterion_add(
    scorecard: Scorecard,
    *,
    actor,
    section,
    label: str,
    guidance: str = "",
    scale: str = Scale.YES_NO,
    weight=1,
    is_critical: bool = False,
    auto_rule: str = "",
    phrases=None,
    position=None,
) -> Criterion:
    _require_scorecard_manager(actor)
    locked = _lock_draft(scorecard)
    if position in (None, ""):
        position = locked.criteria.count() + 1
    values = _criterion_values(
        locked,
        section=section,
        label=label,
        guidance=guidance,
        scale=scale,
        weight=weight,
        is_critical=is_critical,
        auto_rule=auto_rule,
        phrases=phrases,
        position=position,
    )
    criterion = Criterion(scorecard=locked, **values)
    set_history(criterion, user=actor, reason="Criterion added", action="create")
    criterion.save()
    return criterion


@transaction.atomic
def criterion_update(criterion: Criterion, *, actor, reason: str, **changes) -> Criterion:
    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    _lock_draft(criterion.scorecard)
    locked = Criterion.objects.select_for_update().get(pk=criterion.pk)
    current = {
        name: getattr(locked, name)
        for name in (
            "section",
            "label",
            "guidance",
            "scale",
            "weight",
            "is_critical",
            "auto_rule",
            "phrases",
            "position",
        )
    }
    unknown = set(changes) - set(current)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    current.update(changes)
    values = _criterion_values(locked.scorecard, **current)
    for name, value in values.items():
        setattr(locked, name, value)
    set_history(locked, user=actor, reason=reason, action="update")
    locked.save()
    return locked


@transaction.atomic
def scorecard_new_revision(scorecard: Scorecard, *, actor, change_summary: str) -> Scorecard:
    """A change of an approved or in-force scorecard: a new draft revision, a copy of this one
    with its sections and criteria, linked to it. Evaluations keep the revision they used."""
    _require_scorecard_manager(actor)
    change_summary = _text(change_summary, "change_summary", required=True)
    source = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if source.status == ScorecardStatus.DRAFT:
        raise IllegalTransition(f"{source} is still a draft: change it directly.")
    latest = Scorecard.objects.filter(code=source.code).order_by("-revision").first()
    if latest.pk != source.pk:
        raise IllegalTransition(
            f"{source.code} has a later revision ({latest.revision}); revise that one."
        )
    revision = Scorecard(
        code=source.code,
        revision=source.revision + 1,
        name=source.name,
        description=source.description,
        applies_to=source.applies_to,
        pass_mark=source.pass_mark,
        previous_revision=source,
        change_summary=change_summary,
        created_by=actor,
    )
    set_history(revision, user=actor, reason=change_summary, action="new_revision")
    try:
        with transaction.atomic():
            revision.save()
    except IntegrityError:
        raise IllegalTransition(
            f"{source.code} already has a new revision in preparation."
        ) from None
    sections = {}
    for section in source.sections.all():
        copy = ScorecardSection(scorecard=revision, title=section.title, position=section.position)
        set_history(copy, user=actor, reason=change_summary, action="new_revision")
        copy.save()
        sections[section.pk] = copy
    for criterion in source.criteria.all():
        copy = Criterion(
            scorecard=revision,
            section=sections[criterion.section_id],
            label=criterion.label,
            guidance=criterion.guidance,
            scale=criterion.scale,
            weight=criterion.weight,
            is_critical=criterion.is_critical,
            position=criterion.position,
            auto_rule=criterion.auto_rule,
            phrases=list(criterion.phrases),
        )
        set_history(copy, user=actor, reason=change_summary, action="new_revision")
        copy.save()
    return revision


def scorecard_supersede_previous(scorecard: Scorecard, *, actor, at) -> None:
    """Called inside the put_in_force transition: the revision in force until now is superseded."""
    current = (
        Scorecard.objects.select_for_update()
        .filter(code=scorecard.code, status=ScorecardStatus.IN_FORCE)
        .exclude(pk=scorecard.pk)
        .first()
    )
    if current is not None:
        transition(
            SCORECARD_WORKFLOW,
            current,
            "supersede",
            actor=actor,
            reason=f"Superseded by revision {scorecard.revision}.",
        )


def scorecard_transition(
    scorecard, action: str, *, actor, reason="", password=None, meaning=None, data=None
):
    return transition(
        SCORECARD_WORKFLOW,
        scorecard,
        action,
        actor=actor,
        reason=reason,
        password=password,
        meaning=meaning,
        data=data,
    )


# --- evaluations -------------------------------------------------------------------------------


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
        from service_quality.handoffs import announce_scoring

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


def evaluation_transition(
    evaluation, action: str, *, actor, reason="", password=None, meaning=None, data=None
):
    return transition(
        EVALUATION_WORKFLOW,
        evaluation,
        action,
        actor=actor,
        reason=reason,
        password=password,
        meaning=meaning,
        data=data,
    )


def evaluators():
    User = get_user_model()
    return [
        u
        for u in User.objects.filter(is_active=True, groups__name__in=qms_roles.QUALITY).distinct()
        if is_evaluator(u)
    ]


# --- automatic scores and the friction list ------------------------------------------------------


def _lock_auto_score(auto_score, actor):
    from service_quality.models import AutoScore, AutoScoreStatus

    if not is_evaluator(actor):
        raise NotAllowed("Only evaluators confirm or override automatic scores.")
    locked = (
        AutoScore.objects.select_for_update()
        .select_related("analysis", "criterion")
        .get(pk=auto_score.pk)
    )
    if locked.analysis.subject_id == actor.pk:
        raise NotAllowed("Nobody confirms the automatic scores of their own interaction.")
    if locked.status != AutoScoreStatus.SUGGESTED:
        raise IllegalTransition(
            f"This automatic score was {locked.get_status_display().lower()} already."
        )
    return locked


@transaction.atomic
def auto_score_confirm(auto_score, *, actor, reason: str = ""):
    from django.utils import timezone

    from service_quality.models import AutoScoreStatus

    locked = _lock_auto_score(auto_score, actor)
    locked.status, locked.final_answer = AutoScoreStatus.CONFIRMED, locked.answer
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.decision_reason = _text(reason, "reason", max_length=2000)
    set_history(locked, user=actor, reason=locked.decision_reason or "Confirmed", action="confirm")
    locked.save(
        update_fields=["status", "final_answer", "decided_by", "decided_at", "decision_reason"]
    )
    return locked


@transaction.atomic
def auto_score_override(auto_score, *, actor, answer: str, reason: str):
    from django.utils import timezone

    from service_quality.models import AutoScoreStatus

    reason = _text(reason, "reason", required=True, max_length=2000)
    locked = _lock_auto_score(auto_score, actor)
    if not scoring.is_valid_answer(locked.criterion.scale, answer):
        raise ValidationFailed.on(
            "answer", f"Answer one of: {', '.join(scoring.ANSWERS[locked.criterion.scale])}."
        )
    if answer == locked.answer:
        raise ValidationFailed.on("answer", "That is the automatic answer: confirm it instead.")
    locked.status, locked.final_answer = AutoScoreStatus.OVERRIDDEN, answer
    locked.decided_by, locked.decided_at, locked.decision_reason = actor, timezone.now(), reason
    set_history(locked, user=actor, reason=reason, action="override")
    locked.save(
        update_fields=["status", "final_answer", "decided_by", "decided_at", "decision_reason"]
    )
    return locked


@transaction.atomic
def friction_phrase_add(*, actor, phrase: str):
    from service_quality.models import FrictionPhrase

    _require_scorecard_manager(actor)
    phrase = _text(phrase, "phrase", required=True, max_length=100).lower()
    if not phrase.rstrip("*").strip() or "*" in phrase.rstrip("*"):
        raise ValidationFailed.on("phrase", "Enter words; a * is allowed only at the end.")
    existing = FrictionPhrase.objects.select_for_update().filter(phrase=phrase).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationFailed.on("phrase", "This phrase is on the list already.")
        existing.is_active = True
        set_history(existing, user=actor, reason="Put back on the list", action="activate")
        existing.save(update_fields=["is_active"])
        return existing
    row = FrictionPhrase(phrase=phrase, created_by=actor)
    set_history(row, user=actor, reason="Added", action="create")
    row.save()
    return row


@transaction.atomic
def friction_phrase_deactivate(row, *, actor, reason: str):
    from service_quality.models import FrictionPhrase

    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    locked = FrictionPhrase.objects.select_for_update().get(pk=row.pk)
    if not locked.is_active:
        raise IllegalTransition("This phrase is off the list already.")
    locked.is_active = False
    set_history(locked, user=actor, reason=reason, action="deactivate")
    locked.save(update_fields=["is_active"])
    return locked


# --- coaching ---------------------------------------------------------------------------------------

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
    from datetime import date, timedelta

    from django.utils import timezone

    from service_quality import handoffs
    from service_quality.models import CoachingRecord

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


def coaching_transition(
    record, action: str, *, actor, reason="", password=None, meaning=None, data=None
):
    from service_quality.workflow import COACHING_WORKFLOW

    return transition(
        COACHING_WORKFLOW,
        record,
        action,
        actor=actor,
        reason=reason,
        password=password,
        meaning=meaning,
        data=data,
    )


# --- Workflow hooks ------------------------------------------------------------------------
# The steps of the service-quality workflows that write other records or announce hand-offs,
# registered under the names the workflows give them (qms/workflow.py).


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
