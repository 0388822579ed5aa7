"""Where a page's time goes, in-process (issue 19 item 2): pyinstrument over N requests of
one benchmark endpoint, as the bench manager, on a seeded benchmark database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_100k \\
        python -m bench.profile complaint_detail --meta bench/results/raw/100k/seed.json [-n 50]

Prints the time per request (mean of n after two warm-ups), the SQL share, and pyinstrument's
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


if __name__ == "__main__":
    sys.exit(main())
