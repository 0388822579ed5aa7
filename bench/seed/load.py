"""Loading the seed's generated rows (bench/bulk.py) into PostgreSQL, using both cores.

Tables are written one after another by this process, the one with the most rows first, each
with one COPY in its own transaction (plain indexes dropped before it). Its indexes are then
built on other connections by a small pool of threads (each waits on its own PostgreSQL backend,
so the Python thread writing the next table keeps the GIL) while the next tables load: at 100k
the trigram index of the complaint history alone takes over a minute of one core, which the
earlier single-transaction load spent with nothing else running.

The load is not one transaction any more: a seed that fails half-way leaves a half-filled
database, which bench/run.sh drops and creates afresh on the next run anyway.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.db import connection, transaction

# Memory for each index build (a GIN build with the server's default 64 MB spills in many
# small runs), and how many are built at once beside the COPY.
MAINTENANCE_WORK_MEM = os.environ.get("BENCH_MAINTENANCE_WORK_MEM", "1GB")
INDEX_BUILDERS = int(os.environ.get("BENCH_INDEX_BUILDERS", "2"))


@dataclass
class LoadResult:
    counts: dict = field(default_factory=dict)
    copy_seconds: dict = field(default_factory=dict)  # table -> seconds of its COPY (hash chain included)
    index_seconds: dict = field(default_factory=dict)  # index -> seconds of its build
    index_wait_seconds: float = 0.0  # index building left after the last COPY


def load_tables(tables: dict, *, builders: int | None = None, replica: bool = True, log=print) -> LoadResult:
    """COPY every table of `tables` (label -> bench.bulk.Rows) and build its dropped indexes in
    the background; returns when every index is built."""
    result = LoadResult()
    params = connection.get_connection_params()
    lock = threading.Lock()

    def build(definition: str) -> None:
        started = time.perf_counter()
        with psycopg.connect(**params, autocommit=True) as conn:
            # Both cores are busy already (this COPY, the other builds): no parallel workers.
            conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            conn.execute(definition)
        name = definition.split(" ON ", 1)[0].rsplit(" ", 1)[-1]
        with lock:
            result.index_seconds[name] = round(time.perf_counter() - started, 2)

    order = sorted((t for t in tables.values() if len(t)), key=len, reverse=True)
    with ThreadPoolExecutor(builders or INDEX_BUILDERS, thread_name_prefix="index") as pool:
        futures = []
        for table in order:
            started = time.perf_counter()
            with transaction.atomic():
                if replica:
                    # The generated rows are consistent by construction: skip the per-row
                    # foreign-key triggers (superuser only; the setting ends with the transaction).
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL session_replication_role = replica")
                count, definitions = table.copy(defer_indexes=True)
            name = table.model._meta.db_table
            result.counts[name] = result.counts.get(name, 0) + count
            result.copy_seconds[name] = round(time.perf_counter() - started, 2)
            # GIN (trigram, full text) builds take longest: queue them first.
            for definition in sorted(definitions, key=lambda d: " USING gin " not in d):
                futures.append(pool.submit(build, definition))
        waited = time.perf_counter()
        for future in futures:
            future.result()
        result.index_wait_seconds = round(time.perf_counter() - waited, 2)
    return result
