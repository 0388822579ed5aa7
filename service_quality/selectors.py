"""Reads of the service-quality app shared by pages, the API and the dashboard, scoped to the
asking user (service_quality/permissions.py), with their joins done once here."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

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
    queryset = CoachingRecord.objects.select_related(
        "evaluation", "person", "coach", "follow_up_task__evaluator"
    ).order_by("-created_at", "-id")
    if sees_all_evaluations(user):
        return queryset
    return queryset.filter(Q(person=user) | Q(coach=user) | Q(person__manager=user))


# --- My work (qms.mywork; hand-offs of service_quality/handoffs.py) -----------------------------

MY_WORK_ROWS = 10


def my_work(user):
    """My work's service-quality sections in one query (the home page keeps its 12-query
    budget): evaluations to do (tasks drawn for me, sampled or follow-ups, and drafts of mine
    with no open task), coaching to acknowledge (mine), coaching to close (I coached), and for
    Quality Managers the disputes to decide (not of their own evaluations). Each part is cut
    to its first rows inside the statement; a UNION ALL puts them together."""
    from django.db.models import CharField, DateField, Exists, F, IntegerField, OuterRef, Value
    from django.db.models.functions import Cast, Concat
    from django.urls import reverse

    from qms.mywork import WorkSection
    from service_quality.models import CoachingRecord, EvaluationTask, TaskStatus
    from service_quality.permissions import is_evaluator
    from service_quality.workflow import CoachingStatus, EvaluationStatus

    if not getattr(user, "is_authenticated", False) or not qms_roles.roles_of(user):
        return []
    if qms_roles.is_read_only(user):
        return []
    evaluates = is_evaluator(user)
    decides = qms_roles.has_role(user, qms_roles.MANAGER)
    text, day, number = CharField(), DateField(), IntegerField()

    def first(model, condition, *order):
        return model.objects.filter(
            pk__in=model.objects.filter(condition).order_by(*order).values("pk")[:MY_WORK_ROWS]
        )

    def row(queryset, kind, *, ref, who, due, detail, link):
        return queryset.annotate(
            w_kind=Value(kind, output_field=text),
            w_pk=F("pk"),
            w_ref=ref,
            w_who=who,
            w_due=due,
            w_detail=detail,
            w_link=link,
        ).values_list("w_kind", "w_pk", "w_ref", "w_who", "w_due", "w_detail", "w_link")

    def name(prefix):
        return Concat(
            F(f"{prefix}__first_name"), Value(" "), F(f"{prefix}__last_name"), output_field=text
        )

    parts = [
        row(
            first(CoachingRecord, Q(person=user, status=CoachingStatus.OPEN), "due_on", "pk"),
            "acknowledge",
            ref=F("evaluation__reference"),
            who=name("coach"),
            due=F("due_on"),
            detail=F("agreed_action"),
            link=Cast(Value(None), number),
        ),
        row(
            first(
                CoachingRecord, Q(coach=user, status=CoachingStatus.ACKNOWLEDGED), "due_on", "pk"
            ),
            "close",
            ref=F("evaluation__reference"),
            who=name("person"),
            due=F("due_on"),
            detail=F("agreed_action"),
            link=Cast(Value(None), number),
        ),
    ]
    if evaluates:
        open_task = EvaluationTask.objects.filter(evaluation=OuterRef("pk")).exclude(
            status=TaskStatus.DONE
        )
        parts += [
            row(
                first(
                    EvaluationTask,
                    Q(evaluator=user) & ~Q(status=TaskStatus.DONE),
                    "due_on",
                    "pk",
                ),
                "task",
                ref=F("complaint__reference"),
                who=name("subject"),
                due=F("due_on"),
                detail=F("reason"),
                link=F("evaluation_id"),
            ),
            row(
                first(
                    Evaluation,
                    Q(evaluator=user, status=EvaluationStatus.DRAFT) & ~Exists(open_task),
                    "created_at",
                    "pk",
                ),
                "draft",
                ref=F("reference"),
                who=name("subject"),
                due=Cast(Value(None), day),
                detail=F("complaint__reference"),
                link=Cast(Value(None), number),
            ),
        ]
    if decides:
        parts.append(
            row(
                first(
                    Evaluation,
                    Q(status=EvaluationStatus.DISPUTED) & ~Q(evaluator=user) & ~Q(subject=user),
                    "created_at",
                    "pk",
                ),
                "dispute",
                ref=F("reference"),
                who=name("subject"),
                due=Cast(Value(None), day),
                detail=F("complaint__reference"),
                link=Cast(Value(None), number),
            )
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        rows = list(parts[0].union(*parts[1:], all=True))
    else:  # SQLite refuses LIMIT inside a compound statement's parts: one query per part
        rows = [row for part in parts for row in part]
    today = timezone.localdate()
    by_kind = {}
    for kind, pk, ref, who, due, detail, link in rows:
        by_kind.setdefault(kind, []).append(
            {
                "kind": kind,
                "pk": pk,
                "ref": ref,
                "who": who.strip(),
                "due": due,
                "detail": detail,
                "overdue": due is not None and due < today,
                "url": _work_url(kind, pk, link),
            }
        )
    for items in by_kind.values():
        items.sort(key=lambda i: (i["due"] is None, i["due"] or today, i["pk"]))
    tasks = by_kind.get("task", []) + by_kind.get("draft", [])
    from service_quality.models import SampleReason

    for item in by_kind.get("task", []):
        item["detail"] = SampleReason(item["detail"]).label
    template = "service_quality/_mywork_rows.html"
    sections = []
    if evaluates:
        sections.append(
            WorkSection(
                title="Evaluations to do",
                template=template,
                items=tasks,
                empty_text="No interaction waits for your evaluation.",
                more_url=reverse("service_quality:task-list"),
            )
        )
    for kind, title in (
        ("acknowledge", "Coaching to acknowledge"),
        ("close", "Coaching to close"),
        ("dispute", "Disputes to decide"),
    ):
        if by_kind.get(kind):
            sections.append(
                WorkSection(
                    title=title,
                    template=template,
                    items=by_kind[kind],
                    more_url=reverse(
                        "service_quality:evaluation-list"
                        if kind == "dispute"
                        else "service_quality:coaching-list"
                    )
                    + ("?status=disputed" if kind == "dispute" else ""),
                )
            )
    return sections


def _work_url(kind: str, pk: int, link) -> str:
    from django.urls import reverse

    if kind == "task":
        if link:
            return reverse("service_quality:evaluation-detail", args=[link])
        return f"{reverse('service_quality:task-list')}#task-{pk}"
    if kind in ("draft", "dispute"):
        return reverse("service_quality:evaluation-detail", args=[pk])
    return reverse("service_quality:coaching-detail", args=[pk])
