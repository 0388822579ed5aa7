"""Time the automatic evaluation of every interaction (issue 17 item 4): all the benchmark's
communications and complaint handlings from nothing, a second run with nothing new, and the
incremental run after `--new` fresh communication entries.

Run it on a throwaway copy of the benchmark database (run.sh makes one with
CREATE DATABASE ... TEMPLATE and drops it afterwards): it adds two scorecards in force with
automatic criteria, the analyses, the automatic scores and the new entries.

    DATABASE_URL=.../qms_bench_100k_sq python -m bench.sq_auto --new 1000 --out sq_auto.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django

BATCH = 1000


def scorecards() -> list[str]:
    """An e-mail scorecard (required statements, friction, sentiment) and a handling one (SLA
    times, reopen, survey), in force, made through the services as the bench manager."""
    from django.contrib.auth import get_user_model

    from bench.seed import BENCH_PASSWORD, MANAGER_USERNAME
    from service_quality import services

    manager = get_user_model().objects.get(username=MANAGER_USERNAME)
    plans = [
        ("Bench e-mail", "communication", [
            ("Reference quoted", {"auto_rule": "required_phrase", "phrases": ["CMP-", "reference"], "is_critical": True}),
            ("No friction", {"auto_rule": "no_friction"}),
            ("Customer not upset", {"auto_rule": "sentiment"}),
            ("Empathy", {"scale": "one_to_five", "weight": 2}),
        ]),
        ("Bench handling", "handling", [
            ("First response in SLA", {"auto_rule": "first_response_sla"}),
            ("Resolved in SLA", {"auto_rule": "resolution_sla"}),
            ("Not reopened", {"auto_rule": "not_reopened", "is_critical": True}),
            ("Customer satisfaction", {"auto_rule": "survey", "scale": "one_to_five"}),
        ]),
    ]
    codes = []
    for name, applies_to, criteria in plans:
        card = services.scorecard_create(actor=manager, name=name, applies_to=applies_to)
        section = services.section_add(card, actor=manager, title="Measured")
        for label, options in criteria:
            services.criterion_add(card, actor=manager, section=section, label=label, **options)
        services.scorecard_transition(card, "approve", actor=manager, password=BENCH_PASSWORD, reason="Bench")
        services.scorecard_transition(card, "put_in_force", actor=manager, reason="Bench")
        codes.append(card.code)
    return codes


def add_entries(n: int) -> int:
    """`n` new outbound entries spread over the newest complaints (their handlings go stale too)."""
    from django.utils import timezone

    from complaints.models import Communication, Complaint

    complaints = list(Complaint.objects.filter(assignee__isnull=False).order_by("-id").values_list("id", "assignee_id")[: max(1, n // 4)])
    now = timezone.now()
    Communication.objects.bulk_create(
        [
            Communication(
                complaint_id=complaints[i % len(complaints)][0],
                author_id=complaints[i % len(complaints)][1],
                direction="outbound",
                channel="email",
                summary="Sorry for the wait, I am still waiting for the part; your reference is on the way.",
                at=now,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return n


def timed(label: str) -> dict:
    from django.db import connection

    from service_quality.evaluator import interactions_evaluate

    connection.queries_log.clear()
    started = time.perf_counter()
    totals = interactions_evaluate(batch_size=BATCH, max_batches=10**6)
    seconds = time.perf_counter() - started
    analysed = totals["communications"] + totals["handlings"]
    result = {
        "seconds": round(seconds, 2),
        **totals,
        "interactions_per_second": round(analysed / seconds, 1) if seconds and analysed else None,
    }
    print(f"automatic evaluation, {label}: {result['seconds']} s, {totals['communications']} communications, "
          f"{totals['handlings']} handlings, {totals['auto_scores']} automatic scores, {totals['batches']} batches", flush=True)
    return result


def dashboard(repeat: int = 20) -> dict:
    """The service-quality dashboard (page and API) over the evaluated copy, in-process as the
    bench manager: SQL statements of the second request, and the p50 of `repeat` requests
    (issue 17: within the 12-query budget at 100k)."""
    import statistics

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.seed import MANAGER_USERNAME

    client = Client()
    client.force_login(get_user_model().objects.get(username=MANAGER_USERNAME))
    result = {}
    for name, path in (("page", "/service-quality/dashboard/"), ("api", "/api/v1/service-quality/dashboard/")):
        first = client.get(path)
        if first.status_code != 200:
            raise SystemExit(f"{path} answered {first.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries = len(captured)  # now: the next request's start clears the connection's log
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = {"path": path, "queries": queries, "p50_ms": round(statistics.median(times), 1), "n": repeat}
        print(f"service-quality dashboard {name}: {queries} queries, p50 {result[name]['p50_ms']} ms", flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--new", type=int, default=1000, help="entries added before the incremental run")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    from complaints.models import Communication, Complaint

    result = {
        "communications": Communication.objects.count(),
        "complaints": Complaint.objects.count(),
        "scorecards": scorecards(),
        "batch_size": BATCH,
    }
    result["full_run"] = timed("every interaction")
    result["second_run"] = timed("nothing new")
    result["new_entries"] = add_entries(args.new)
    result["incremental_run"] = timed(f"after {args.new} new entries")
    result["dashboard"] = dashboard()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
