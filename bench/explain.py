"""Profile what is slow: EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of an endpoint
(taken from queries.json), and a cProfile of the request in-process.

    python -m bench.explain --queries bench/results/raw/100k/queries.json --meta .../seed.json \
        --endpoint dashboard --top 3 --out bench/results/raw/100k/profile_dashboard.txt
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys

import django


def explain(statements, top):
    from django.db import connection

    chosen = sorted((s for s in statements if s["sql"].lstrip().upper().startswith(("SELECT", "(SELECT", "WITH"))),
                    key=lambda s: -s["ms"])[:top]
    out = []
    with connection.cursor() as cursor:
        for statement in chosen:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            out.append(f"-- {statement['ms']} ms in the measured request\n{statement['sql']}\n\n{plan}\n")
    return "\n".join(out)


def profile(meta, path, method="GET"):
    from django.test import Client

    from qms.models import User

    client = Client()
    client.force_login(User.objects.get(username=meta["manager"]["username"]))
    client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(path)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
    return f"status {response.status_code}\n" + buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", required=True)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    with open(args.queries) as f:
        result = json.load(f)[args.endpoint]
    with open(args.meta) as f:
        meta = json.load(f)
    text = f"# {args.endpoint}: {result['method']} {result['path']}: {result['queries']} queries, {result['sql_ms']} ms SQL\n\n"
    text += "## Slowest statements, EXPLAIN (ANALYZE, BUFFERS)\n\n" + explain(result["statements"], args.top)
    if result["method"] == "GET":
        text += "\n## cProfile of one warm request (cumulative)\n\n" + profile(meta, result["path"])
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
