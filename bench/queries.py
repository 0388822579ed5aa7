"""SQL queries per request, in-process: Django's test Client as the bench manager, each
endpoint requested twice and the second request's queries captured (CaptureQueriesContext),
so warm-up work (content types, the session) is not counted. Repeated statement shapes
(the same SQL with different literals) are listed: they are how an N+1 shows.

    python -m bench.queries --meta seed.json --out queries.json
    python -m bench.queries --check-transitions http.json   # were the POSTed steps all taken?
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter

import django

SHAPE = re.compile(r"('(?:[^']|'')*'|\b\d+(?:\.\d+)?\b)")


def shape(sql: str) -> str:
    return re.sub(r"\(\s*(?:%s|\?)(?:\s*,\s*(?:%s|\?))*\s*\)", "(...)", SHAPE.sub("?", sql))


def count(meta: dict, *, client=None) -> dict:
    """Query counts of every endpoint; `client` is a logged-in test Client (made here if None)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.endpoints import create_form, endpoints, transition_form
    from qms.models import User

    manager = User.objects.get(username=meta["manager"]["username"])
    if client is None:
        client = Client()
        client.force_login(manager)
    reset_transition_complaints(meta, manager)
    results = {}
    complaint = meta["investigating_complaints"][0]
    step = 0
    for ep in endpoints(meta):
        responses = []
        for attempt in range(2):
            if ep.method == "GET":
                request = lambda path=ep.path: client.get(path)  # noqa: E731
            elif ep.form == "create":
                data = create_form(attempt, meta)
                request = lambda data=data, path=ep.path: client.post(path, data)  # noqa: E731
            else:
                data = transition_form(step)
                step += 1
                path = ep.path.format(id=complaint)
                request = lambda data=data, path=path: client.post(path, data)  # noqa: E731
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = request()
                elapsed = time.perf_counter() - started
            responses.append((response, ctx.captured_queries, elapsed))
        response, queries, elapsed = responses[1]
        shapes = Counter(shape(q["sql"]) for q in queries)
        repeated = {s[:300]: n for s, n in shapes.items() if n > 1}
        results[ep.name] = {
            "path": ep.path,
            "method": ep.method,
            "status": response.status_code,
            "ok": response.status_code in ep.ok,
            "queries": len(queries),
            "queries_first_request": len(responses[0][1]),
            "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
            "in_process_ms": round(elapsed * 1000, 1),
            "bytes": len(response.content),
            "repeated_shapes": repeated,
            "note": ep.note,
            "statements": [{"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"]} for q in queries],
        }
        if ep.form == "transition":
            results[ep.name]["note"] = "wait_for_customer then resume on one complaint; the resume is counted"
        print(f"{ep.name:28s} {response.status_code} queries={len(queries):3d} (first {len(responses[0][1]):3d}) "
              f"sql={results[ep.name]['sql_ms']:8.1f} ms in-process={elapsed * 1000:8.1f} ms bytes={len(response.content)}"
              + (f"  REPEATED {sum(repeated.values())}" if repeated else ""), flush=True)
    return results


def reset_transition_complaints(meta: dict, manager) -> None:
    """The transition benchmark moves these complaints between investigating and awaiting
    customer; an earlier run may have stopped on either side. Bring them all back."""
    from complaints.models import Complaint
    from complaints.services import complaint_transition

    for complaint in Complaint.objects.filter(pk__in=meta["investigating_complaints"], status="awaiting_customer"):
        complaint_transition(complaint, "resume", actor=manager)


def check_transitions(http_results: dict, since: str) -> dict:
    """How many of the POSTed transition steps were really taken (the form redirects either way)."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils.dateparse import parse_datetime

    from complaints.models import Complaint
    from qms.models import Transition

    ids = http_results.get("transition_complaints", [])
    taken = Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(Complaint), object_id__in=ids,
        action__in=["wait_for_customer", "resume"], at__gte=parse_datetime(since),
    ).count()
    ep = http_results.get("endpoints", {}).get("complaint_transition", {})
    posted = ep.get("requests_total", 0)
    return {"posted": posted, "taken": taken}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--meta")
    parser.add_argument("--out")
    parser.add_argument("--check-transitions")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    if args.check_transitions:
        with open(args.check_transitions) as f:
            data = json.load(f)
        result = check_transitions(data, data["started_at"])
        data["transition_check"] = result
        with open(args.check_transitions, "w") as f:
            json.dump(data, f, indent=1)
        print(f"transition POSTs: {result['posted']} sent, {result['taken']} steps taken")
        return 0 if result["posted"] == result["taken"] else 1
    with open(args.meta) as f:
        meta = json.load(f)
    results = count(meta)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
