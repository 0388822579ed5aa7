"""Writes under load (issue 19 item 4): concurrent clients creating complaints and taking
transitions over HTTP, then an integrity check in the database.

    python -m bench.write_load --base http://127.0.0.1:8010 --meta seed.json --out writes.json \
        [--clients 8] [--duration 60]

Each client logs in as the bench manager (bench/http_bench.py) and loops for --duration
seconds: create a complaint (`POST /complaints/new/`), then take a transition on its own
investigating complaint (`wait_for_customer` and `resume` alternately). Latencies per kind
(p50, p95) and req/s are reported.

While the clients run, a sampler reads pg_stat_activity every 20 ms on its own connection and
counts the backends waiting for an advisory lock (the per-table lock qms.history.chain_link_rows
takes to link a new history row to the newest one): the wait time is estimated as samples x
interval per waiting backend. Nothing is added to the app; the sampler costs one small query
per sample.

Afterwards, in the database: every complaint created has exactly one history row (its creation)
and no transition; every transition POST has exactly one Transition row and one history row of
the same action; and the hash chain of every chained table that received rows verifies from
the last row before the run to its end (each row with qms.history.chain_verifies, each link to
the row before it). Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

from bench.endpoints import CREATE_TITLE, create_form, transition_form
from bench.http_bench import Session, stats

WRITE_TITLE = f"{CREATE_TITLE}-LOAD"
SAMPLE_SECONDS = 0.02


def run_clients(base: str, meta: dict, *, clients: int, duration: float) -> dict:
    complaints = meta["investigating_complaints"]
    if len(complaints) < clients:
        raise SystemExit(f"seed.json names {len(complaints)} investigating complaints; {clients} clients need as many")
    # The last ones of the list: bench/http_bench.py moves the first (--conc + 1) of them, and
    # run.sh counts those steps afterwards.
    sessions = [Session(base, meta, pk) for pk in complaints[-clients:]]
    lock = threading.Lock()
    results = {"create": [], "transition": []}
    errors = {"create": 0, "transition": 0}
    steps = {}
    counter = [0]
    go = threading.Event()
    deadline = [0.0]

    def post(session, path, data):
        data["csrfmiddlewaretoken"] = session.client.cookies["csrftoken"]
        started = time.perf_counter()
        response = session.client.post(path, data=data, headers={"Referer": base + path})
        return (time.perf_counter() - started) * 1000, response.status_code == 302

    def work(session):
        mine = {"create": [], "transition": []}
        bad = {"create": 0, "transition": 0}
        go.wait()
        while time.perf_counter() < deadline[0]:
            with lock:
                counter[0] += 1
                i = counter[0]
            form = create_form(i, session.meta)
            form["title"] = f"{WRITE_TITLE} {i}"
            ms, ok = post(session, "/complaints/new/", form)
            mine["create"].append(ms)
            bad["create"] += not ok
            ms, ok = post(session, f"/complaints/{session.complaint_id}/transition/", transition_form(session.step))
            session.step += 1
            mine["transition"].append(ms)
            bad["transition"] += not ok
        if session.step % 2:  # leave the complaint investigating, as it started
            post(session, f"/complaints/{session.complaint_id}/transition/", transition_form(session.step))
            session.step += 1
        with lock:
            for kind in results:
                results[kind].extend(mine[kind])
                errors[kind] += bad[kind]
            steps[session.complaint_id] = session.step

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + duration
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.client.close()
    total = len(results["create"]) + len(results["transition"])
    return {
        "clients": clients, "duration_s": duration, "elapsed_s": round(elapsed, 2),
        "rps": round(total / elapsed, 1), "requests": total,
        "all": stats(results["create"] + results["transition"]),
        "create": {**stats(results["create"]), "errors": errors["create"], "rps": round(len(results["create"]) / elapsed, 1)},
        "transition": {**stats(results["transition"]), "errors": errors["transition"], "rps": round(len(results["transition"]) / elapsed, 1)},
        "steps_per_complaint": {str(k): v for k, v in steps.items()},
    }


class LockSampler(threading.Thread):
    """Samples pg_stat_activity for backends of this database waiting on an advisory lock."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.samples = 0
        self.waiting = 0  # sum over samples of backends waiting on an advisory lock
        self.lock_waits = 0  # the same for any heavyweight lock
        self.max_waiting = 0
        self.with_waiter = 0  # samples in which at least one backend waited on an advisory lock

    def run(self):
        import psycopg
        from django.db import connection

        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as conn:
            while not self.stop.is_set():
                advisory, any_lock = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event = 'advisory'), count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchone()
                self.samples += 1
                self.waiting += advisory
                self.lock_waits += any_lock
                self.max_waiting = max(self.max_waiting, advisory)
                self.with_waiter += advisory > 0
                time.sleep(SAMPLE_SECONDS)

    def summary(self, elapsed: float, writes: int) -> dict:
        interval = elapsed / max(self.samples, 1)
        wait = self.waiting * interval
        return {
            "samples": self.samples, "interval_ms": round(interval * 1000, 1),
            "advisory_wait_s": round(wait, 2), "advisory_wait_ms_per_write": round(1000 * wait / max(writes, 1), 2),
            "share_of_samples_with_a_waiter": round(self.with_waiter / max(self.samples, 1), 3),
            "max_waiting_backends": self.max_waiting, "any_lock_wait_s": round(self.lock_waits * interval, 2),
        }


