"""Reads of metrics shared by the dashboard, the API, the management review and "My work".

The dashboard costs a fixed number of queries whatever the table sizes (docs/architecture.md rule
6): the live KPIs of the period and of the one before it (one aggregate per table, FILTER per
period, metrics.kpis), the trend buckets from the daily snapshots and the live charts are read
in one statement (metrics.batch), then the targets and the open alerts.

By subject: tiles (the KPI tiles), trends (from the snapshots), charts (live from the records),
dashboard (all of it in one read), mywork (alerts, "My work"), review (the 9.3.2 input pack).
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from metrics.kpis import KpiFilters, KpiValue, Period
from metrics.selectors.charts import (
    _category_and_product_names,
    _complaints_by_category_and_product,
    _departments,
    _named_received,
    _one,
    _pareto,
    _product_rows,
    _received_in,
    category_pareto,
    product_rates,
    training_by_department,
)
from metrics.selectors.dashboard import Dashboard, chart, dashboard
from metrics.selectors.mywork import alert_list, my_work
from metrics.selectors.review import (
    REVIEW_SECTIONS,
    REVIEW_STATUS_LABELS,
    _count,
    _iso,
    review_input_pack,
    review_pack,
    review_status,
)
from metrics.selectors.tiles import (
    RATIO_COUNTS,
    TILE_GROUPS,
    Tile,
    kpi_tiles,
    targets_by_kpi,
    tile_groups,
)
from metrics.selectors.trends import (
    TREND_KPIS,
    LatestValue,
    _bucket_of,
    _trend_point,
    _trend_rows,
    bucket_label,
    kpi_trends,
    last_bucket,
    trend_bucket,
)
