"""1,000 random single-row mutations of a chained history table (issue 15, item 5): edits of any
column (the hash columns included), deletions, insertions (a copied row, or a forged row that
links correctly to the row before it) and reorderings. Every one is detected, and the first bad
row is the one named. Fixed seed, a small chain, one savepoint per mutation: a few seconds."""

import random

from django.db import connection, transaction

from qms.audit.verify import ANCHOR_MISSING, CHANGED, EXTERNAL, INSERTED, LINK_BROKEN, verify_table
from qms.history import chain_content, chain_hash, set_history
from qms.models import Department, HistoricalDepartment

TABLE = HistoricalDepartment._meta.db_table
MUTATIONS = 1000
SEED = 15

EDITS = {
    "name": "name = name || '!'",
    "history_change_reason": "history_change_reason = 'nothing to see'",
    "history_date": "history_date = history_date + interval '1 second'",
    "history_type": "history_type = CASE WHEN history_type = '+' THEN '~' ELSE '+' END",
    "history_user_id": "history_user_id = NULL",
    "id": "id = id + 1000",
    "history_action": "history_action = 'approve'",
    "prev_hash": "prev_hash = repeat('0', 64)",
    "entry_hash": "entry_hash = repeat('f', 64)",
}


def build_chain(actor, *, records: int = 3, edits: int = 3) -> list[int]:
    """records x (1 + edits) history rows, with gaps in the ids so that a row can be slipped in
    between two others."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'history_id')", [TABLE])
        sequence = cursor.fetchone()[0]

    def leave_a_gap():
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, nextval(%s) + 2)", [sequence, sequence])

    for number in range(records):
        department = Department(name=f"Department {number}")
        set_history(department, user=actor, reason="Set up")
        leave_a_gap()
        department.save()
        for edit in range(edits):
            leave_a_gap()
            department.name = f"Department {number} rev {edit + 1}"
            set_history(department, user=actor, reason=f"Renamed ({edit + 1})")
            department.save()
    return list(
        HistoricalDepartment.objects.order_by("history_id").values_list("history_id", flat=True)
    )


def columns() -> list[str]:
    return [
        field.column
        for field in HistoricalDepartment._meta.concrete_fields
        if not field.primary_key
    ]


def mutate(cursor, rng: random.Random, ids: list[int]) -> tuple[str, set[int], set[str]]:
    """Apply one random mutation; answer (what was done, the rows of which one must be named,
    the problems that may be reported)."""
    listed = ", ".join(f'"{c}"' for c in columns())
    kind = rng.choice(["edit", "delete", "insert_copy", "insert_linked", "reorder"])
    k = rng.randrange(len(ids))
    if kind == "edit":
        column = rng.choice(sorted(EDITS))
        cursor.execute(f"UPDATE {TABLE} SET {EDITS[column]} WHERE history_id = %s", [ids[k]])  # noqa: S608
        return f"edit {column} of {ids[k]}", {ids[k]}, {CHANGED}
    if kind == "delete":
        cursor.execute(f"DELETE FROM {TABLE} WHERE history_id = %s", [ids[k]])  # noqa: S608
        if k == len(ids) - 1:
            return f"delete newest {ids[k]}", {ids[k]}, {ANCHOR_MISSING}
        return f"delete {ids[k]}", {ids[k + 1]}, {LINK_BROKEN}
    if kind == "insert_copy":
        # a genuine row's content copied (its own hash is right) into a gap or at the end
        at = ids[k] + 1 if k < len(ids) - 1 else ids[-1] + 100
        source = ids[rng.randrange(len(ids))]
        cursor.execute(
            f"INSERT INTO {TABLE} (history_id, {listed}) SELECT %s, {listed} FROM {TABLE} WHERE history_id = %s",
            [at, source],
        )  # noqa: S608
        # A copy of the row just before it, or of the one just after it, links up on one side:
        # then the copy is named as inserted (of two identical rows, either may be named).
        return (
            f"insert copy of {source} at {at}",
            {at, source} if source == ids[k] else {at},
            {LINK_BROKEN, INSERTED},
        )
    if kind == "insert_linked":
        # a forged row, hashed with the project's functions, linking to the row before it
        k = rng.randrange(len(ids) - 1)
        at = ids[k] + 1
        source = HistoricalDepartment.objects.get(history_id=ids[rng.randrange(len(ids))])
        source.history_id = at
        source.history_change_reason = "forged entry"
        source.prev_hash = HistoricalDepartment.objects.get(history_id=ids[k]).entry_hash
        source.entry_hash = chain_hash(chain_content(source))
        values = [
            getattr(source, field.attname)
            for field in HistoricalDepartment._meta.concrete_fields
            if not field.primary_key
        ]
        placeholders = ", ".join(["%s"] * len(values))
        cursor.execute(
            f"INSERT INTO {TABLE} (history_id, {listed}) VALUES (%s, {placeholders})", [at, *values]
        )  # noqa: S608
        return f"insert linked at {at}", {at}, {INSERTED}
    # reorder: two neighbouring rows swap places (all columns but the id)
    k = rng.randrange(len(ids) - 1)
    a, b = ids[k], ids[k + 1]
    assignments = ", ".join(f'"{c}" = o."{c}"' for c in columns())
    cursor.execute(
        f"UPDATE {TABLE} AS t SET {assignments} FROM {TABLE} AS o "  # noqa: S608
        f"WHERE (t.history_id, o.history_id) IN ((%s, %s), (%s, %s))",
        [a, b, b, a],
    )
    return f"swap {a} and {b}", {a}, {LINK_BROKEN}


def test_a_thousand_random_single_row_mutations_are_all_detected_with_the_first_bad_row_named(
    administrator,
):
    ids = build_chain(administrator)
    anchor = verify_table(HistoricalDepartment).anchor
    assert verify_table(HistoricalDepartment, {EXTERNAL: anchor}).first_break is None
    rng = random.Random(SEED)
    missed, misnamed, kinds = [], [], {}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
        for _ in range(MUTATIONS):
            savepoint = transaction.savepoint()
            try:
                what, expected_rows, expected_problems = mutate(cursor, rng, ids)
                kinds[what.split(" ")[0]] = kinds.get(what.split(" ")[0], 0) + 1
                found = verify_table(HistoricalDepartment, {EXTERNAL: anchor}).first_break
            finally:
                transaction.savepoint_rollback(savepoint)
            if found is None:
                missed.append(what)
            elif found["row_id"] not in expected_rows or found["problem"] not in expected_problems:
                misnamed.append((what, found["row_id"], found["problem"]))
        cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')
    assert not missed, missed[:10]
    assert not misnamed, misnamed[:10]
    assert sum(kinds.values()) == MUTATIONS
    assert set(kinds) == {"edit", "delete", "insert", "swap"}
    assert (
        verify_table(HistoricalDepartment, {EXTERNAL: anchor}).first_break is None
    )  # every mutation was rolled back
