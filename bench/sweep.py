"""Time one SLA escalation sweep (complaints.services.escalate_due_complaints, called directly)
over a database where every complaint is open and `--due` of them fall due now.

Run it on a throwaway copy of the benchmark database (run.sh makes one with
CREATE DATABASE ... TEMPLATE and drops it afterwards): the preparation rewrites every
complaint's status and deadlines.

    DATABASE_URL=.../qms_bench_100k_sweep python -m bench.sweep --due 1000 --out sweep.json
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

import django


def prepare(due: int) -> dict:
    """Every complaint open (investigating, next step days away); `due` of them new,
    critical (elapsed-hours policy) and received 1.6 h ago, so exactly one escalation step
    (first response, 75 % of 2 h) is due for each."""
    from django.db import connection, transaction

    from complaints.models import Complaint, SlaPolicy

    critical = SlaPolicy.objects.get(severity="critical")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE complaints_complaint SET status = 'investigating', resolved_at = NULL, closed_at = NULL, "
            "sla_paused_at = NULL, next_escalation_at = now() + (1 + (id % 720)) * interval '1 hour'"
        )
        cursor.execute(
            "SELECT id FROM complaints_complaint c WHERE NOT EXISTS "
            "(SELECT 1 FROM complaints_escalation e WHERE e.complaint_id = c.id) ORDER BY id DESC LIMIT %s",
            [due],
        )
        chosen = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE complaints_complaint SET status = 'new', severity = 'critical', sla_policy_id = %s, sla_terms = '{}', "
            "received_at = now() - interval '96 minutes', acknowledged_at = NULL, escalation_level = 0, "
            "sla_paused_hours = 0, first_response_due = now() + interval '24 minutes', "
            "resolution_due = now() + interval '1344 minutes', next_escalation_at = now() - interval '6 minutes' "
            "WHERE id = ANY(%s)",
            [critical.pk, chosen],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE complaints_complaint")
    return {
        "open_complaints": Complaint.objects.filter(status__in=["new", "acknowledged", "investigating", "awaiting_customer"]).count(),
        "due": len(chosen),
    }


def sweep() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from complaints.services import escalate_due_complaints

    # A fresh process's one-off start-up, which a worker pays once and not per sweep: importing
    # the URLconf (every app's views; the notifications link to the complaint, ~0.8 s) and
    # connecting to the broker (~0.25 s). Timed apart, so the sweep's own time is what is reported.
    started = time.perf_counter()
    from django.urls import reverse

    from qms.celery import app

    reverse("complaints:list")
    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)
    warmup_seconds = round(time.perf_counter() - started, 3)
    # Django keeps the last 9,000 queries only: a sweep with more would be counted as 9,000 and
    # the run after it as 0. Keep them all.
    connection.queries_limit = 1_000_000
    connection.queries_log = collections.deque(maxlen=connection.queries_limit)
    results = {}
    for label in ("first_run", "second_run"):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            steps = escalate_due_complaints(now=timezone.now())
            elapsed = time.perf_counter() - started
        results[label] = {
            "seconds": round(elapsed, 3),
            "steps_taken": steps,
            "queries": len(ctx.captured_queries),
            "sql_ms": round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1),
            "select_due": next((q["sql"][:600] for q in ctx.captured_queries if "next_escalation_at" in q["sql"] and "FOR UPDATE" in q["sql"]), ""),
        }
    results["warmup_seconds"] = warmup_seconds
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM complaints_complaint WHERE next_escalation_at <= now() "
            "ORDER BY next_escalation_at LIMIT 100"
        )
        results["explain_due_query_after"] = "\n".join(row[0] for row in cursor.fetchall())
    return results


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    result = {"prepared": prepare(args.due)}
    result.update(sweep())
    first = result["first_run"]
    print(f"sweep over {result['prepared']['open_complaints']} open complaints, {result['prepared']['due']} due: "
          f"{first['seconds']} s, {first['queries']} queries, {first['steps_taken']} steps; "
          f"second run {result['second_run']['seconds']} s, {result['second_run']['queries']} queries "
          f"(process warm-up before them: {result['warmup_seconds']} s)", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
