"""The service-quality dashboard (issue 17 item 7): quality score per person, team and criterion
week by week, the critical-fail rate, the share of interactions evaluated automatically and by
people, coaching on time, and how the quality score goes with the customers' CSAT and NPS.

Reads only, scoped like every evaluation read (selectors.evaluation_visibility): people see
their own figures, team leads their team's, Quality Managers and Auditors everyone's. Every
part is an ordinary queryset, sent to PostgreSQL in one statement (metrics.batch), so the page
costs the same few queries whatever the data size. The registry's KPIs (metrics.kpis) give the
organisation-wide figures, so this page and the dashboard's tiles never disagree.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from metrics import batch
from metrics.kpis import Period
from service_quality.kpis import service_quality_aggregates, service_quality_values
from service_quality.models import Evaluation, Score
from service_quality.permissions import sees_all_evaluations
from service_quality.selectors import evaluation_visibility
from service_quality.workflow import EvaluationStatus

WEEK_CHOICES = (4, 8, 12, 26, 52)
DEFAULT_WEEKS = 12
MAX_PEOPLE = 50  # rows of the per-person table (lowest mean first); the rest by team filter
SCORED = (EvaluationStatus.SUBMITTED, EvaluationStatus.DISPUTED, EvaluationStatus.UPHELD)


# --- correlation (pure functions) ------------------------------------------------------------------


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None with fewer than 3 pairs or when either side does not vary."""
    n = len(xs)
    if n < 3 or n != len(ys):
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties given the mean of their ranks (as Spearman's rho needs)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho: Pearson's r of the ranks (ties averaged)."""
    if len(xs) < 3 or len(xs) != len(ys):
        return None
    return pearson(ranks(xs), ranks(ys))


def strength(r: float | None) -> str:
    if r is None:
        return "not enough data"
    size = abs(r)
    word = (
        "no"
        if size < 0.1
        else "a weak"
        if size < 0.3
        else "a moderate"
        if size < 0.5
        else "a strong"
    )
    if word == "no":
        return "no correlation"
    return f"{word} {'positive' if r > 0 else 'negative'} correlation"


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Filters:
    weeks: int = DEFAULT_WEEKS
    scorecard: str = ""  # a scorecard code: every revision of it
    department: int | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field: message (then its default)

    @classmethod
    def from_query(cls, data) -> Filters:
        filters = cls()
        raw = (data.get("weeks") or "").strip()
        if raw:
            if raw.isdigit() and int(raw) in WEEK_CHOICES:
                filters.weeks = int(raw)
            else:
                filters.errors["weeks"] = (
                    f"Weeks: choose one of {', '.join(map(str, WEEK_CHOICES))}; showing {DEFAULT_WEEKS}."
                )
        code = (data.get("scorecard") or "").strip()
        if code:
            if len(code) <= 20 and code.replace("-", "").isalnum():
                filters.scorecard = code
            else:
                filters.errors["scorecard"] = (
                    "Scorecard: not a scorecard code; showing every scorecard."
                )
        raw = (data.get("department") or "").strip()
        if raw:
            if raw.isdigit() and len(raw) < 10:
                filters.department = int(raw)
            else:
                filters.errors["department"] = "Team: not a team; showing every team."
        return filters


def _period(weeks: int, today: datetime.date) -> Period:
    """Whole weeks, Monday to Sunday, the last one holding today."""
    monday = today - datetime.timedelta(days=today.weekday())
    return Period(monday - datetime.timedelta(weeks=weeks - 1), today)


def _scoped(user, filters: Filters, period: Period):
    queryset = Evaluation.objects.filter(
        status__in=SCORED,
        submitted_at__gte=period.start_at,
        submitted_at__lt=period.end_at,
    )
    visible = evaluation_visibility(user)
    if visible is not None:
        queryset = queryset.filter(visible)
    if filters.scorecard:
        queryset = queryset.filter(scorecard__code=filters.scorecard)
    if filters.department is not None:
        queryset = queryset.filter(subject__department_id=filters.department)
    return queryset


def _week(field_name: str):
    return TruncWeek(field_name, output_field=DateField())


def _points():
    """A score's share of its weight, in percent, as scoring.fraction: yes 100, no 0, 1-5 as
    (n - 1) x 25; not applicable counts nowhere (NULL)."""
    five = [When(answer=str(n), then=Value((n - 1) * 25)) for n in range(1, 6)]
    return Case(
        When(answer="yes", then=Value(100)),
        When(answer="no", then=Value(0)),
        *five,
        default=None,
        output_field=IntegerField(),
    )


def _latest_survey(field_name: str):
    from complaints.models import Survey

    return Subquery(
        Survey.objects.filter(complaint=OuterRef("complaint_id"), answered_at__isnull=False)
        .order_by("-answered_at", "-id")
        .values(field_name)[:1]
    )


def dashboard_querysets(user, filters: Filters, period: Period) -> dict:
    from qms.models import Department
    from service_quality.models import Scorecard

    scoped = _scoped(user, filters, period)
    by_person = (
        scoped.annotate(week=_week("submitted_at"))
        .values(
            "week",
            "subject_id",
            "subject__first_name",
            "subject__last_name",
            "subject__username",
            "subject__department_id",
            "subject__department__name",
        )
        .annotate(
            n=Count("id"),
            scored=Count("id", filter=Q(score_percent__isnull=False)),
            mean=Avg("score_percent"),
            critical=Count("id", filter=Q(is_critical_fail=True)),
        )
        .order_by()
    )
    by_criterion = (
        Score.objects.filter(evaluation__in=scoped.values("pk"))
        .annotate(week=_week("evaluation__submitted_at"), points=_points())
        .values("week", "criterion__label", "criterion__scorecard__code", "criterion__is_critical")
        .annotate(
            answered=Count("id", filter=Q(points__isnull=False)),
            mean=Avg("points"),
            failed=Count("id", filter=Q(answer__in=["no", "1", "2"])),
        )
        .order_by()
    )
    by_complaint = (
        scoped.filter(score_percent__isnull=False)
        .values("complaint_id")
        .annotate(
            score=Cast(Avg("score_percent"), DecimalField(max_digits=7, decimal_places=2)),
            csat=_latest_survey("csat"),
            nps=_latest_survey("nps"),
        )
        .filter(csat__isnull=False)
        .order_by()
    )
    return {
        "people": by_person,
        "criteria": by_criterion,
        "complaints": by_complaint,
        "scorecards": Scorecard.objects.order_by("code", "-revision").values(
            "code", "revision", "name"
        ),
        "departments": Department.objects.order_by("name").values("id", "name"),
        **(service_quality_aggregates([period]) if sees_all_evaluations(user) else {}),
    }


def _newest_revisions(rows) -> list[dict]:
    newest = {}
    for row in sorted(rows, key=lambda r: (r["code"], -r["revision"])):
        newest.setdefault(row["code"], row)
    return list(newest.values())


def _week_labels(period: Period) -> list[datetime.date]:
    """The Mondays of the period's weeks (the period starts on a Monday)."""
    return [period.start + datetime.timedelta(weeks=i) for i in range(math.ceil(period.days / 7))]


def _series(rows, weeks, key, *, count="n", mean="mean"):
    """{group key: {"label", "weeks": [mean or None per week], "n", "mean"}} from grouped
    rows (means weighted by their counts when several rows fall in one group and week)."""
    groups: dict = {}
    for row in rows:
        group_key, label = key(row)
        group = groups.setdefault(
            group_key,
            {"key": group_key, "label": label, "sum": defaultdict(float), "cnt": defaultdict(int)},
        )
        if row[mean] is not None and row[count]:
            week = batch.as_date(row["week"])
            group["sum"][week] += float(row[mean]) * row[count]
            group["cnt"][week] += row[count]
    result = []
    for group in groups.values():
        total_n = sum(group["cnt"].values())
        total = sum(group["sum"].values())
        result.append(
            {
                "key": group["key"],
                "label": group["label"],
                "weeks": [
                    round(group["sum"][w] / group["cnt"][w], 1) if group["cnt"][w] else None
                    for w in weeks
                ],
                "n": total_n,
                "mean": round(total / total_n, 1) if total_n else None,
            }
        )
    return sorted(result, key=lambda g: (g["mean"] is None, g["mean"] or 0, g["label"]))


def _correlation(rows) -> list[dict]:
    pairs = [(float(r["score"]), r["csat"], r["nps"]) for r in rows if r["score"] is not None]
    scores = [p[0] for p in pairs]
    result = []
    for label, index, scale in (("CSAT", 1, "1-5"), ("NPS answer", 2, "0-10")):
        values = [float(p[index]) for p in pairs]
        r, rho = pearson(scores, values), spearman(scores, values)
        result.append(
            {
                "label": label,
                "scale": scale,
                "n": len(pairs),
                "pearson": None if r is None else round(r, 2),
                "spearman": None if rho is None else round(rho, 2),
                "reading": strength(rho),
            }
        )
    return result


def service_quality_dashboard(user, filters: Filters, *, today=None) -> dict:
    today = today or timezone.localdate()
    period = _period(filters.weeks, today)
    rows = batch.fetch(dashboard_querysets(user, filters, period))
    weeks = _week_labels(period)
    people = rows["people"]

    def person(row):
        name = f"{row['subject__first_name']} {row['subject__last_name']}".strip()
        return row["subject_id"], name or row["subject__username"]

    def team(row):
        return row["subject__department_id"] or 0, row["subject__department__name"] or "No team"

    def overall(row):
        return "all", "All evaluations"

    n = sum(r["n"] for r in people)
    critical = sum(r["critical"] for r in people)
    per_week = {}
    for row in people:
        week = per_week.setdefault(batch.as_date(row["week"]), [0, 0])
        week[0] += row["critical"]
        week[1] += row["n"]
    critical_weeks = [
        round(100 * per_week[w][0] / per_week[w][1], 1) if w in per_week else None for w in weeks
    ]
    persons = _series(people, weeks, person, count="scored")
    teams = _series(people, weeks, team, count="scored")
    total = _series(people, weeks, overall, count="scored")
    criteria = _series(
        rows["criteria"],
        weeks,
        lambda r: (
            (r["criterion__scorecard__code"], r["criterion__label"]),
            f"{r['criterion__label']} ({r['criterion__scorecard__code']})",
        ),
        count="answered",
    )
    failed = defaultdict(int)
    for row in rows["criteria"]:
        failed[(row["criterion__scorecard__code"], row["criterion__label"])] += row["failed"]
    for group in criteria:
        group["failed"] = failed[group["key"]]
    kpis = (
        {v.code: v for v in service_quality_values(rows, 1)[0].values()}
        if "sq_evaluations" in rows
        else None
    )
    labels = [f"{w:%d %b}" for w in weeks]
    for group in (*persons, *teams, *criteria):
        group["cells"] = list(zip(labels, group["weeks"], strict=True))
    score_lines = [{"label": g["label"], "data": g["weeks"]} for g in total + teams[:5]]
    charts = {
        "chart-sq-score": {
            "type": "line",
            "labels": labels if n else [],
            "min": 0,
            "max": 100,
            "datasets": score_lines,
        },
        "chart-sq-critical": {
            "type": "bar",
            "unit": "%",
            "labels": labels if n else [],
            "datasets": [{"label": "Critical-fail rate", "data": critical_weeks}],
        },
    }
    return {
        "period": period,
        "weeks": weeks,
        "week_labels": labels,
        "evaluations": n,
        "mean": total[0]["mean"] if total else None,
        "critical": critical,
        "critical_rate": round(100 * critical / n, 1) if n else None,
        "critical_weeks": critical_weeks,
        "persons": persons[:MAX_PEOPLE],
        "person_count": len(persons),
        "teams": teams,
        "criteria": criteria,
        "correlation": _correlation(rows["complaints"]),
        "kpis": kpis,
        "charts": charts,
        "scorecards": _newest_revisions(rows["scorecards"]),
        "departments": sorted(rows["departments"], key=lambda d: d["name"]),
        "sees_all": sees_all_evaluations(user),
    }
