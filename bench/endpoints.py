"""What is measured: one list shared by the in-process query count and the HTTP client.

Each endpoint is (name, method, path, expected status, form builder). The ids come from the
seeder's summary (seed.json). POSTs: the create form logs a new complaint each time; the
transition form moves one complaint between "investigating" and "awaiting customer", so
every request is a real workflow step (each HTTP client works on its own complaint).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

LIST_FILTER = "?open=true&severity=high&ordering=deadline"

# Our page -> the django-helpdesk page it is compared with (names in the peer's bench_http.py).
PEER_PAIRS = {
    "complaint_list": "ticket_list_html",
    "complaint_api_list": "ticket_list_json",
    "complaint_detail": "ticket_detail",
    "dashboard": "dashboard",
    "complaint_create": "ticket_create_post",
}
TRANSITION_CYCLE = ("wait_for_customer", "resume")
CREATE_TITLE = "BENCH-CREATE"


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    ok: tuple = (200,)
    form: object = None  # callable(i, complaint_id) -> dict for POSTs
    http: bool = True  # measured over HTTP too (some are only counted in-process)
    note: str = ""
    extra: dict = field(default_factory=dict)


def create_form(i: int, meta: dict) -> dict:
    now = dt.datetime.now(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")  # the form reads local time
    return {
        "title": f"{CREATE_TITLE} {i} label printer jammed on line 3",
        "description": "Customer reports that the labels are misaligned and the printer jams after about 40 labels. Batch 2026-11-A.",
        "customer": str(meta["customer_id"]),
        "channel": "email",
        "product": str(meta["product_id"]),
        "lot_number": "L2026-11",
        "udi": "",
        "category": "",
        "severity": "medium",
        "assignee": str(meta["manager"]["id"]),
        "received_at": now,
        "investigation_required": "",
        "no_investigation_reason": "",
        "is_reportable": "",
        "reportability_reason": "",
        "new_customer_name": "",
        "new_customer_organisation": "",
        "new_customer_email": "",
        "new_customer_phone": "",
    }


def transition_form(step: int) -> dict:
    return {"action": TRANSITION_CYCLE[step % 2], "reason": ""}


# Words the seed writes into complaint titles and communications (bench/seed.py WORDS_PROBLEM).
TRAIL_SEARCH = "q=alarm+does+not+sound"
# A word the seed writes only into complaint descriptions, in one complaint of 16
# (bench/seed.py FOUND_DURING): full-text search, ranked (issue 18 item 7).
COMPLAINT_SEARCH = "search=sterilisation"


def kpi_period(days: int) -> str:
    """The KPI API's query for the `days` up to today (the seed's data ends today)."""
    today = dt.date.today()
    return f"?from={today - dt.timedelta(days=days)}&to={today}"


def endpoints(meta: dict) -> list[Endpoint]:
    detail = meta["detail_complaint"]
    return [
        Endpoint("complaint_list", "GET", "/complaints/"),
        Endpoint("complaint_list_filtered", "GET", "/complaints/" + LIST_FILTER, note="open, high severity, by deadline"),
        Endpoint("complaint_list_page_40", "GET", "/complaints/?page=40", http=False, note="a deep page"),
        Endpoint("complaint_api_list", "GET", "/api/v1/complaints/"),
        Endpoint("complaint_api_filtered", "GET", "/api/v1/complaints/" + LIST_FILTER),
        Endpoint("complaint_api_page_size_200", "GET", "/api/v1/complaints/?page_size=200", http=False, note="largest page"),
        Endpoint("complaint_detail", "GET", f"/complaints/{detail}/"),
        Endpoint("dashboard", "GET", "/metrics/", note="figures kept up to METRICS_DASHBOARD_CACHE_SECONDS (60 s)"),
        Endpoint("dashboard_recompute", "GET", "/metrics/?refresh=1", note="figures computed afresh on every request"),
        Endpoint("audit_trail", "GET", "/audit/"),
        # Free text over every history table, signatures and security events (issue 15 item 6:
        # 2.6 s at 100k when it was measured by hand; the target is a p50 under 300 ms).
        Endpoint("audit_trail_search", "GET", "/audit/?" + TRAIL_SEARCH, note="free text (?q=) across the whole trail"),
        Endpoint("audit_trail_api_search", "GET", "/api/v1/audit-trail/?" + TRAIL_SEARCH.replace("q=", "search="), http=False,
                 note="the same search through the API"),
        # The list searched for a word of the descriptions (issue 18 item 7: p50 under 100 ms at 100k).
        Endpoint("complaint_list_search", "GET", "/complaints/?" + COMPLAINT_SEARCH, note="full text, ranked, a word only descriptions hold"),
        Endpoint("complaint_api_search", "GET", "/api/v1/complaints/?" + COMPLAINT_SEARCH, note="the same search through the API"),
        Endpoint("training_matrix", "GET", "/training/matrix/"),
        Endpoint("my_work", "GET", "/", note="My work: everything waiting for the bench manager"),
        Endpoint("kpi_api_90d", "GET", "/api/v1/metrics/kpis/" + kpi_period(90), note="every KPI over the last 90 days"),
        Endpoint("kpi_api_2y", "GET", "/api/v1/metrics/kpis/" + kpi_period(730), note="every KPI over the last 2 years"),
        Endpoint("complaint_create", "POST", "/complaints/new/", ok=(302,), form="create"),
        Endpoint("complaint_transition", "POST", "/complaints/{id}/transition/", ok=(302,), form="transition"),
    ]
