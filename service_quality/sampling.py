"""Sampling (issue 17 item 3): the draws that turn interactions into evaluation tasks, and the
escalation of overdue tasks. Writes, like services/; called by the beat tasks.

- Random: N interactions per person per week (Monday to Sunday, local time) from that week's
  interactions, chosen with a generator seeded by (rule, person, week), so a repeated draw
  picks the same ones and only tops up what is missing.
- Targeted (handling rules): detractor NPS (0-6), CSAT <= 2, escalated, reopened, SLA breached,
  on complaints received in the last TARGET_WINDOW_DAYS.
- Never the person evaluated as evaluator (also a database check), never an interaction twice
  (unique interaction_key), the least-loaded evaluator first. Draws of one rule are serialised
  by a transaction-scoped advisory lock, so two beats cannot both fill the same quota.
Candidates come from the automatic evaluator's analyses (which cover every interaction), so
the draw reads its facts instead of recomputing them.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.history import set_history
from qms.notifications import notify_many
from service_quality import handoffs
from service_quality.models import (
    CoachingRecord,
    EvaluationTask,
    InteractionAnalysis,
    InteractionKind,
    SampleReason,
    SamplingRule,
    Scorecard,
    TaskStatus,
)
from service_quality.permissions import EVALUATOR_JOB_WORD, may_manage_scorecards
from service_quality.workflow import ScorecardStatus

TARGET_WINDOW_DAYS = 90
# A follow-up drawn late (no interaction until after its date) still leaves the evaluator days.
FOLLOW_UP_MIN_DAYS = 2


def week_start(day):
    return day - timedelta(days=day.weekday())


def evaluator_pool():
    """Active evaluators (permissions.is_evaluator) in one query, Auditors excluded."""
    User = get_user_model()
    quality = Q(groups__name=qms_roles.MANAGER) | Q(
        groups__name=qms_roles.STAFF, job_function__icontains=EVALUATOR_JOB_WORD
    )
    auditors = User.objects.filter(groups__name=qms_roles.AUDITOR).values("pk")
    return list(
        User.objects.filter(quality, is_active=True)
        .exclude(pk__in=auditors)
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def sampling_rule_create(
    *,
    actor,
    name: str,
    scorecard_code: str,
    department=None,
    person=None,
    per_person_per_week=2,
    due_days=5,
    **targets,
) -> SamplingRule:
    if not may_manage_scorecards(actor):
        raise NotAllowed("Only Quality Managers set sampling rules.")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed.on("name", "Name the rule (up to 120 characters).")
    if not Scorecard.objects.filter(code=scorecard_code).exists():
        raise ValidationFailed.on("scorecard_code", "No scorecard has this code.")
    if department is not None and person is not None:
        raise ValidationFailed.on("person", "Scope the rule to a team or to a person, not both.")
    for field, value, high in (
        ("per_person_per_week", per_person_per_week, 50),
        ("due_days", due_days, 60),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (0 if field == "per_person_per_week" else 1) <= value <= high
        ):
            raise ValidationFailed.on(field, f"Enter a whole number up to {high}.")
    unknown = set(targets) - {
        "target_detractors",
        "target_low_csat",
        "target_escalated",
        "target_reopened",
        "target_sla_breached",
    }
    if unknown:
        raise ValidationFailed(f"Unknown settings: {', '.join(sorted(unknown))}.")
    rule = SamplingRule(
        name=name,
        scorecard_code=scorecard_code,
        department=department,
        person=person,
        per_person_per_week=per_person_per_week,
        due_days=due_days,
        created_by=actor,
        **{k: bool(v) for k, v in targets.items()},
    )
    set_history(rule, user=actor, reason="Created", action="create")
    rule.save()
    return rule


def _scope(queryset, rule):
    if rule.person_id:
        return queryset.filter(subject_id=rule.person_id)
    if rule.department_id:
        return queryset.filter(subject__department_id=rule.department_id)
    return queryset.filter(subject__isnull=False)


def _targets(rule) -> list[tuple[str, Q]]:
    targets = []
    if rule.target_detractors:
        targets.append((SampleReason.DETRACTOR, Q(nps__lte=6)))
    if rule.target_low_csat:
        targets.append((SampleReason.LOW_CSAT, Q(csat__lte=2)))
    if rule.target_escalated:
        targets.append((SampleReason.ESCALATED, Q(complaint__escalation_level__gt=0)))
    if rule.target_reopened:
        targets.append((SampleReason.REOPENED, Q(is_reopened=True)))
    if rule.target_sla_breached:
        targets.append(
            (SampleReason.SLA_BREACHED, Q(first_response_in_sla=False) | Q(resolution_in_sla=False))
        )
    return targets


def samples_draw(*, now=None) -> int:
    """Draw for every active rule; returns the number of tasks created."""
    now = now or timezone.now()
    created = 0
    for rule in SamplingRule.objects.filter(is_active=True).order_by("pk"):
        created += rule_draw(rule, now=now)
    return created


@transaction.atomic
def rule_draw(rule: SamplingRule, *, now) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"service_quality.rule_draw:{rule.pk}"],
            )
    scorecard = Scorecard.objects.filter(
        code=rule.scorecard_code, status=ScorecardStatus.IN_FORCE
    ).first()
    if scorecard is None:
        return 0
    today = timezone.localdate(now)
    monday = week_start(today)
    kind = scorecard.applies_to
    sampled = EvaluationTask.objects.filter(interaction_key=OuterRef("interaction_key"))
    pool = _scope(InteractionAnalysis.objects.filter(kind=kind), rule).filter(~Exists(sampled))
    evaluators = evaluator_pool()
    if not evaluators:
        return 0
    load = Counter(
        dict(
            EvaluationTask.objects.exclude(status=TaskStatus.DONE)
            .filter(evaluator__in=evaluators)
            .values_list("evaluator")
            .annotate(n=Count("pk"))
        )
    )
    picks: list[tuple[InteractionAnalysis, str]] = []
    # Targeted first: the interactions most worth a person's time.
    if kind == InteractionKind.HANDLING:
        since = now - timedelta(days=TARGET_WINDOW_DAYS)
        taken = set()
        for reason, condition in _targets(rule):
            for analysis in pool.filter(condition, complaint__received_at__gte=since).order_by(
                "complaint_id"
            )[:500]:
                if analysis.interaction_key not in taken:
                    taken.add(analysis.interaction_key)
                    picks.append((analysis, reason))
    # Random: top up each person's weekly quota.
    if rule.per_person_per_week:
        start = timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time()))
        end = start + timedelta(days=7)
        window = (
            Q(communication__at__gte=start, communication__at__lt=end)
            if kind == InteractionKind.COMMUNICATION
            else Q(complaint__received_at__gte=start, complaint__received_at__lt=end)
        )
        done = Counter(
            dict(
                EvaluationTask.objects.filter(rule=rule, week_of=monday, reason=SampleReason.RANDOM)
                .values_list("subject")
                .annotate(n=Count("pk"))
            )
        )
        already = {a.interaction_key for a, _ in picks}
        by_subject = defaultdict(list)
        for analysis in (
            pool.filter(window)
            .order_by("interaction_key")
            .only("pk", "interaction_key", "subject_id", "complaint_id", "communication_id", "kind")
        ):
            if analysis.interaction_key not in already:
                by_subject[analysis.subject_id].append(analysis)
        for subject_id, candidates in sorted(by_subject.items()):
            missing = rule.per_person_per_week - done.get(subject_id, 0)
            if missing <= 0:
                continue
            chooser = random.Random(f"{rule.pk}:{subject_id}:{monday.isoformat()}")  # noqa: S311 - sampling, not security
            for analysis in chooser.sample(candidates, min(missing, len(candidates))):
                picks.append((analysis, SampleReason.RANDOM))
    tasks = []
    for analysis, reason in picks:
        choices = [e for e in evaluators if e.pk != analysis.subject_id]
        if not choices:
            continue
        chosen = min(choices, key=lambda e: (load[e.pk], e.pk))
        load[chosen.pk] += 1
        tasks.append(
            EvaluationTask(
                rule=rule,
                interaction_key=analysis.interaction_key,
                kind=analysis.kind,
                complaint_id=analysis.complaint_id,
                communication_id=analysis.communication_id,
                subject_id=analysis.subject_id,
                evaluator=chosen,
                reason=reason,
                week_of=monday,
                due_on=today + timedelta(days=rule.due_days),
                created_at=now,
            )
        )
    # ignore_conflicts: an interaction sampled meanwhile by another rule stays sampled once.
    EvaluationTask.objects.bulk_create(tasks, ignore_conflicts=True)
    made = list(
        EvaluationTask.objects.filter(
            rule=rule, created_at=now, interaction_key__in=[t.interaction_key for t in tasks]
        ).select_related("evaluator", "subject", "complaint")
    )
    # Each task is a hand-off to its evaluator: on their My work, and told once (qms.handoffs).
    for task in made:
        handoffs.announce_task(task, task.subject.full_name)
    return len(made)


def _follow_up_evaluator(record, evaluators):
    """The coach when they evaluate, else the original evaluator, else the least-loaded
    evaluator; never the person coached."""
    by_pk = {e.pk: e for e in evaluators if e.pk != record.person_id}
    for pk in (record.coach_id, record.evaluation.evaluator_id):
        if pk in by_pk:
            return by_pk[pk]
    if not by_pk:
        return None
    load = Counter(
        dict(
            EvaluationTask.objects.exclude(status=TaskStatus.DONE)
            .filter(evaluator__in=list(by_pk))
            .values_list("evaluator")
            .annotate(n=Count("pk"))
        )
    )
    return min(by_pk.values(), key=lambda e: (load[e.pk], e.pk))


def follow_ups_draw(*, now=None) -> int:
    """Coaching follow-up (issue 17 item 6): from the day the agreed action is due, the person's
    latest interaction since the coaching, of the kind the evaluated scorecard applies to and not
    sampled before, becomes an evaluation task due on the coaching's follow-up date. One task
    per coaching record (a unique key), so a second sweep or a retried task draws nothing; a
    coaching with no interaction since is tried again at the next sweep."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    created = 0
    with transaction.atomic():
        due = list(
            CoachingRecord.objects.filter(due_on__lte=today, follow_up_task__isnull=True)
            .select_related("evaluation__scorecard", "person")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_on", "id")[:500]
        )
        if not due:
            return 0
        evaluators = evaluator_pool()
        sampled = EvaluationTask.objects.filter(interaction_key=OuterRef("interaction_key"))
        for record in due:
            evaluation = record.evaluation
            since = record.acknowledged_at or record.created_at
            kind = evaluation.scorecard.applies_to
            after = (
                Q(communication__at__gte=since)
                if kind == InteractionKind.COMMUNICATION
                else Q(complaint__received_at__gte=since)
            )
            analysis = (
                InteractionAnalysis.objects.filter(after, kind=kind, subject_id=record.person_id)
                .filter(~Exists(sampled))
                .select_related("complaint")
                .order_by(
                    "-communication__at"
                    if kind == InteractionKind.COMMUNICATION
                    else "-complaint__received_at",
                    "-id",
                )
                .first()
            )
            chosen = _follow_up_evaluator(record, evaluators) if analysis else None
            if chosen is None:
                continue
            task = EvaluationTask.objects.create(
                coaching=record,
                interaction_key=analysis.interaction_key,
                kind=analysis.kind,
                complaint=analysis.complaint,
                communication_id=analysis.communication_id,
                subject_id=record.person_id,
                evaluator=chosen,
                reason=SampleReason.FOLLOW_UP,
                week_of=week_start(today),
                due_on=max(record.follow_up_due_on, today + timedelta(days=FOLLOW_UP_MIN_DAYS)),
                created_at=now,
            )
            handoffs.announce_task(task, record.person.full_name)
            created += 1
    return created


