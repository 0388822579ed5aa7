"""Calibration sessions (issue 17 item 5): several evaluators score the same interactions blind;
the facilitator records the agreed answer; once closed, the page shows the spread per criterion
and per evaluator against the agreed answers. Writes keep history like every service."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

from django.db import transaction
from django.utils import timezone

from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from service_quality import agreement, scoring
from service_quality.models import CalibrationItem, CalibrationScore, CalibrationSession
from service_quality.permissions import is_evaluator
from service_quality.workflow import ScorecardStatus

MAX_ITEMS = 20


@transaction.atomic
def calibration_create(
    *, actor, name: str, scorecard, participants, interactions
) -> CalibrationSession:
    """`interactions`: (complaint, communication or None) pairs."""
    if not is_evaluator(actor):
        raise NotAllowed("Evaluators run calibration sessions.")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed.on("name", "Name the session (up to 120 characters).")
    if scorecard is None or scorecard.status != ScorecardStatus.IN_FORCE:
        raise ValidationFailed.on("scorecard", "Choose a scorecard in force.")
    participants = list(dict.fromkeys(participants or ()))
    if len(participants) < 2 or not all(is_evaluator(p) for p in participants):
        raise ValidationFailed.on("participants", "Invite at least two evaluators.")
    interactions = list(interactions or ())
    if not 1 <= len(interactions) <= MAX_ITEMS:
        raise ValidationFailed.on("interactions", f"Choose 1 to {MAX_ITEMS} interactions.")
    for complaint, communication in interactions:
        if communication is not None and communication.complaint_id != complaint.pk:
            raise ValidationFailed.on(
                "interactions", "A communication entry belongs to another complaint."
            )
        if (communication is None) != (scorecard.applies_to == "handling"):
            raise ValidationFailed.on(
                "interactions",
                f"This scorecard evaluates a {scorecard.get_applies_to_display().lower()}.",
            )
    session = CalibrationSession(name=name, scorecard=scorecard, facilitator=actor)
    set_history(session, user=actor, reason="Created", action="create")
    session.save()
    session.participants.set(participants)
    CalibrationItem.objects.bulk_create(
        [
            CalibrationItem(session=session, complaint=c, communication=m)
            for c, m in dict.fromkeys(interactions)
        ]
    )
    return session


def _answers(session, answers) -> list[tuple]:
    criteria = {c.pk: c for c in session.scorecard.criteria.all()}
    items = {i.pk: i for i in session.items.all()}
    if not isinstance(answers, dict) or not answers:
        raise ValidationFailed.on("answers", "Give at least one answer.")
    plan, errors = [], {}
    for key, answer in answers.items():
        try:
            item_id, criterion_id = (int(part) for part in str(key).split(":"))
            item, criterion = items[item_id], criteria[criterion_id]
        except (ValueError, KeyError):
            errors[str(key)] = [
                "Not an interaction and criterion of this session ('item:criterion')."
            ]
            continue
        if not scoring.is_valid_answer(criterion.scale, answer):
            errors[str(key)] = [f"Answer one of: {', '.join(scoring.ANSWERS[criterion.scale])}."]
            continue
        plan.append((item, criterion, answer))
    if errors:
        raise ValidationFailed("Some answers are not valid.", field_errors=errors)
    return plan


def _save(plan, *, actor, evaluator, is_agreed, reason):
    existing = {
        (s.item_id, s.criterion_id): s
        for s in CalibrationScore.objects.select_for_update().filter(
            item__in=[p[0] for p in plan],
            is_agreed=is_agreed,
            **({} if is_agreed else {"evaluator": evaluator}),
        )
    }
    for item, criterion, answer in plan:
        row = existing.get((item.pk, criterion.pk))
        if row is None:
            row = CalibrationScore(
                item=item,
                criterion=criterion,
                evaluator=evaluator,
                is_agreed=is_agreed,
                answer=answer,
            )
        elif row.answer == answer:
            continue
        row.answer, row.scored_at = answer, timezone.now()
        set_history(row, user=actor, reason=reason, action="agree" if is_agreed else "score")
        row.save()


@transaction.atomic
def calibration_score(session, *, actor, answers: dict) -> None:
    """A participant's blind answers {"<item id>:<criterion id>": answer}."""
    locked = (
        CalibrationSession.objects.select_for_update()
        .select_related("scorecard")
        .get(pk=session.pk)
    )
    if locked.status != CalibrationSession.Status.OPEN:
        raise IllegalTransition("The session is closed.")
    if not locked.participants.filter(pk=actor.pk).exists():
        raise NotAllowed("Only the session's participants score.")
    _save(
        _answers(locked, answers),
        actor=actor,
        evaluator=actor,
        is_agreed=False,
        reason="Calibration score",
    )


@transaction.atomic
def calibration_agree(
    session, *, actor, answers: dict, reason: str = "Agreed in the session"
) -> None:
    locked = (
        CalibrationSession.objects.select_for_update()
        .select_related("scorecard")
        .get(pk=session.pk)
    )
    if actor.pk != locked.facilitator_id:
        raise NotAllowed("The facilitator records the agreed answers.")
    if locked.status != CalibrationSession.Status.OPEN:
        raise IllegalTransition("The session is closed.")
    _save(_answers(locked, answers), actor=actor, evaluator=None, is_agreed=True, reason=reason)


