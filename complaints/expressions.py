"""SQL expressions over a complaint that both queries and indexes use.

An expression index only serves a query whose expression is written exactly like the index's,
so each expression below is built in one place: the model's Meta.indexes and the selectors
(complaints.selectors, metrics.kpis) both call these functions.
"""

import datetime

from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest

from complaints.workflow import ComplaintStatus

# The states in which the resolution clock runs (it stops while awaiting the customer).
WORKED_ON = (ComplaintStatus.NEW, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING)

# The far future, for complaints that are still unresolved (a KPI of any period may count them).
UNRESOLVED = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)


def next_deadline():
    """The deadline that matters now: first response while new, resolution while worked on.
    The list sorted by deadline reads it from complaints_deadline_idx."""
    return Case(
        When(status=ComplaintStatus.NEW, then=F("first_response_due")),
        When(status__in=WORKED_ON, then=F("resolution_due")),
        default=None,
        output_field=DateTimeField(),
    )


def kpi_horizon():
    """For each complaint, the latest moment at which a KPI can still see it: its latest event
    or deadline (received, acknowledged, resolved, first-response due, resolution due), or the
    far future while it is unresolved and not rejected (open complaints are a stock that every
    period counts). A complaint whose horizon is before a period (and before the moment stock
    KPIs are measured) takes part in none of that period's KPIs, so the KPI query reads only
    the complaints with `horizon >= start` (a range scan of complaints_kpi_horizon_idx), not
    all history."""
    received = F("received_at")
    # Coalesce: SQLite's MAX() (make run) gives NULL when any argument is NULL; PostgreSQL's
    # GREATEST ignores NULLs. Every event is at or after receipt, so this changes nothing.
    return Greatest(
        received,
        *(Coalesce(name, received) for name in ("acknowledged_at", "resolved_at", "first_response_due", "resolution_due")),
        Case(
            When(Q(resolved_at__isnull=True) & ~Q(status=ComplaintStatus.REJECTED), then=Value(UNRESOLVED)),
            default=received,
            output_field=DateTimeField(),
        ),
    )
