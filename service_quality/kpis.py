"""The service-quality KPIs (sq_*: quality score, critical fails, coverage, coaching on time),
computed from this app's tables with the KPI engine of metrics (metrics.kpis) and registered
into it (ServiceQualityConfig.ready): the metrics dashboard, snapshots and alerts read them with
the others, and the service-quality dashboard fetches the same parts, so its figures are these."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet, Sum

from metrics.batch import one_row
from metrics.kpis import KpiValue, Period, _for_each, _round, _span, _split, ratio


def service_quality_aggregates(periods: list[Period]) -> dict[str, QuerySet]:
    """Evaluations submitted, communications and their coverage, coaching due: one row each."""
    from complaints.models import Communication
    from service_quality.models import CoachingRecord, Evaluation

    def evaluations(period):
        submitted = Q(submitted_at__gte=period.start_at, submitted_at__lt=period.end_at)
        return {
            "submitted": Count("id", filter=submitted & Q(score_percent__isnull=False)),
            "score_sum": Sum("score_percent", filter=submitted),
            "critical": Count("id", filter=submitted & Q(is_critical_fail=True)),
            "all_submitted": Count("id", filter=submitted),
        }

    def interactions(period):
        inside = Q(at__gte=period.start_at, at__lt=period.end_at)
        return {
            "entries": Count("id", filter=inside),
            "analysed": Count("id", filter=inside & Q(analysis__isnull=False)),
        }

    def human(period):
        inside = Q(communication__at__gte=period.start_at, communication__at__lt=period.end_at, submitted_at__isnull=False)
        return {"evaluated": Count("communication_id", filter=inside, distinct=True)}

    def coaching(period):
        due = Q(due_on__gte=period.start, due_on__lte=period.end)
        return {"due": Count("id", filter=due), "on_time": Count("id", filter=due & Q(acknowledged_at__date__lte=F("due_on")))}

    start, end = _span(periods)
    return {
        "sq_evaluations": one_row(Evaluation.objects.filter(submitted_at__gte=start, submitted_at__lt=end), **_for_each(periods, evaluations)),
        "sq_interactions": one_row(Communication.objects.filter(at__gte=start, at__lt=end), **_for_each(periods, interactions)),
        "sq_human": one_row(Evaluation.objects.filter(communication__at__gte=start, communication__at__lt=end), **_for_each(periods, human)),
        "sq_coaching": one_row(
            CoachingRecord.objects.filter(due_on__gte=min(p.start for p in periods), due_on__lte=max(p.end for p in periods)),
            **_for_each(periods, coaching),
        ),
    }


def _service_quality_values(e: dict, i: dict, h: dict, k: dict) -> list[KpiValue]:
    def v(code, value, numerator=None, denominator=None):
        return KpiValue(code, _round(value), _round(numerator), _round(denominator))

    return [
        v("sq_quality_score", ratio(e["score_sum"], e["submitted"], 1.0), e["score_sum"], e["submitted"]),
        v("sq_critical_fail_rate", ratio(e["critical"], e["all_submitted"]), e["critical"], e["all_submitted"]),
        v("sq_auto_coverage", ratio(i["analysed"], i["entries"]), i["analysed"], i["entries"]),
        v("sq_human_coverage", ratio(h["evaluated"], i["entries"]), h["evaluated"], i["entries"]),
        v("sq_coaching_on_time_rate", ratio(k["on_time"], k["due"]), k["on_time"], k["due"]),
    ]


def service_quality_values(rows: dict[str, list[dict]], n: int) -> list[dict[str, KpiValue]]:
    """The sq_* KPIs of each of the n periods from the rows of service_quality_aggregates (also
    fetched by the service-quality dashboard with its own parts, so its figures are these)."""
    sq = [_split(rows[name][0], n) for name in ("sq_evaluations", "sq_interactions", "sq_human", "sq_coaching")]
    return [{value.code: value for value in _service_quality_values(*parts)} for parts in zip(*sq, strict=True)]