@transaction.atomic
def calibration_close(session, *, actor) -> CalibrationSession:
    locked = (
        CalibrationSession.objects.select_for_update()
        .select_related("scorecard")
        .get(pk=session.pk)
    )
    if actor.pk != locked.facilitator_id:
        raise NotAllowed("The facilitator closes the session.")
    if locked.status != CalibrationSession.Status.OPEN:
        raise IllegalTransition("The session is closed already.")
    needed = locked.items.count() * locked.scorecard.criteria.count()
    agreed = CalibrationScore.objects.filter(item__session=locked, is_agreed=True).count()
    if agreed < needed:
        raise IllegalTransition(
            f"Record the agreed answer of every criterion first ({agreed} of {needed})."
        )
    locked.status, locked.closed_at = CalibrationSession.Status.CLOSED, timezone.now()
    set_history(locked, user=actor, reason="Closed", action="close")
    locked.save(update_fields=["status", "closed_at"])
    return locked


def calibration_view(session, user) -> dict:
    """What `user` may see: while open, only their own answers (blind); once closed, everyone's,
    with the spread per criterion and per evaluator against the agreed answers, the agreement
    between the evaluators and of the automatic answers with the agreed ones. Open: one query;
    closed: four (scores, criteria, interactions, automatic answers)."""
    rows = list(CalibrationScore.objects.filter(item__session=session).select_related("evaluator"))
    closed = session.status == CalibrationSession.Status.CLOSED
    agreed = {(r.item_id, r.criterion_id): r.answer for r in rows if r.is_agreed}
    mine = {
        (r.item_id, r.criterion_id): r.answer
        for r in rows
        if not r.is_agreed and r.evaluator_id == user.pk
    }
    result = {
        "closed": closed,
        "mine": mine,
        "agreed": agreed if (closed or user.pk == session.facilitator_id) else {},
    }
    if not closed:
        result.update(per_criterion=[], per_evaluator=[], auto_vs_agreed=[])
        return result
    by_criterion, by_evaluator = defaultdict(Counter), defaultdict(Counter)
    spread = defaultdict(Counter)
    names = {}
    for r in rows:
        if r.is_agreed:
            continue
        target = agreed.get((r.item_id, r.criterion_id))
        by_criterion[r.criterion_id][(r.answer, target)] += 1
        by_evaluator[r.evaluator_id][(r.answer, target)] += 1
        spread[r.criterion_id][r.answer] += 1
        names[r.evaluator_id] = r.evaluator.full_name
    labels = {c.pk: c.label for c in session.scorecard.criteria.all()}
    between = _between_evaluators(rows)
    result["per_criterion"] = [
        {
            "criterion": labels.get(pk, pk),
            "answers": dict(sorted(spread[pk].items())),
            "agreement": agreement.share_agreed(c),
            "kappa": agreement.kappa_from_counts(c),
            **between.get(pk, {"pairs": 0, "between_agreement": None, "between_kappa": None}),
        }
        for pk, c in sorted(by_criterion.items())
    ]
    result["auto_vs_agreed"] = _auto_vs_agreed(session, agreed, labels)
    result["per_evaluator"] = [
        {"evaluator": names[pk], "answers": sum(c.values()), "agreement": agreement.share_agreed(c)}
        for pk, c in sorted(by_evaluator.items(), key=lambda kv: names[kv[0]])
    ]
    return result


def _between_evaluators(rows) -> dict[int, dict]:
    """Per criterion, agreement between the evaluators themselves (not against the agreed
    answer): over every pair of evaluators who both answered an interaction, the share of pairs
    that gave the same answer, and the mean of the pairs' Cohen's kappa (Light's kappa)."""
    answers = defaultdict(dict)  # (criterion, item) -> {evaluator: answer}
    for r in rows:
        if not r.is_agreed:
            answers[(r.criterion_id, r.item_id)][r.evaluator_id] = r.answer
    tables = defaultdict(lambda: defaultdict(Counter))  # criterion -> (a, b) -> Counter
    for (criterion_id, _item), by_rater in answers.items():
        for a, b in combinations(sorted(by_rater), 2):
            tables[criterion_id][(a, b)][(by_rater[a], by_rater[b])] += 1
    result = {}
    for criterion_id, pairs in tables.items():
        pooled = Counter()
        kappas = []
        for counts in pairs.values():
            pooled.update(counts)
            kappa = agreement.kappa_from_counts(counts)
            if kappa is not None:
                kappas.append(kappa)
        result[criterion_id] = {
            "pairs": sum(pooled.values()),
            "between_agreement": agreement.share_agreed(pooled),
            "between_kappa": sum(kappas) / len(kappas) if kappas else None,
        }
    return result


def _auto_vs_agreed(session, agreed: dict, labels: dict) -> list[dict]:
    """Per automatically measured criterion: the automatic answer of each interaction of the
    session against the agreed answer (share of agreement and Cohen's kappa). One query."""
    from service_quality.models import AutoScore

    items = {
        (f"c:{i.communication_id}" if i.communication_id else f"h:{i.complaint_id}"): i.pk
        for i in session.items.all()
    }
    counts = defaultdict(Counter)
    for key, criterion_id, answer in AutoScore.objects.filter(
        analysis__interaction_key__in=list(items), criterion_id__in=list(labels)
    ).values_list("analysis__interaction_key", "criterion_id", "answer"):
        target = agreed.get((items[key], criterion_id))
        if target is not None:
            counts[criterion_id][(answer, target)] += 1
    return [
        {
            "criterion": labels[pk],
            "pairs": sum(c.values()),
            "agreement": agreement.share_agreed(c),
            "kappa": agreement.kappa_from_counts(c),
        }
        for pk, c in sorted(counts.items())
    ]
