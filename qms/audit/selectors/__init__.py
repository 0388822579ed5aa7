"""The audit trail as one list across every history table, the signatures and the security
events, newest first.

Cost (docs/architecture.md rule 6): a page costs one UNION ALL of (source, key, at) across the
filtered tables, each arm ordered by its date index and limited to the page (no COUNT of the
trail); then one query for the rows of every table on the page (with the rows they are
diffed against and their many-to-many sets, see qms.audit.rows), and at most three for the
objects their changes name. None of these grows with the number of entries on the page, the
number of tables it spans, or the size of the tables.
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from qms.audit.selectors.filters import (
    HISTORY_TYPE_FILTERS,
    SECURITY_TYPE,
    SIGNATURE_TYPE,
    TrailFilter,
    record_match,
    record_type_label,
    record_types,
    resolve_names,
)
from qms.audit.selectors.record import (
    actions_for_filter,
    mark_signatures,
    record_history,
    signatures_and_transitions,
    signatures_with_checks,
)
from qms.audit.selectors.sources import (
    HistorySource,
    SecuritySource,
    SignatureSource,
    trail_sources,
)
from qms.audit.selectors.trail import (
    _CURSOR,
    _EPOCH,
    AuditTrail,
    TrailPage,
    audit_trail,
    decode_cursor,
    encode_cursor,
)
