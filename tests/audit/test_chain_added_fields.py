"""Upgrading a database keeps its chains verifiable (decision 0040).

A column added by a migration to a chained history table is absent from the content the rows
written before it were hashed with; after the upgrade those rows read NULL, "" or {} in it. The
verifier accepts the hash of the content without the model's `chain_added_fields` where they
read back absent, and never where they hold a value. The three many-to-many histories were
chained after they held rows: a run of rows without hashes at the start of the table is
"written before the chain began", anywhere else a break.

The first test reads the migrations, so that the next column added to a chained history table
cannot be forgotten."""

import pytest
from django.apps import apps
from django.db.migrations import AddField, CreateModel, RemoveField, RenameField
from django.db.migrations.loader import MigrationLoader

from capa.models import Capa, CapaAction
from complaints.models import Complaint
from qms.audit.registry import chained_models
from qms.audit.verify import verify_table
from qms.history import ABSENT_VALUES, chain_content, chain_hash
from tests.audit.test_verify import as_database_owner
from tests.capa.conftest import make_capa, make_complaint

pytestmark = pytest.mark.django_db


def _history_operations():
    """(app label, migration, operation) of every field operation on a historical model."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    created = {}
    for app_label, name in sorted(loader.graph.nodes):
        for operation in loader.graph.nodes[(app_label, name)].operations:
            if isinstance(operation, CreateModel):
                created[(app_label, operation.name_lower)] = name
            elif getattr(operation, "model_name_lower", "").startswith("historical"):
                yield app_label, name, operation, created.get((app_label, operation.model_name_lower)) == name


def _chained_history_model(app_label, model_name):
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    return model if model in chained_models() else None


def test_every_column_added_to_a_chained_history_table_is_named():
    checked = 0
    for app_label, migration, operation, same_migration in _history_operations():
        model = _chained_history_model(app_label, operation.model_name)
        if model is None or same_migration:
            continue
        where = f"{app_label}.{migration} on {model._meta.db_table}"
        # Removing or renaming a column would change the content every older row was hashed with.
        assert not isinstance(operation, RemoveField | RenameField), f"{where}: chained history never loses a column"
        if not isinstance(operation, AddField):
            continue
        checked += 1
        added = getattr(model, "chain_added_fields", frozenset())
        assert operation.name in added, (
            f"{where} adds {operation.name!r}: name it in the model's regulated_history(chain_added_fields=...)"
        )
        field = operation.field
        if field.has_default():
            default = field.default() if callable(field.default) else field.default
            reads_absent = field.null or default in ABSENT_VALUES
        else:  # the schema editor fills the rows already there with NULL or ""
            reads_absent = field.null or field.empty_strings_allowed
        assert reads_absent, f"{where}: older rows must read {operation.name!r} as NULL, '' or {{}}"
    assert checked >= 10  # the ones this test was written against (complaints, CAPA, the m2m chains)


def _legacy_row(model, record):
    """Make the newest history row of `record` look as an upgrade leaves a row written before
    the added columns existed: those columns read absent, the hash covers the rest."""
    row = model._base_manager.filter(id=record.pk).order_by("-history_id").first()
    absent = {}
    for name in model.chain_added_fields:
        field = model._meta.get_field(name)
        absent[field.column] = "'{}'::jsonb" if field.get_internal_type() == "JSONField" else (
            "NULL" if field.null else "''"
        )
        setattr(row, field.attname, {} if field.get_internal_type() == "JSONField" else (None if field.null else ""))
    legacy_hash = chain_hash(chain_content(row, before_added_fields=True))
    assert legacy_hash != chain_hash(chain_content(row))
    sets = ", ".join(f'"{column}" = {value}' for column, value in absent.items())
    table = model._meta.db_table
    as_database_owner(table, f"UPDATE {table} SET {sets}, entry_hash = '{legacy_hash}' WHERE history_id = {row.pk}")
    return row


@pytest.fixture
def records(staff):
    complaint = make_complaint(actor=staff)
    capa = make_capa(actor=staff)
    from capa import services

    services.capa_transition(capa, "start_investigation", actor=staff)
    action = services.action_create(capa, actor=staff, action_type="fix", description="Swap the seals", owner=staff,
        due_date=capa.due_date,
    )
    return {Complaint: complaint, Capa: capa, CapaAction: action}


@pytest.mark.parametrize("tracked", [Complaint, Capa, CapaAction], ids=lambda m: m.__name__)
def test_a_row_written_before_the_columns_were_added_still_verifies(records, tracked):
    model = tracked.history.model
    # Only this record's rows, the newest last: the legacy row is the table's newest row.
    _legacy_row(model, records[tracked])
    result = verify_table(model)
    assert result.first_break is None, result.first_break


@pytest.mark.parametrize("tracked", [Complaint, Capa, CapaAction], ids=lambda m: m.__name__)
def test_without_the_named_columns_the_same_row_is_a_break(records, tracked, monkeypatch):
    model = tracked.history.model
    _legacy_row(model, records[tracked])
    monkeypatch.setattr(model, "chain_added_fields", frozenset())
    assert verify_table(model).first_break is not None


def test_an_added_column_holding_a_value_is_always_covered(records):
    model = Complaint.history.model
    row = _legacy_row(model, records[Complaint])
    table = model._meta.db_table
    # Someone puts a value into the added column of the old row and keeps its hash: caught.
    as_database_owner(table, f"UPDATE {table} SET recurrence_key = 'product=1|failure_mode=9' WHERE history_id = {row.pk}")
    result = verify_table(model)
    assert result.first_break is not None and result.first_break["row_id"] == row.pk


def test_rows_from_before_the_m2m_chain_began_are_counted_not_broken(staff):
    from capa import services

    model = apps.get_model("capa", "HistoricalCapa_complaints")
    for i in range(2):
        services.capa_create_from_complaint(complaint=make_complaint(actor=staff, title=f"Seal leak {i}"), actor=staff)
    rows = list(model._base_manager.order_by("pk"))
    assert len(rows) >= 2, "each CAPA's complaint link is history"
    table, pk = model._meta.db_table, model._meta.pk.column
    # The upgrade leaves the first row as it was written before the chain began: no hashes; the
    # first row chained after the upgrade links to nothing (chain_link_rows found "").
    statements = [f"UPDATE {table} SET prev_hash = '', entry_hash = '' WHERE {pk} = {rows[0].pk}"]
    previous = ""
    for row in rows[1:]:
        row.prev_hash = previous
        row.entry_hash = previous = chain_hash(chain_content(row))
        statements.append(
            f"UPDATE {table} SET prev_hash = '{row.prev_hash}', entry_hash = '{row.entry_hash}' WHERE {pk} = {row.pk}"
        )
    as_database_owner(table, *statements)
    result = verify_table(model)
    assert result.first_break is None, result.first_break
    assert result.unchained_before_chain == 1 and result.rows == len(rows)

    # A row without hashes after the first chained row is a break.
    later = services.capa_create_from_complaint(complaint=make_complaint(actor=staff, title="Later"), actor=staff)
    newest = model._base_manager.filter(capa_id=later.pk).order_by("-pk").first()
    as_database_owner(table, f"UPDATE {table} SET prev_hash = '', entry_hash = '' WHERE {pk} = {newest.pk}")
    assert verify_table(model).first_break["row_id"] == newest.pk
