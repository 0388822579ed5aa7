"""The complaints a CAPA addresses are part of its regulated record: their history rows are
hash-chained like every other history row, so a link changed behind the application's back
is caught by the verifier."""

from django.db import connection

from capa import services
from qms.audit.registry import chained_models
from qms.audit.verify import verify_audit_trail
from tests.capa.conftest import make_complaint

TABLE = "capa_historicalcapa_complaints"


def test_the_complaint_link_history_is_chained_and_verified(staff):
    assert TABLE in {model._meta.db_table for model in chained_models()}
    first = make_complaint(actor=staff, title="Seal leaks")
    other = make_complaint(actor=staff, title="Display flickers")
    capa = services.capa_create_from_complaint(complaint=first, actor=staff)
    assert list(capa.complaints.all()) == [first]
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT complaint_id, prev_hash, entry_hash FROM "{TABLE}" ORDER BY m2m_history_id'
        )
        rows = cursor.fetchall()
    assert rows and all(len(entry) == 64 for _complaint, _prev, entry in rows)
    assert verify_audit_trail().is_intact

    # The database owner re-points the link to another complaint, triggers off.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
        cursor.execute(f'UPDATE "{TABLE}" SET complaint_id = %s', [other.pk])
        cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    result = verify_audit_trail()
    assert not result.is_intact
    assert any(b["table"] == TABLE and b["problem"] == "changed" for b in result.breaks)
