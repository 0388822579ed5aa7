"""Reads of the service-quality app shared by pages, the API and the dashboard, scoped to the
asking user (service_quality/permissions.py), with their joins done once here."""

from django.db.models import Count, Prefetch, Q

from qms import roles as qms_roles
from service_quality.models import Criterion, Evaluation, Score, Scorecard, ScorecardSection
from service_quality.permissions import sees_all_evaluations


def scorecard_list_for_user(user):
    if not qms_roles.roles_of(user):
        return Scorecard.objects.none()
    return (
        Scorecard.objects.select_related("created_by")
        .annotate(
            criterion_count=Count("criteria", distinct=True),
            evaluation_count=Count("evaluations", distinct=True),
        )
        .order_by("code", "-revision")
    )


def scorecard_get(pk):
    criteria = Prefetch("criteria", queryset=Criterion.objects.order_by("position", "id"))
    sections = Prefetch(
        "sections",
        queryset=ScorecardSection.objects.prefetch_related(criteria).order_by("position", "id"),
    )
    return (
        Scorecard.objects.select_related("created_by", "previous_revision", "next_revision")
        .prefetch_related(sections)
        .get(pk=pk)
    )


def evaluation_visibility(user) -> Q | None:
    """None: every evaluation; otherwise the filter of the ones this user may read: their own,
    the ones they made, and those of the people they lead (User.manager)."""
    if sees_all_evaluations(user):
        return None
    return Q(subject=user) | Q(evaluator=user) | Q(subject__manager=user)


def evaluation_list_for_user(user):
    if not getattr(user, "is_authenticated", False) or not qms_roles.roles_of(user):
        return Evaluation.objects.none()
    queryset = Evaluation.objects.select_related(
        "scorecard", "complaint", "communication", "subject", "evaluator"
    ).order_by("-created_at", "-id")
    visible = evaluation_visibility(user)
    return queryset if visible is None else queryset.filter(visible)


def evaluation_get(user, pk):
    """An evaluation the user may read, with its scorecard's criteria and its scores."""
    criteria = Prefetch(
        "scorecard__criteria",
        queryset=Criterion.objects.select_related("section").order_by(
            "section__position", "position", "id"
        ),
    )
    scores = Prefetch("scores", queryset=Score.objects.select_related("scored_by"))
    return evaluation_list_for_user(user).prefetch_related(criteria, scores).get(pk=pk)


def evaluation_rows(evaluation, suggestions=None):
    """The evaluation page's rows: one per criterion, in section order, with its score and the
    automatic suggestion where the criterion is measured."""
    scores = {s.criterion_id: s for s in evaluation.scores.all()}
    suggestions = suggestions or {}
    rows = []
    for criterion in evaluation.scorecard.criteria.all():
        rows.append(
            {
                "criterion": criterion,
                "score": scores.get(criterion.pk),
                "suggestion": suggestions.get(criterion.pk),
            }
        )
    return rows


def interaction_key(evaluation) -> str:
    if evaluation.communication_id:
        return f"c:{evaluation.communication_id}"
    return f"h:{evaluation.complaint_id}"


def auto_scores_for_evaluation(evaluation) -> dict:
    """{criterion id: AutoScore} of the evaluated interaction on the evaluation's scorecard."""
    from service_quality.models import AutoScore

    rows = AutoScore.objects.filter(
        analysis__interaction_key=interaction_key(evaluation),
        criterion__scorecard_id=evaluation.scorecard_id,
    ).select_related("decided_by")
    return {row.criterion_id: row for row in rows}


def auto_score_list_for_user(user):
    from service_quality.models import AutoScore

    if not getattr(user, "is_authenticated", False) or not qms_roles.roles_of(user):
        return AutoScore.objects.none()
    queryset = AutoScore.objects.select_related("analysis", "criterion", "decided_by").order_by(
        "-computed_at", "-id"
    )
    if sees_all_evaluations(user):
        return queryset
    from service_quality.permissions import is_evaluator

    if is_evaluator(user):
        return queryset  # evaluators confirm or override any interaction's suggestions
    return queryset.filter(Q(analysis__subject=user) | Q(analysis__subject__manager=user))


def task_list_for_user(user):
    """Evaluation tasks: my own as evaluator; all of them for Quality Managers and Auditors."""
    from service_quality.models import EvaluationTask

    if not getattr(user, "is_authenticated", False) or not qms_roles.roles_of(user):
        return EvaluationTask.objects.none()
    queryset = EvaluationTask.objects.select_related(
        "rule", "complaint", "subject", "evaluator", "evaluation"
    ).order_by("status", "due_on", "id")
    return queryset if sees_all_evaluations(user) else queryset.filter(evaluator=user)


def coaching_list_for_user(user):
    """Coaching records: the person's own, the ones they gave, their team's; all for Quality
    Managers and Auditors."""
    from service_quality.models import CoachingRecord

    if not getattr(user, "is_authenticated", False) or not qms_roles.roles_of(user):
        return CoachingRecord.objects.none()
    queryset = CoachingRecord.objects.select_related("evaluation", "person", "coach").order_by(
        "-created_at", "-id"
    )
    if sees_all_evaluations(user):
        return queryset
    return queryset.filter(Q(person=user) | Q(coach=user) | Q(person__manager=user))