def overdue_tasks_escalate(*, now=None) -> int:
    """Open tasks past their due date: the evaluator and the Quality Managers are told, once
    (escalation_level 0 -> 1 under a row lock; a second sweep finds nothing to do)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        due = list(
            EvaluationTask.objects.filter(escalation_level=0, due_on__lt=today)
            .exclude(status=TaskStatus.DONE)
            .select_related("evaluator", "subject")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_on", "id")[:500]
        )
        if not due:
            return 0
        EvaluationTask.objects.filter(pk__in=[t.pk for t in due]).update(escalation_level=1)
        managers = list(
            get_user_model()
            .objects.filter(groups__name=qms_roles.MANAGER, is_active=True)
            .distinct()
        )
        notify_many(
            [
                {
                    "recipients": [task.evaluator, *managers],
                    "subject": f"Overdue evaluation: {task.interaction_key} of {task.subject.full_name} (due {task.due_on:%d %b})",
                    "url": "/service-quality/tasks/",
                }
                for task in due
            ]
        )
    return len(due)


@transaction.atomic
def task_start(task: EvaluationTask, *, actor):
    """The evaluator opens the sampled interaction: an evaluation on the revision in force."""
    from service_quality.services import evaluation_create

    locked = (
        EvaluationTask.objects.select_for_update(of=("self",))
        .select_related("rule", "complaint", "communication", "coaching__evaluation__scorecard")
        .get(pk=task.pk)
    )
    if locked.evaluator_id != actor.pk:
        raise NotAllowed("This task is another evaluator's.")
    if locked.evaluation_id:
        return locked.evaluation
    code = (
        locked.rule.scorecard_code if locked.rule_id else locked.coaching.evaluation.scorecard.code
    )
    scorecard = Scorecard.objects.filter(code=code, status=ScorecardStatus.IN_FORCE).first()
    if scorecard is None:
        raise ValidationFailed.on("scorecard", f"Scorecard {code} has no revision in force.")
    evaluation = evaluation_create(
        actor=actor,
        scorecard=scorecard,
        complaint=locked.complaint,
        communication=locked.communication,
        subject=locked.subject,
        evaluator=actor,
    )
    locked.evaluation, locked.status = evaluation, TaskStatus.STARTED
    locked.save(update_fields=["evaluation", "status"])
    return evaluation
