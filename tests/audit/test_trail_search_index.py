"""The trail's free text is an indexed search (issue 15, item 6): one trigram index per history
table over the same expression the search filters on, created after every migrate; LIKE's
wildcards in the text are plain characters; the acting user's name still matches."""

import pytest
from django.db import connection

from qms.audit import registry, search
from qms.audit.selectors import AuditTrail, HistorySource, TrailFilter
from qms.history import set_history
from qms.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes are PostgreSQL's")


def test_every_history_table_has_its_text_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'trail_q_%%'")
        names = {row[0] for row in cursor.fetchall()}
    assert {search.index_name(h) for h in registry.historical_models()} <= names


def test_the_search_is_answered_by_the_index(administrator):
    historical = Department.history.model
    source = HistorySource(historical)
    qs = source.keys(source.queryset(TrailFilter(text="sterile barrier")).order_by(), 0).order_by(
        "-trail_at"
    )[:51]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = qs.explain()
    assert search.index_name(historical) in plan, plan


def test_free_text_matches_case_insensitively_and_wildcards_are_plain_text(administrator):
    for name, reason in (
        ("Sterile Barrier Lab", "Opened"),
        ("Line 100% inspection", "Split"),
        ("Line 1000 inspection", "Split"),
    ):
        department = Department(name=name)
        set_history(department, user=administrator, reason=reason)
        department.save()

    def found(text):
        return sorted(
            {
                e.object_repr
                for e in AuditTrail(TrailFilter(text=text, model="qms.department")).page(50).entries
            }
        )

    assert found("sterile BARRIER") == ["Sterile Barrier Lab"]
    assert found("100%") == ["Line 100% inspection"]
    assert found("1_0") == []
    assert found("administrator") == [
        "Line 100% inspection",
        "Line 1000 inspection",
        "Sterile Barrier Lab",
    ]  # who acted
    assert found("'; DROP TABLE qms_department; --") == []


def test_ensure_search_indexes_is_idempotent_and_replaces_an_outdated_index():
    historical = Department.history.model
    table = historical._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX "trail_q_{table}_outdated" ON "{table}" (history_id)')
    search.ensure_search_indexes()
    search.ensure_search_indexes()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname LIKE 'trail_q_%%'",
            [table],
        )
        assert [row[0] for row in cursor.fetchall()] == [search.index_name(historical)]


def test_signature_and_security_search_is_answered_by_their_indexes(administrator):
    """Issue 19: the signatures' arm of `?q=` read every signature (joined to its signer) at 1M
    complaints; it now filters on the expression of the trigram index of migration qms 0013."""
    from qms.audit.selectors.sources import SecuritySource, SignatureSource

    for source, index in (
        (SignatureSource(), "trail_q_qms_signature"),
        (SecuritySource(), "trail_q_qms_securityevent"),
    ):
        qs = source.keys(source.queryset(TrailFilter(text="alarm does not sound")).order_by(), 0)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = qs.order_by("-trail_at")[:51].explain()
        assert index in plan, plan


def test_signature_found_by_its_reason_and_by_its_signers_user_name(administrator):
    from django.contrib.contenttypes.models import ContentType

    from qms.models import Signature

    department = Department(name="Packaging")
    set_history(department, user=administrator, reason="Opened")
    department.save()
    Signature.objects.create(
        content_type=ContentType.objects.get_for_model(Department),
        object_id=department.pk,
        record_repr="Packaging",
        signer=administrator,
        signer_name="Ada Admin",
        meaning="approval",
        reason="Alarm does not sound on line 3",
        content_hash="0" * 64,
    )

    def signed(text):
        return [
            e.reason
            for e in AuditTrail(TrailFilter(text=text, model="qms.signature")).page(50).entries
        ]

    assert signed("ALARM does not") == ["Alarm does not sound on line 3"]
    assert signed(administrator.get_username()) == ["Alarm does not sound on line 3"]
    assert signed("nothing like it") == []
