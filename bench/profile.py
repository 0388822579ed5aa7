"""Where a page's time goes, in-process (issue 19 item 2): pyinstrument over N requests of
one benchmark endpoint, as the bench manager, on a seeded benchmark database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_100k \\
        python -m bench.profile complaint_detail --meta bench/results/raw/100k/seed.json [-n 50]

With --time: no profiler, the p50 and p95 of the n requests, their CPU and SQL time (the
before / after figure of a change). Otherwise prints the time per request (mean of n after two warm-ups), the SQL share, and pyinstrument's
call tree of the whole run (frames under 1 % left out). POST endpoints are profiled as the
harness posts them (create: a new complaint per request; transition: wait/resume in turn).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--meta", required=True)
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--time", action="store_true",
                        help="no profiler: time each of the n requests and print p50 / p95 (in-process)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from bench.endpoints import create_form, endpoints, transition_form
    from bench.queries import reset_transition_complaints
    from qms.models import User

    with open(args.meta) as f:
        meta = json.load(f)
    by_name = {ep.name: ep for ep in endpoints(meta)}
    if args.endpoint not in by_name:
        print(f"unknown endpoint {args.endpoint}; one of: {', '.join(by_name)}", file=sys.stderr)
        return 2
    ep = by_name[args.endpoint]
    manager = User.objects.get(username=meta["manager"]["username"])
    client = Client()
    client.force_login(manager)
    reset_transition_complaints(meta, manager)
    complaint = meta["investigating_complaints"][0]
    step = [0]

    def request(i):
        if ep.method == "GET":
            return client.get(ep.path)
        if ep.form == "create":
            return client.post(ep.path, create_form(i, meta))
        data = transition_form(step[0])
        step[0] += 1
        return client.post(ep.path.format(id=complaint), data)

    for i in range(2):
        response = request(i)
        if response.status_code not in ep.ok:
            print(f"{ep.name} answered {response.status_code}", file=sys.stderr)
            return 1
    if args.time:
        return time_requests(ep, request, args.n, connection, CaptureQueriesContext)
    profiler = Profiler(interval=0.0005)
    sql = 0.0
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        profiler.start()
        for i in range(2, 2 + args.n):
            request(i)
        profiler.stop()
    elapsed = time.perf_counter() - started
    sql = sum(float(q["time"]) for q in ctx.captured_queries)
    print(f"{ep.name}: {elapsed / args.n * 1000:.1f} ms per request (profiled), "
          f"SQL {sql / args.n * 1000:.1f} ms, {len(ctx.captured_queries) / args.n:.1f} queries")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as f:
            f.write(profiler.output_html())
    return 0


def time_requests(ep, request, n, connection, capture) -> int:
    """p50 / p95 of n requests in-process without the profiler, their CPU time and SQL time
    (the before / after figures of a change; over HTTP it is bench/http_bench.py)."""
    import gc
    import statistics

    gc.collect()
    gc.freeze()  # as the served app does after loading (bench/README.md)
    wall, cpu, sql, queries = [], [], [], 0
    for i in range(2, 2 + n):
        with capture(connection) as ctx:
            started, cpu_started = time.perf_counter(), time.process_time()
            request(i)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        queries = len(ctx.captured_queries)
    wall.sort()
    print(f"{ep.name}: n={n} p50 {statistics.median(wall):.1f} ms, p95 {wall[int(0.95 * (n - 1))]:.1f} ms, "
          f"CPU p50 {statistics.median(cpu):.1f} ms, SQL p50 {statistics.median(sql):.1f} ms, {queries} queries "
          "(in-process, no profiler; CPU: this process only, steadier than wall time on a busy machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
