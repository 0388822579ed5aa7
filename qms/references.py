"""Human references such as CMP-2026-00042 (docs/architecture.md "Identifiers and names").

One upsert on the counter row: PostgreSQL (and SQLite) lock the row until the creating
transaction ends, so concurrent creates queue up instead of colliding, and a rolled-back create
gives its number back: no duplicates and no gaps.
"""

from django.db import connection, transaction
from django.utils import timezone

from qms.models import ReferenceCounter

UPSERT = (
    "INSERT INTO qms_referencecounter (prefix, year, last) VALUES (%s, %s, 1) "
    "ON CONFLICT (prefix, year) DO UPDATE SET last = qms_referencecounter.last + 1 RETURNING last"
)
assert ReferenceCounter._meta.db_table == "qms_referencecounter"


def next_number(prefix: str, year: int = 0) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate references inside the transaction that creates the record")
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [prefix, year])
        return cursor.fetchone()[0]


def allocate_reference(prefix: str, *, width: int = 5, per_year: bool = True, at=None) -> str:
    """CMP-2026-00042 (per_year) or SOP-014 (not per year)."""
    if per_year:
        year = timezone.localdate(at).year if at else timezone.localdate().year
        return f"{prefix}-{year}-{next_number(prefix, year):0{width}d}"
    return f"{prefix}-{next_number(prefix, 0):0{width}d}"
