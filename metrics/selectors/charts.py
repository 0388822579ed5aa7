"""The live charts and tables read from the records: the complaint Pareto, training by department,
complaints per product."""

from __future__ import annotations

from django.db.models import Count

from metrics import batch, kpis
from metrics.kpis import KpiFilters, Period, ratio


def _received_in(period: Period, filters: KpiFilters):
    from complaints.models import Complaint

    return Complaint.objects.filter(filters.complaint_q(), received_at__gte=period.start_at, received_at__lt=period.end_at)


def _complaints_by_category_and_product(period: Period, filters: KpiFilters):
    """Complaints received in the period per (category, product): the Pareto chart and the
    product table in one grouped query. Grouped by the ids alone (named by _named_received):
    joining each complaint to its category and product before grouping cost as much again."""
    return _received_in(period, filters).order_by().values("category_id", "product_id").annotate(count=Count("id"))


def _category_and_product_names() -> dict:
    from complaints.models import Category, Product

    return {
        "categories": Category.objects.order_by().values("id", "name"),
        "products": Product.objects.order_by().values("id", "code", "name"),
    }


def _named_received(rows: list[dict], categories: list[dict], products: list[dict]) -> list[dict]:
    """_complaints_by_category_and_product's rows with the category's name and the product's
    code and name (None where the complaint has none)."""
    category = {c["id"]: c["name"] for c in categories}
    product = {p["id"]: p for p in products}
    return [
        {
            **row, "category__name": category.get(row["category_id"]),
            "product__code": product.get(row["product_id"], {}).get("code"),
            "product__name": product.get(row["product_id"], {}).get("name"),
        }
        for row in rows
    ]


def _pareto(rows: list[dict]) -> list[dict]:
    counts: dict[str, int] = {}
    for row in rows:
        name = row["category__name"] or "Uncategorised"
        counts[name] = counts.get(name, 0) + row["count"]
    total = sum(counts.values())
    running = 0
    result = []
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        running += count
        result.append({
            "category": name, "count": count,
            "cumulative_percent": round(100.0 * running / total, 1) if total else None,
        })
    return result


def category_pareto(period: Period, filters: KpiFilters) -> list[dict]:
    rows = _received_in(period, filters).order_by().values("category__name").annotate(count=Count("id"))
    return _pareto(list(rows))


def _departments(rows: list[dict], trainees: list[dict], i: int = 0) -> list[dict]:
    """Per department, for the i-th period, from kpis.training_by_trainee rows and
    kpis.trainee_departments rows."""
    department_of = {row["id"]: row["department__name"] or "No department" for row in trainees}
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(department_of.get(row["user_id"], "No department"), {"in_force": 0, "done": 0, "overdue": 0})
        for name in ("in_force", "done", "overdue"):
            total[name] += row[f"{name}__{i}"]
    result = [
        {"department": name, **total, "rate": _one(ratio(total["done"], total["in_force"]))}
        for name, total in totals.items()
        if total["in_force"]
    ]
    return sorted(result, key=lambda r: (r["department"] == "No department", r["department"]))


def training_by_department(period: Period, filters: KpiFilters, *, now=None) -> list[dict]:
    rows = batch.fetch({
        "training": kpis.training_by_trainee([period], filters, now), "trainees": kpis.trainee_departments(),
    })
    return _departments(rows["training"], rows["trainees"])


def _product_rows(units_rows: list[dict], complaint_rows: list[dict], i: int = 0) -> list[dict]:
    """Complaints and units shipped per product (units of the i-th period of the units rows)."""
    units = {r["product_id"]: r for r in units_rows if r[f"units__{i}"] is not None}
    complaints: dict[int, dict] = {}
    for r in complaint_rows:
        if r["product_id"] is None:
            continue
        entry = complaints.setdefault(r["product_id"], {**r, "count": 0})
        entry["count"] += r["count"]
    rows = []
    for product_id in set(units) | set(complaints):
        source = complaints.get(product_id) or units[product_id]
        count = complaints.get(product_id, {}).get("count", 0)
        shipped = units[product_id][f"units__{i}"] if product_id in units else None
        rows.append({
            "code": source["product__code"], "name": source["product__name"], "complaints": count, "units": shipped,
            "rate": ratio(count, shipped, 1000.0) if shipped else None,
        })
    return sorted(rows, key=lambda r: (-(r["rate"] or -1), -r["complaints"], r["code"]))


def product_rates(period: Period, filters: KpiFilters) -> list[dict]:
    """Complaints and units shipped per product over the period (two grouped queries)."""
    units = list(kpis.shipped_units_by_product([period], filters))
    complaints = list(
        _received_in(period, filters).filter(product__isnull=False).order_by()
        .values("category__name", "product_id", "product__code", "product__name").annotate(count=Count("id"))
    )
    return _product_rows(units, complaints)


def _one(value):
    """A rate or mean in the frozen pack: one decimal, None for no data."""
    return None if value is None else round(float(value), 1)
