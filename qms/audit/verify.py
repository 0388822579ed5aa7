"""Tamper evidence (21 CFR 11.10(e), EU GMP Annex 11 section 9): re-compute every hash chain.

Each chained table (every historical table, the signatures) is read in insertion order. A row
whose content no longer gives its stored hash was changed; a row whose `prev_hash` is not the
hash of the row before it follows a deleted row or was inserted. Each run also records an
anchor per table (its newest row, that row's hash and the row count up to it) twice: in the
database (AuditVerification.anchors) and, signed with a key the database does not hold, in the
external anchor log (qms.audit.anchors). The next run checks both, so cutting rows off the end
of a table, or re-hashing every row after a changed one and storing a fresh "intact"
verification, is caught as well (issue 15).

A run is full (every row of every chain re-hashed) or incremental (decision 0050): each chain
is walked from its oldest anchor onwards (the anchor row re-hashed and linked to the row before
it, the rows behind it only counted in SQL), so the nightly run costs the rows written since the
last one. An incremental run cannot see a row behind the anchors whose content or hash was
changed without re-hashing every later row up to the anchor; the weekly full run does.

A break stays reported on every later run, whatever the database says, until a Quality Manager
acknowledges it with an electronic signature (qms.audit.services.audit_breaks_acknowledge).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from qms.audit.models import AuditVerification
from qms.audit.registry import chained_models
from qms.history import chain_verifies

CHANGED = "changed"
LINK_BROKEN = "link_broken"
INSERTED = "inserted"
ANCHOR_CHANGED = "anchor_changed"
ANCHOR_MISSING = "anchor_missing"
ANCHOR_COUNT = "anchor_count"
ANCHOR_LOG_FORGED = "anchor_log_forged"
ANCHOR_LOG_MISSING = "anchor_log_missing"
ANCHOR_LOG_UNWRITABLE = "anchor_log_unwritable"

PROBLEMS = {
    CHANGED: "The row's content no longer matches its hash: it was changed after it was written.",
    LINK_BROKEN: "The row does not link to the row before it: a row before it was deleted, or this row was inserted.",
    INSERTED: "The row was inserted between two rows that link to each other.",
    ANCHOR_CHANGED: "The newest row seen by the last verification has changed.",
    ANCHOR_MISSING: "The newest row seen by the last verification is gone: rows were deleted from the end of the table.",
    ANCHOR_COUNT: "The number of rows up to the newest row seen by the last verification has changed: rows were deleted or inserted before it.",
    ANCHOR_LOG_FORGED: "A line of the external anchor log is not genuine.",
    ANCHOR_LOG_MISSING: "The external anchor log no longer holds the line the last verification wrote: the log was deleted, cut or replaced.",
    ANCHOR_LOG_UNWRITABLE: "This run could not write its anchors to the external anchor log.",
}

# Where an anchor came from: the signed log outside the database, or the last AuditVerification.
EXTERNAL = "external"
INTERNAL = "internal"
ANCHOR_SOURCES = {EXTERNAL: "the signed external anchor log", INTERNAL: "the last verification stored in the database"}


def break_key(item: dict) -> str:
    """What identifies a break from one run to the next (and what an acknowledgement names)."""
    return f"{item['table']}:{item['problem']}:{item.get('row_id')}"


@dataclass
class TableResult:
    table: str
    model: str
    rows: int = 0
    first_break: dict | None = None  # the first break not acknowledged by a Quality Manager
    acknowledged: list[dict] = field(default_factory=list)  # acknowledged breaks still seen
    anchor: dict = field(default_factory=dict)
    verified: int = 0  # rows re-hashed by this run (all of them, unless it resumed)
    resumed_from: int | None = None  # the anchored row an incremental walk started at
    # Rows written before the table was chained (no hashes, all before the first chained row).
    unchained_before_chain: int = 0

    def report(self, item: dict, acknowledged: set[str]) -> None:
        if break_key(item) in acknowledged:
            if len(self.acknowledged) < 20:
                self.acknowledged.append(item)
        elif self.first_break is None:
            self.first_break = item


def _parent_history(row):
    """The history row a many-to-many history row belongs to (a user's roles at that time)."""
    field = next((f for f in type(row)._meta.concrete_fields if f.name == "history" and f.is_relation), None)
    if field is None or not hasattr(field.related_model, "instance_type"):
        return None
    return field.related_model._base_manager.filter(pk=getattr(row, field.attname)).first()


def _row_time(row):
    for name in ("history_date", "signed_at", "at", "created_at"):
        value = getattr(row, name, None)
        if value is not None:
            return value
    parent = _parent_history(row)
    return parent.history_date if parent is not None else None


def _record_of(row) -> tuple[str, object]:
    """(model label, object id) of the record a chained row is about."""
    parent = _parent_history(row)
    if parent is not None:
        return parent.instance_type._meta.label_lower, parent.id
    instance_type = getattr(type(row), "instance_type", None)
    if instance_type is not None:
        return instance_type._meta.label_lower, getattr(row, instance_type._meta.pk.attname, None)
    if hasattr(row, "content_type_id") and hasattr(row, "object_id"):
        from django.contrib.contenttypes.models import ContentType

        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        return (model._meta.label_lower if model else ""), row.object_id
    return type(row)._meta.label_lower, row.pk


def _describe(model, row, problem: str, *, pk=None, source: str = "") -> dict:
    record_model, record_id, at = "", None, None
    if row is not None:
        record_model, record_id = _record_of(row)
        at = _row_time(row)
        pk = row.pk
    message = PROBLEMS[problem]
    if source:
        message = f"{message} (anchor from {ANCHOR_SOURCES[source]})"
    item = {
        "table": model._meta.db_table,
        "model": model._meta.label_lower,
        "row_id": pk,
        "record_model": record_model,
        "record_id": record_id,
        "at": at.isoformat() if at else None,
        "problem": problem,
        "message": message,
    }
    if source:
        item["anchor_source"] = source
    item["key"] = break_key(item)
    return item


def _log_break(problem: str, *, line=None, detail: str = "", at=None) -> dict:
    from qms.audit.anchors import LOG_NAME

    item = {
        "table": LOG_NAME,
        "model": "",
        "row_id": line,
        "record_model": "",
        "record_id": None,
        "at": at,
        "problem": problem,
        "message": f"{PROBLEMS[problem]} {detail}".strip(),
    }
    item["key"] = break_key(item)
    return item


def verify_table(
    model, anchors: dict | None = None, *, acknowledged: set[str] = frozenset(), chunk_size: int = 2000, incremental: bool = False
) -> TableResult:
    """Walk one chained table in insertion (primary key) order; memory stays flat.

    `anchors` maps a source (EXTERNAL, INTERNAL) to what a run saw of this table: its newest
    row's id ("pk"), that row's hash and the number of rows up to it. A row that is gone, has
    another hash, or sits behind another number of rows is a break, even where the chain itself
    links up again (someone re-hashed the rows after the one they changed).

    `incremental`: start at the oldest of those anchored rows instead of the first row (see
    _resume_point); without an anchor the whole table is walked."""
    result = TableResult(table=model._meta.db_table, model=model._meta.label_lower)
    pk_name = model._meta.pk.attname
    pending = {source: anchor for source, anchor in (anchors or {}).items() if anchor and anchor.get("pk") is not None}
    expected_prev, previous = "", None
    hash_before_previous = None
    rows = model._base_manager.order_by(pk_name)
    resume = _resume_point(model, pending) if incremental else None
    if resume is not None:
        result.resumed_from, previous, result.rows = resume
        rows = rows.filter(**{f"{pk_name}__gte": result.resumed_from})
        if previous is not None:
            hash_before_previous, expected_prev = previous.prev_hash, previous.entry_hash
    for row in rows.iterator(chunk_size=chunk_size):
        result.rows += 1
        result.verified += 1
        if previous is None and _written_before_chain(row):
            result.unchained_before_chain += 1
            result.anchor = {"pk": row.pk, "hash": row.entry_hash, "rows": result.rows}
            continue
        if not chain_verifies(row):
            result.report(_describe(model, row, CHANGED), acknowledged)
        elif row.prev_hash != expected_prev:
            if previous is not None and row.prev_hash == hash_before_previous:
                # This row links past the one before it: that one was slipped in between.
                result.report(_describe(model, previous, INSERTED), acknowledged)
            else:
                result.report(_describe(model, row, LINK_BROKEN), acknowledged)
        for source, anchor in list(pending.items()):
            if row.pk > anchor["pk"]:
                # The anchored row is gone: rows after it run on where it was.
                result.report(_describe(model, None, ANCHOR_MISSING, pk=anchor["pk"], source=source), acknowledged)
                del pending[source]
            elif row.pk == anchor["pk"]:
                if row.entry_hash != anchor.get("hash"):
                    result.report(_describe(model, row, ANCHOR_CHANGED, source=source), acknowledged)
                elif anchor.get("rows") is not None and anchor["rows"] != result.rows:
                    result.report(_describe(model, row, ANCHOR_COUNT, source=source), acknowledged)
                del pending[source]
        hash_before_previous, expected_prev, previous = expected_prev, row.entry_hash, row
        result.anchor = {"pk": row.pk, "hash": row.entry_hash, "rows": result.rows}
    for source, anchor in pending.items():
        result.report(_describe(model, None, ANCHOR_MISSING, pk=anchor["pk"], source=source), acknowledged)
    return result


def _resume_point(model, anchors: dict) -> tuple[int, object, int] | None:
    """Where an incremental walk of `model` starts: (the oldest anchored row's id, the row just
    before it, the number of rows before it), or None to walk the whole table.

    The oldest of the anchors (external log, last stored verification), so that every anchor
    is still met on the walk and checked: a database owner who stores a verification anchored
    at the newest row cannot move the start past rows the signed log has not seen. The walk
    re-hashes the anchored row and checks its link to the row before it; the rows before that
    are counted in SQL (an index scan, no hashing), so the anchor's row count still catches a
    row deleted or inserted behind it. Only a rewrite behind the anchor that leaves the anchored
    row's hash and the count alone goes unseen, until the next full run (decision 0050)."""
    if not anchors:
        return None
    pk_name = model._meta.pk.attname
    start = min(anchor["pk"] for anchor in anchors.values())
    behind = model._base_manager.filter(**{f"{pk_name}__lt": start})
    before = behind.order_by(f"-{pk_name}").first()
    if before is not None and _written_before_chain(before):
        return None  # rows from before the chain began: only a walk from the start counts them
    return start, before, behind.count()


def _written_before_chain(row) -> bool:
    """A row of a table chained after it held rows (prev_hash and entry_hash among its
    `chain_added_fields`), from before: no hashes at all. Only a run of such rows at the very
    start of the table counts; anywhere after the first chained row, a row without a hash is a
    break. (One slipped in among them later changes the anchored row count.)"""
    added = getattr(type(row), "chain_added_fields", frozenset())
    return {"prev_hash", "entry_hash"} <= added and not row.entry_hash and not row.prev_hash


def _external_anchor(line: dict) -> dict:
    return {"pk": line.get("row_id"), "hash": line.get("hash"), "rows": line.get("rows")}


def _log_checks(log, previous) -> list[dict]:
    """Breaks of the external log itself: lines that are not genuine, and a log that no longer
    holds what the last stored verification says it wrote."""
    found = [_log_break(ANCHOR_LOG_FORGED, line=p["line"], detail=f"Line {p['line']} {p['message']}.") for p in log.problems]
    if previous is not None and previous.anchor_log_seq and not log.has_line(previous.anchor_log_seq, previous.anchor_log_hash):
        where = "is missing" if not log.exists else f"has no line {previous.anchor_log_seq} as written"
        found.append(_log_break(ANCHOR_LOG_MISSING, line=previous.anchor_log_seq, detail=f"The log {where}."))
    return found


def _still_open(log, previous) -> list[dict]:
    """The breaks the last run left open: those of the log's last signed run line, and those of
    the last stored verification (the database may add alarms, never take one away)."""
    carried = []
    run = log.latest_run()
    if run is not None:
        carried.extend(run.get("open_breaks") or [])
    if previous is not None:
        carried.extend(previous.breaks or [])
    for item in carried:
        item.setdefault("key", break_key(item))
    return carried


def verify_audit_trail(
    *, triggered_by: str = AuditVerification.Trigger.COMMAND, store: bool = True, incremental: bool = False
) -> AuditVerification:
    """Check every chain against itself, the last stored verification and the newest signed
    anchors of the external log; report every break not yet acknowledged, including those of
    earlier runs; store the result and append this run's anchors to the log.

    `incremental`: walk each chain from its anchors onwards (decision 0050); the run is stored
    as incremental when at least one chain resumed, as full otherwise (the first run)."""
    from qms.audit import anchors as anchor_log

    previous = AuditVerification.objects.order_by("-started_at", "-id").first()
    internal = previous.anchors if previous else {}
    key = anchor_log.anchor_key()
    log = anchor_log.read_log(key=key)
    external = {table: _external_anchor(line) for table, line in log.latest_anchors().items()}
    acknowledged = log.acknowledged_keys()
    started_at = timezone.now()
    results = [
        verify_table(
            model,
            {EXTERNAL: external.get(model._meta.db_table), INTERNAL: internal.get(model._meta.db_table)},
            acknowledged=acknowledged,
            incremental=incremental,
        )
        for model in chained_models()
    ]
    found = _log_checks(log, previous) + [r.first_break for r in results if r.first_break]
    open_breaks, acknowledged_breaks, seen = [], [], set()
    for item in found + _still_open(log, previous):
        if item["key"] in seen:
            continue
        seen.add(item["key"])
        (acknowledged_breaks if item["key"] in acknowledged else open_breaks).append(item)
    for result in results:
        acknowledged_breaks.extend(b for b in result.acknowledged if b["key"] not in seen)
        seen.update(b["key"] for b in result.acknowledged)
    open_breaks.sort(key=lambda b: b["at"] or "")
    verification = AuditVerification(
        started_at=started_at,
        finished_at=timezone.now(),
        is_intact=not open_breaks,
        tables_checked=len(results),
        rows_checked=sum(r.verified for r in results),
        kind=(
            AuditVerification.Kind.INCREMENTAL
            if any(r.resumed_from is not None for r in results)
            else AuditVerification.Kind.FULL
        ),
        breaks=open_breaks,
        acknowledged_breaks=acknowledged_breaks,
        anchors={r.table: r.anchor for r in results if r.anchor},
        triggered_by=triggered_by,
    )
    if store:
        _write_anchors(verification, results, key=key)
        with transaction.atomic():
            verification.save()
    return verification


def _write_anchors(verification, results, *, key: bytes) -> None:
    from qms.audit import anchors as anchor_log

    at = verification.finished_at.isoformat()
    lines = [
        {"kind": anchor_log.ANCHOR, "at": at, "table": r.table, "row_id": r.anchor["pk"], "hash": r.anchor["hash"], "rows": r.anchor["rows"]}
        for r in results
        if r.anchor
    ]
    lines.append(
        {
            "kind": anchor_log.RUN,
            "at": at,
            "tables": verification.tables_checked,
            "rows": verification.rows_checked,
            "run_kind": verification.kind,
            "is_intact": verification.is_intact,
            "open_breaks": verification.breaks,
        }
    )
    try:
        verification.anchor_log_seq, verification.anchor_log_hash = anchor_log.append_lines(lines, key=key)
    except OSError as error:
        # Still stored in the database, and reported as a break: a run that leaves no external
        # anchor must not look like one that did.
        verification.breaks = [*verification.breaks, _log_break(ANCHOR_LOG_UNWRITABLE, detail=f"({error.strerror or error}).", at=at)]
        verification.is_intact = False


def latest_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-started_at", "-id").first()


LOG_DISAGREES = (
    "The database's latest verification is not the one the signed external anchor log records last: "
    "a verification row was inserted, changed or deleted in the database."
)


def verification_status() -> AuditVerification | None:
    """What the trail page and every export say about the chains: the latest verification,
    unless the signed anchor log's last run disagrees with it (a "intact" row inserted by hand,
    or the broken one deleted), in which case the log's run is shown, as broken. Carries
    `.acknowledgement` when a Quality Manager has acknowledged every break it reports."""
    from datetime import datetime

    from qms.audit import anchors as anchor_log
    from qms.audit.models import AuditBreakAcknowledgement

    verification = latest_verification()
    try:
        run = anchor_log.latest_signed_run()
    except Exception:  # noqa: BLE001 - a missing or unreadable key must not take the trail page down
        run = None
    if run is not None and not (verification is not None and verification.anchor_log_seq == 0 and not verification.is_intact):
        # Compare with the verification the log records last, not the latest by time (two runs
        # may overlap). A run that could not write the log (seq 0) is shown as it is, broken;
        # an "intact" one that left no line, or one past the log's end, is not believed.
        newest_seq = verification.anchor_log_seq if verification is not None else None
        if newest_seq is not None and newest_seq != run["seq"]:
            verification = AuditVerification.objects.filter(anchor_log_seq=run["seq"]).order_by("-id").first()
        agrees = (
            verification is not None
            and newest_seq not in (0, None)
            and newest_seq <= run["seq"]
            and verification.anchor_log_hash == run["_hash"]
            and verification.is_intact == run.get("is_intact")
            and {b.get("key") for b in verification.breaks} == {b.get("key") for b in run.get("open_breaks") or []}
        )
        if not agrees:
            at = datetime.fromisoformat(run["at"])
            mismatch = _log_break(ANCHOR_LOG_MISSING, line=run["seq"], detail=LOG_DISAGREES)
            verification = AuditVerification(
                started_at=at,
                finished_at=at,
                is_intact=False,
                tables_checked=run.get("tables") or 0,
                rows_checked=run.get("rows") or 0,
                kind=run.get("run_kind") or AuditVerification.Kind.FULL,
                breaks=[mismatch, *(run.get("open_breaks") or [])],
                anchor_log_seq=run["seq"],
            )
            verification.from_anchor_log = True
            return verification
    if verification is not None and not verification.is_intact and verification.pk:
        keys = {item.get("key") for item in verification.breaks}
        acknowledgement = (
            AuditBreakAcknowledgement.objects.filter(verification=verification).select_related("acknowledged_by").order_by("-acknowledged_at", "-id").first()
        )
        if acknowledgement is not None and keys <= set(acknowledgement.break_keys):
            verification.acknowledgement = acknowledgement
    return verification