def marks() -> dict:
    """The newest id of every chained table and of the transitions, before the run."""
    from qms.audit.registry import chained_models
    from qms.models import Transition

    found = {m._meta.label: m._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0 for m in chained_models()}
    found["qms.Transition"] = Transition.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return found


def verify_segment(model, after_pk: int) -> dict:
    """The chain from the last row before the run to the end: each row's content gives its hash
    (qms.history.chain_verifies) and each row links to the one before it."""
    from qms.history import chain_verifies

    manager = model._base_manager
    previous = manager.filter(pk__lte=after_pk).order_by("-pk").first() if after_pk else None
    expected = previous.entry_hash if previous is not None else ""
    rows = broken = 0
    first_break = None
    for row in manager.filter(pk__gt=after_pk).order_by("pk").iterator(chunk_size=2000):
        rows += 1
        if not chain_verifies(row) or row.prev_hash != expected:
            broken += 1
            first_break = first_break or row.pk
        expected = row.entry_hash
    return {"rows": rows, "broken": broken, "first_break": first_break}


def check(before: dict, started_at, steps: dict) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from complaints.models import Complaint
    from qms.audit.registry import chained_models
    from qms.models import Transition

    history = Complaint.history.model
    ct = ContentType.objects.get_for_model(Complaint)
    created = Complaint.objects.filter(title__startswith=WRITE_TITLE, created_at__gte=started_at)
    created_ids = list(created.values_list("pk", flat=True))
    per_created = dict(history.objects.filter(id__in=created_ids).values("id").annotate(n=Count("history_id")).values_list("id", "n"))
    creates_bad = [pk for pk in created_ids if per_created.get(pk) != 1]
    transitions_on_created = Transition.objects.filter(content_type=ct, object_id__in=created_ids).count()
    moved = [int(pk) for pk in steps]
    new_transitions = Transition.objects.filter(pk__gt=before["qms.Transition"])
    per_complaint_transitions = dict(
        new_transitions.filter(content_type=ct, object_id__in=moved).values("object_id").annotate(n=Count("id")).values_list("object_id", "n")
    )
    per_complaint_history = dict(
        history.objects.filter(id__in=moved, history_id__gt=before[history._meta.label], history_action__in=["wait_for_customer", "resume"])
        .values("id").annotate(n=Count("history_id")).values_list("id", "n")
    )
    transitions_bad = [
        pk for pk in moved
        if not (per_complaint_transitions.get(pk, 0) == per_complaint_history.get(pk, 0) == steps[str(pk)])
    ]
    other_transitions = new_transitions.exclude(content_type=ct, object_id__in=moved).count()
    chains = {}
    for model in chained_models():
        after = before.get(model._meta.label, 0)
        if model._base_manager.filter(pk__gt=after).exists():
            chains[model._meta.db_table] = verify_segment(model, after)
    ok = not creates_bad and not transitions_on_created and not transitions_bad and not other_transitions and all(
        c["broken"] == 0 for c in chains.values()
    )
    return {
        "ok": ok, "complaints_created": len(created_ids), "created_without_exactly_one_history_row": creates_bad[:20],
        "transitions_on_created": transitions_on_created,
        "transition_posts": sum(steps.values()), "transition_rows": sum(per_complaint_transitions.values()),
        "transition_history_rows": sum(per_complaint_history.values()), "complaints_whose_counts_differ": transitions_bad,
        "transitions_elsewhere": other_transitions, "chains": chains,
    }


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8010")
    parser.add_argument("--meta", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    import django

    django.setup()
    from django.utils import timezone

    from bench.queries import reset_transition_complaints
    from qms.models import User

    with open(args.meta) as f:
        meta = json.load(f)
    reset_transition_complaints(meta, User.objects.get(username=meta["manager"]["username"]))
    before = marks()
    started_at = timezone.now()
    sampler = LockSampler()
    sampler.start()
    load = run_clients(args.base, meta, clients=args.clients, duration=args.duration)
    sampler.stop.set()
    sampler.join()
    load["advisory_lock"] = sampler.summary(load["elapsed_s"], load["requests"])
    load["integrity"] = check(before, started_at, load.pop("steps_per_complaint"))
    lock, integrity = load["advisory_lock"], load["integrity"]
    print(f"writes under load: {load['clients']} clients, {load['elapsed_s']} s: {load['rps']} req/s, p50 {load['all']['p50_ms']} ms, "
          f"p95 {load['all']['p95_ms']} ms (create p95 {load['create']['p95_ms']}, transition p95 {load['transition']['p95_ms']}); "
          f"errors {load['create']['errors'] + load['transition']['errors']}")
    print(f"advisory lock: {lock['advisory_wait_s']} s waited in all ({lock['advisory_wait_ms_per_write']} ms per write), "
          f"at most {lock['max_waiting_backends']} waiting at once")
    print(f"integrity: {'ok' if integrity['ok'] else 'FAILED'}: {integrity['complaints_created']} created, "
          f"{integrity['transition_posts']} transition POSTs / {integrity['transition_rows']} rows / {integrity['transition_history_rows']} history rows; "
          + ", ".join(f"{t} {c['rows']} rows {c['broken']} broken" for t, c in integrity["chains"].items()))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(load, f, indent=1, default=str)
    return 0 if integrity["ok"] and not (load["create"]["errors"] or load["transition"]["errors"]) else 1


if __name__ == "__main__":
    sys.exit(main())
