"""Seed a benchmark database in bulk (COPY), migrations first.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_100k \
        python -m bench.seed --scale 100k --out bench/results/raw/100k/seed.json

At 100k: 100,000 complaints received over 3 years, in every state, with their transitions,
history, communications, escalations, surveys (some answered) and closure signatures;
10,000 CAPAs with root cause analyses, actions and effectiveness checks; 2,000 documents with 3
versions each; 500 users; 60,000 training assignments; 2 years of KPI snapshots. Other scales
shrink the volume records in proportion; the organisation (users, training) is the same from
10k up (see bench/README.md).

Every history table gets a valid hash chain (see bench/bulk.py); the seeder re-checks samples
of every chain with qms.history itself before it reports success.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import django

from bench.seed.core import Seeder
from bench.seed.data import BENCH_PASSWORD, MANAGER_USERNAME

__all__ = ["BENCH_PASSWORD", "MANAGER_USERNAME", "SCALES", "Seeder", "main", "parse_scale", "seed"]

SCALES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def parse_scale(text: str) -> int:
    if text in SCALES:
        return SCALES[text]
    return int(text.lower().replace("k", "000").replace("m", "000000"))


class Log:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.steps = {}
        self._last = self.t0

    def __call__(self, message: str):
        now = time.perf_counter()
        print(f"[{now - self.t0:7.1f}s +{now - self._last:6.1f}s] {message}", flush=True)
        self.steps[message] = round(now - self._last, 2)
        self._last = now


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="10k")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", default="")
    parser.add_argument("--skip-migrate", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    django.setup()
    from django.core.management import call_command

    log = Log()
    if not args.skip_migrate:
        call_command("migrate", verbosity=0)
        log("migrations")
    summary = seed(parse_scale(args.scale), seed=args.seed, log=log)
    summary["scale"] = args.scale
    summary["seconds_total"] = round(time.perf_counter() - log.t0, 1)
    summary["steps"] = log.steps
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}, indent=1, default=str))
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=1, default=str)


def seed(n: int, *, seed: int = 20261123, log=print, now=None, fast_load: bool = True) -> dict:
    """Seed `n` complaints and everything around them into the default database (which must be
    migrated and hold no earlier benchmark data). Returns the counts and the ids the measuring
    scripts need."""
    from django.db import connection, transaction

    s = Seeder(n, seed=seed, log=log, now=now)
    with transaction.atomic():  # generation reads the database (and writes a few defaults)
        s.generate()
    s.load(replica=fast_load)
    log("COPY and indexes")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log("ANALYZE")
    s.verify_chains()
    return s.summary()
