"""Record history (docs/architecture.md rule 2) on django-simple-history.

Every regulated model declares `history = qms.history.regulated_history()`. Its historical
rows carry, besides simple-history's user, date and change reason, the workflow action that
produced them (`history_action`, a code such as "approve"; blank for a plain edit).
Historical tables are append-only: their migration ends with `qms.db.MakeAppendOnly`.
"""

import datetime
import decimal
import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import connections, models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_m2m_records, pre_create_historical_record


class HistoryBase(models.Model):
    history_action = models.CharField(max_length=40, blank=True, default="")
    # Tamper evidence (21 CFR 11.10(e)): each row hashes its own content and the hash of the
    # row before it in the same table, so a changed, deleted or inserted row breaks the chain.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True


class ChainedM2MHistoryBase(models.Model):
    """For the history of a tracked many-to-many field (a user's roles): its rows are chained
    like the history rows, so a changed role membership in the past breaks the chain too.
    Opt in with `regulated_history(m2m_fields=[...], m2m_bases=[ChainedM2MHistoryBase])`."""

    prev_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64, blank=True, default="")

    # The three tracked many-to-many histories (roles, CAPA complaint links, KPI owners) were
    # chained after they held rows: rows from before carry no hashes (qms.audit.verify counts
    # them as written before the chain began, when they all precede the first chained row).
    chain_added_fields = frozenset({"prev_hash", "entry_hash"})

    class Meta:
        abstract = True


class RegulatedHistoricalRecords(HistoricalRecords):
    """simple-history's HistoricalRecords, whose historical model knows which of its columns
    were added after the table held rows (`chain_added_fields`, see chain_content). The
    many-to-many history models inherit theirs from ChainedM2MHistoryBase."""

    def __init__(self, *args, chain_added_fields=(), **kwargs):
        self.chain_added_fields = frozenset(chain_added_fields)
        super().__init__(*args, **kwargs)

    def create_history_model(self, model, inherited):
        history_model = super().create_history_model(model, inherited)
        history_model.chain_added_fields = self.chain_added_fields
        return history_model


def regulated_history(*, chain_added_fields=(), **kwargs) -> HistoricalRecords:
    """`chain_added_fields`: the columns a migration added to this model's chained history table
    after it was created (names as on the model). A row written before a column existed was
    hashed without it; the verifier also accepts that hash (decision 0040). Adding a column to
    a chained history table means naming it here; tests/audit/test_chain_added_fields.py reads
    the migrations and fails until it is named."""
    kwargs.setdefault("bases", [HistoryBase])
    return RegulatedHistoricalRecords(chain_added_fields=chain_added_fields, **kwargs)


def set_history(instance, *, user, reason: str = "", action: str = "") -> None:
    """Say who changes `instance`, why, and by which workflow action, before it is saved."""
    instance._history_user = user
    instance._change_reason = reason or ""
    instance._history_action = action or ""


CHAIN_EXCLUDED = {"entry_hash"}  # and the primary key (history_id of a history row)


# What a column added to a table with rows reads back on the rows from before it was added:
# NULL, or the migration's default ("" for text, {} for JSON).
ABSENT_VALUES = (None, "", {}, [])


def chain_content(row, *, before_added_fields: bool = False) -> dict:
    """The values of a history (or other chained) row that its entry_hash covers.

    `before_added_fields`: the content as it was hashed when the row was written before the
    table's `chain_added_fields` existed: those columns are left out where they read back as
    absent. Writers always hash the full content; the verifier accepts either hash, which is
    no weaker: a row whose added column holds a real value matches only the full content."""
    added = getattr(type(row), "chain_added_fields", frozenset()) if before_added_fields else frozenset()
    content = {}
    for field in row._meta.concrete_fields:
        if field.attname in CHAIN_EXCLUDED or field.primary_key:
            continue
        value = _canonical(field, getattr(row, field.attname))
        if (field.name in added or field.attname in added) and _is_absent(value):
            continue
        content[field.attname] = value if value is None or isinstance(value, bool | int | float | str | dict | list) else str(value)
    return content


def _is_absent(value) -> bool:
    return value is None or (not isinstance(value, bool | int | float) and value in ABSENT_VALUES)


def chain_verifies(row) -> bool:
    """Does the row's entry_hash cover its stored content (as written, or as written before the
    table's added columns existed)?"""
    if chain_hash(chain_content(row)) == row.entry_hash:
        return True
    return bool(getattr(type(row), "chain_added_fields", None)) and (
        chain_hash(chain_content(row, before_added_fields=True)) == row.entry_hash
    )


def _canonical(field, value):
    """The value as it reads back from the database, so that the hash computed before the
    INSERT equals the one the verifier (issue 8) computes from the stored row: JSON stays JSON
    (hashed with sorted keys), datetimes in UTC, decimals at the column's scale, "5" -> 5."""
    if value is None or isinstance(value, dict | list):
        return value
    try:
        value = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return value
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = value.astimezone(datetime.UTC)
    elif isinstance(value, decimal.Decimal) and getattr(field, "decimal_places", None) is not None:
        value = value.quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
    return value


