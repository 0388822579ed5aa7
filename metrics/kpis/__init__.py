"""The KPI registry (ISO 9001 9.1.1: what is monitored, how it is measured) and its computation.

Every KPI is computed by the database: a handful of aggregate queries, each returning many
KPIs at once (COUNT/SUM/AVG with FILTER clauses, percentile_cont for medians and p90), never a
Python loop over rows. A ratio with an empty denominator is "no data" (None), never a division
by zero (NULLIF in SQL, a check here).

Periods are whole local days [start, end]; "stock" KPIs (open complaints, training compliance,
...) are measured at the end of the period, or now when the period ends in the future.
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from metrics.kpi_registry import (
    API_KEYS,
    COMPLAINT_FILTERS,
    DOWN,
    KPI_BY_CODE,
    KPI_CHOICES,
    KPIS,
    LAST,
    RATIO,
    SUM,
    UP,
    WEIGHTED,
    Kpi,
    format_value,
    is_breached,
)
from metrics.kpis.compute import (
    KPI_SOURCES,
    KpiValue,
    _capa_expressions,
    _complaint_expressions,
    _for_each,
    _kpi_values,
    _round,
    _span,
    _split,
    _sum_per_period,
    capa_aggregates,
    check_aggregates,
    complaint_aggregates,
    complaint_horizon,
    compute_kpis,
    compute_kpis_for,
    documents_overdue,
    first_activity_at,
    kpi_querysets,
    kpis_from_rows,
    ratio,
    register_kpi_source,
    shipped_units_by_product,
    survey_aggregates,
    trainee_departments,
    training_by_trainee,
    training_stock_q,
)
from metrics.kpis.periods import NO_FILTERS, KpiFilters, Period, _local_midnight
from metrics.kpis.sql import HoursBetween, Percentile, _at
