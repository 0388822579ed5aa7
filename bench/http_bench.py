"""Latency and throughput over HTTP against the app served by gunicorn on 127.0.0.1.

    python -m bench.http_bench --base http://127.0.0.1:8010 --meta seed.json --out http.json \
        [--seq 200] [--conc 8] [--duration 20] [--only a,b]

Each client is an httpx.Client logged in through the real login form as the bench manager.
Per endpoint: 5 warm-up requests, then --seq requests one after another (p50, p95), then --conc
threads, each with its own session, requesting in a loop for --duration seconds (req/s, p50,
p95). Latency is measured around each request, client to last byte. The client's own CPU
share is recorded, since client, server and database share the machine. Does not import Django.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import threading
import time
from urllib.parse import urlparse

import httpx

from bench.endpoints import create_form, endpoints, transition_form


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def stats(latencies_ms):
    if not latencies_ms:
        return {"n": 0}
    return {
        "n": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p95_ms": round(percentile(latencies_ms, 95), 1),
        "max_ms": round(max(latencies_ms), 1),
        "mean_ms": round(statistics.fmean(latencies_ms), 1),
    }


class Session:
    """One logged-in browser-like client (cookies, CSRF token) and the complaint its
    transition requests move back and forth."""

    def __init__(self, base, meta, complaint_id):
        self.meta = meta
        self.complaint_id = complaint_id
        self.step = 0
        self.client = httpx.Client(base_url=base, timeout=120.0, follow_redirects=False)
        page = self.client.get("/accounts/login/")
        page.raise_for_status()
        answer = self.client.post(
            "/accounts/login/",
            data={"username": meta["manager"]["username"], "password": meta["manager"]["password"],
                  "csrfmiddlewaretoken": self.client.cookies["csrftoken"], "next": "/"},
            headers={"Referer": base + "/accounts/login/"},
        )
        if answer.status_code != 302:
            raise RuntimeError(f"log-in failed with {answer.status_code}")

    def request(self, ep, counter):
        if ep.method == "GET":
            return self.client.get(ep.path)
        if ep.form == "create":
            data = create_form(counter.next(), self.meta)
            path = ep.path
        else:
            data = transition_form(self.step)
            self.step += 1
            path = ep.path.format(id=self.complaint_id)
        data["csrfmiddlewaretoken"] = self.client.cookies["csrftoken"]
        return self.client.post(path, data=data, headers={"Referer": str(self.client.base_url) + path})


class Counter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.value += 1
            return self.value


def sequential(session, ep, n, counter, warmup=5, max_seconds=None):
    """n requests one after another; a page so slow that n would take longer than max_seconds
    stops there (after at least 20), and the report says how many were made."""
    for _ in range(warmup):
        session.request(ep, counter)
    latencies, errors = [], 0
    began = time.perf_counter()
    for _ in range(n):
        started = time.perf_counter()
        response = session.request(ep, counter)
        latencies.append((time.perf_counter() - started) * 1000)
        errors += response.status_code not in ep.ok
        if max_seconds and len(latencies) >= 20 and time.perf_counter() - began > max_seconds:
            break
    return {**stats(latencies), "errors": errors, "requests": len(latencies) + warmup, "capped": len(latencies) < n}


def concurrent(sessions, ep, duration, counter):
    lock = threading.Lock()
    go = threading.Event()
    latencies, errors, deadline = [], [0], [0.0]

    def work(session):
        mine, bad = [], 0
        go.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            response = session.request(ep, counter)
            mine.append((time.perf_counter() - started) * 1000)
            bad += response.status_code not in ep.ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + duration
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {**stats(latencies), "errors": errors[0], "elapsed_s": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "clients": len(sessions), "requests": len(latencies)}


def run(base, meta, *, seq=200, conc=8, duration=20.0, only=None, warmup=5, max_seconds=None, log=print):
    if urlparse(base).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("refusing to benchmark anything but this machine")
    complaints = meta["investigating_complaints"]
    sessions = [Session(base, meta, complaints[i + 1]) for i in range(conc)]
    first = Session(base, meta, complaints[0])
    counter = Counter()
    results = {"base": base, "seq_n": seq, "conc": conc, "duration_s": duration, "endpoints": {},
               "started_at": dt.datetime.now(dt.UTC).isoformat(), "transition_complaints": complaints[: conc + 1]}
    for ep in endpoints(meta):
        if not ep.http or (only and ep.name not in only):
            continue
        results["endpoints"][ep.name] = measure(first, sessions, ep, seq, duration, counter, warmup, max_seconds, log)
    for session in [first, *sessions]:
        session.client.close()
    return results


def measure(first, sessions, ep, seq, duration, counter, warmup=5, max_seconds=None, log=print):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    one = sequential(first, ep, seq, counter, warmup, max_seconds)
    many = concurrent(sessions, ep, duration, counter)
    restored = 0
    if ep.form == "transition":  # leave every complaint where it started (investigating)
        for session in [first, *sessions]:
            if session.step % 2:
                session.request(ep, counter)
                restored += 1
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    result = {"path": ep.path, "method": ep.method, "seq": one, "conc": many,
              "client_cpu_share_of_one_core": round(cpu / wall, 2),
              "requests_total": one["requests"] + many["requests"] + restored}
    log(f"{ep.name:26s} seq n={one['n']} p50={one['p50_ms']:8.1f} p95={one['p95_ms']:8.1f} err={one['errors']} | "
        f"conc{many['clients']} {many['rps']:7.1f} req/s p50={many.get('p50_ms', 0):8.1f} p95={many.get('p95_ms', 0):8.1f} "
        f"n={many['requests']} err={many['errors']} | client cpu {cpu / wall:.2f}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8010")
    parser.add_argument("--meta", required=True)
    parser.add_argument("--seq", type=int, default=200)
    parser.add_argument("--conc", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--only", default="")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seq-max-seconds", type=float, default=0, help="stop the sequential run after this long (at least 20 requests)")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    with open(args.meta) as f:
        meta = json.load(f)
    only = set(filter(None, args.only.split(",")))
    results = run(args.base, meta, seq=args.seq, conc=args.conc, duration=args.duration, only=only, warmup=args.warmup, max_seconds=args.seq_max_seconds,
                  log=lambda m: print(m, flush=True))
    if args.out:
        existing = {}
        if os.path.exists(args.out):
            with open(args.out) as f:
                existing = json.load(f)
        if only and existing.get("endpoints"):
            existing["endpoints"].update(results["endpoints"])
            existing.setdefault("transition_complaints", results["transition_complaints"])
            results = existing
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    errors = sum(e["seq"]["errors"] + e["conc"]["errors"] for e in results["endpoints"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
