"""The dashboard's KPI tiles: each KPI's value in the period, the period before it and its target."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.kpis import (
    KPI_BY_CODE,
    KPIS,
    UP,
    Kpi,
    KpiFilters,
    KpiValue,
    Period,
    compute_kpis_for,
    format_value,
    is_breached,
)
from metrics.models import KpiTarget


@dataclass
class Tile:
    kpi: Kpi
    current: KpiValue
    previous: KpiValue
    target: KpiTarget | None

    @property
    def formatted(self) -> str:
        return format_value(self.kpi, self.current.value)

    @property
    def counts(self) -> str:
        """What a rate counts, beside it: "0 of 1 due in the period"; for no data, why there is
        none ("nothing fell due in the period"), so that an empty ratio never reads as 0 %."""
        words = RATIO_COUNTS.get(self.kpi.code)
        if words is None:
            return ""
        of, empty = words
        numerator, denominator = self.current.numerator, self.current.denominator
        if not denominator:
            return empty
        return f"{int(numerator or 0):,} of {int(denominator):,} {of}"

    @property
    def previous_formatted(self) -> str:
        return format_value(self.kpi, self.previous.value)

    @property
    def state(self) -> str:
        """ok (target met), warn (between target and threshold), bad (past the threshold)."""
        if self.target is None or self.current.value is None:
            return ""
        if is_breached(self.kpi, self.current.value, self.target.threshold):
            return "bad"
        if is_breached(self.kpi, self.current.value, self.target.target):
            return "warn"
        return "ok"

    @property
    def trend(self) -> str:
        """up / down / flat against the previous period of the same length; "" without data."""
        now, before = self.current.value, self.previous.value
        if now is None or before is None:
            return ""
        if abs(now - before) < 1e-9:
            return "flat"
        return "up" if now > before else "down"

    @property
    def trend_is_good(self) -> bool | None:
        if self.trend in ("", "flat"):
            return None
        return (self.trend == "up") == (self.kpi.direction == UP)

    @property
    def trend_symbol(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶"}.get(self.trend, "")


# For the rates: (what "n of m" counts, what to say when m is 0).
RATIO_COUNTS = {
    "sla_first_response_rate": ("due in the period", "nothing fell due in the period"),
    "sla_resolution_rate": ("due in the period", "nothing fell due in the period"),
    "csat": ("answers scored 4 or 5", "no survey answer in the period"),
    "complaint_recurrence_rate": ("complaints recurring", "no complaint received in the period"),
    "capa_on_time_rate": ("closed by their due date", "no CAPA closed in the period"),
    "capa_effectiveness_rate": ("checks found effective", "no check verified in the period"),
}

TILE_GROUPS = (
    ("Customers", ("csat", "csat_mean", "nps", "ces", "survey_responses")),
    ("Complaint handling", (
        "complaint_volume", "complaint_rate", "complaint_recurrence_rate", "open_complaints", "overdue_complaints",
        "sla_first_response_rate", "sla_resolution_rate", "first_response_hours_median", "first_response_hours_p90",
        "resolution_hours_median", "resolution_hours_p90",
    )),
    ("CAPA", ("capa_on_time_rate", "capa_mean_age_days", "open_capas", "capa_effectiveness_rate")),
    ("Training and documents", ("training_compliance_rate", "overdue_training", "documents_overdue_review")),
    ("Service quality", (
        "sq_quality_score", "sq_critical_fail_rate", "sq_auto_coverage", "sq_human_coverage", "sq_coaching_on_time_rate",
    )),
)
assert {code for _g, codes in TILE_GROUPS for code in codes} == {k.code for k in KPIS}, "every KPI has a tile"


def targets_by_kpi() -> dict[str, KpiTarget]:
    return {t.kpi: t for t in KpiTarget.objects.filter(is_active=True)}


def tile_groups(current: dict[str, KpiValue], previous: dict[str, KpiValue], targets: dict[str, KpiTarget]) -> list:
    return [
        (title, [Tile(KPI_BY_CODE[c], current[c], previous[c], targets.get(c)) for c in codes]) for title, codes in TILE_GROUPS
    ]


def kpi_tiles(period: Period, filters: KpiFilters, *, now=None) -> tuple[list[tuple[str, list[Tile]]], dict[str, KpiValue]]:
    # Both periods in the same statement (FILTER per period), not one set of queries each.
    current, previous = compute_kpis_for([period, period.previous()], filters, now=now)
    return tile_groups(current, previous, targets_by_kpi()), current
