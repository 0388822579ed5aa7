"""Agreement between raters (calibration, automatic vs human): share of agreement and Cohen's
kappa, from a contingency table counted in the database (pure functions here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """kappa = (p_o - p_e) / (1 - p_e) over (rater A, rater B) answer pairs, each pair weighted
    by its count when given as ((a, b), n) rows via `kappa_from_counts`. None without pairs;
    1.0 when both raters agree on everything even if they used one answer only (p_e = 1)."""
    return kappa_from_counts(Counter(pairs))


def kappa_from_counts(counts: dict[tuple[str, str], int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    observed = sum(n for (a, b), n in counts.items() if a == b) / total
    left, right = Counter(), Counter()
    for (a, b), n in counts.items():
        left[a] += n
        right[b] += n
    expected = sum(left[k] * right.get(k, 0) for k in left) / (total * total)
    if expected == 1:
        return 1.0
    return (observed - expected) / (1 - expected)


def share_agreed(counts: dict[tuple[str, str], int]) -> float | None:
    total = sum(counts.values())
    return sum(n for (a, b), n in counts.items() if a == b) / total if total else None


def auto_vs_human(scorecard_ids=None) -> list[dict]:
    """Per automatic criterion: pairs, share of agreement and kappa between the automatic answer
    and the human answer of submitted evaluations of the same interaction (one GROUP BY query)."""
    from django.db.models import Count, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from service_quality.models import AutoScore, Criterion, Score
    from service_quality.workflow import EvaluationStatus

    human = (
        Score.objects.filter(
            criterion=OuterRef("criterion"),
            evaluation__status__in=[EvaluationStatus.SUBMITTED, EvaluationStatus.UPHELD],
            evaluation__complaint=OuterRef("analysis__complaint"),
            evaluation__kind=OuterRef("analysis__kind"),
        )
        .annotate(entry=Coalesce("evaluation__communication_id", Value(0)))
        .filter(entry=Coalesce(OuterRef("analysis__communication_id"), Value(0)))
        .order_by("-evaluation__submitted_at")
        .values("answer")[:1]
    )
    rows = AutoScore.objects.annotate(human=Subquery(human)).filter(human__isnull=False)
    if scorecard_ids is not None:
        rows = rows.filter(criterion__scorecard_id__in=scorecard_ids)
    counts: dict[int, Counter] = {}
    for row in rows.values("criterion_id", "answer", "human").annotate(n=Count("pk")).order_by():
        counts.setdefault(row["criterion_id"], Counter())[(row["answer"], row["human"])] += row["n"]
    labels = dict(Criterion.objects.filter(pk__in=counts).values_list("pk", "label"))
    return [
        {
            "criterion": pk,
            "label": labels.get(pk, ""),
            "pairs": sum(c.values()),
            "agreement": share_agreed(c),
            "kappa": kappa_from_counts(c),
        }
        for pk, c in sorted(counts.items())
    ]