def chain_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash(content: dict) -> str:
    """The SHA-256 of a signature's canonical content (qms.signatures); here, below the models,
    so that Signature.hash_matches needs no import of qms.signatures (issue 21)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_link(row, *, using: str = "default") -> None:
    chain_link_rows([row], using=using)


def chain_link_rows(rows, *, using: str = "default") -> None:
    """Set prev_hash and entry_hash on unsaved rows of an append-only chained table, in the
    order they will be inserted.

    The previous row is the newest one of the table. A transaction-scoped advisory lock per
    table (PostgreSQL) keeps two concurrent writers from linking to the same previous row; the
    lock is held until the writing transaction ends, so the chain has no forks.
    """
    if not rows:
        return
    model = type(rows[0])
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [model._meta.db_table])
    pk_name = model._meta.pk.attname
    previous = model._default_manager.using(using).order_by(f"-{pk_name}").values_list("entry_hash", flat=True).first() or ""
    # Rows saved together (bulk_create) get ascending primary keys in this order.
    for row in rows:
        row.prev_hash = previous
        row.entry_hash = chain_hash(chain_content(row))
        previous = row.entry_hash


def bulk_history(records, *, history_type: str = "~", using: str = "default") -> list:
    """Write one history row per record saved together (a bulk_update), as `record.save()`
    would have: every tracked field, and the user, reason and action given with set_history()
    (required). The rows are chained in the records' order under the table's advisory lock,
    taken once, with one read of the newest hash and one INSERT (a save takes all three per row).

    simple-history's signals are not sent: the only receiver (_stamp_history_entry) is what this
    does in bulk. Models with a tracked many-to-many field are refused (their m2m history rows
    would be missing)."""
    records = list(records)
    if not records:
        return []
    model = type(records[0])
    historical = model.history.model
    if historical._history_m2m_fields:
        raise ValueError(f"bulk_history does not write the many-to-many history of {model._meta.label}.")
    now = timezone.now()
    rows = []
    for record in records:
        if type(record) is not model:
            raise ValueError("bulk_history takes records of one model.")
        if getattr(record, "_history_user", None) is None:
            raise ValueError(f"Say who changes {record!r} with set_history() first.")
        row = historical(
            history_date=getattr(record, "_history_date", None) or now,
            history_type=history_type,
            history_user=record._history_user,
            history_change_reason=getattr(record, "_change_reason", None),
            history_action=getattr(record, "_history_action", "") or "",
            **{field.attname: getattr(record, field.attname) for field in historical.tracked_fields},
        )
        if hasattr(historical, "history_relation"):
            row.history_relation_id = record.pk
        rows.append(row)
    chain_link_rows(rows, using=using)
    return historical._default_manager.using(using).bulk_create(rows)


def save_versioned_bulk(records, *, fields: list[str], using: str = "default") -> None:
    """The bulk form of qms.versioning.save_versioned for records locked by the caller, each
    given its user, reason and action with set_history(): every version bumped, `fields` and
    the version written with one UPDATE, then the chained history rows (bulk_history)."""
    records = list(records)
    if not records:
        return
    for record in records:
        record.version += 1
    _update_rows(records, list(dict.fromkeys([*fields, "version"])), using=using)
    bulk_history(records, using=using)


def _update_rows(records, fields: list[str], *, using: str) -> None:
    """Write `fields` of saved records of one model with one UPDATE. On PostgreSQL the values go
    in as one array per column (UPDATE ... FROM unnest(...)): Django's bulk_update builds a
    CASE WHEN per record and field, which costs more Python time than the update itself."""
    model = type(records[0])
    connection = connections[using]
    columns = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    if connection.vendor != "postgresql" or any(
        field.get_internal_type() == "JSONField" or not field.concrete for field in columns
    ):
        model._default_manager.using(using).bulk_update(records, fields)
        return
    values = [[record.pk for record in records]]
    for field in columns[1:]:
        values.append([field.get_db_prep_save(field.pre_save(record, False), connection) for record in records])
    quote = connection.ops.quote_name
    # Only the model's own quoted table, column and type names go into the text; values are bound.
    names = [quote(field.column) for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in columns)
    table, key = quote(model._meta.db_table), names[0]
    sql = f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.{key} = v.{key}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if cursor.rowcount != len(records):
            raise model.DoesNotExist(f"{len(records) - cursor.rowcount} of the {model._meta.verbose_name_plural} to update are gone.")


@receiver(pre_create_historical_record)
def _stamp_history_entry(sender, instance, history_instance, using=None, **kwargs):
    # simple-history's documented hook for extra historical fields.
    if hasattr(history_instance, "history_action"):
        history_instance.history_action = getattr(instance, "_history_action", "") or ""
        chain_link(history_instance, using=using or "default")


@receiver(pre_create_historical_m2m_records)
def _chain_m2m_history_rows(sender, rows, history_instance, **kwargs):
    # The rows of a chained many-to-many history (ChainedM2MHistoryBase), before bulk_create.
    if rows and hasattr(rows[0], "entry_hash"):
        chain_link_rows(rows, using=history_instance._state.db or "default")
