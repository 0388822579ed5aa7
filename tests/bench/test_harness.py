"""CI proof that the benchmark harness works end to end at a tiny scale (no timing assertions:
speed is measured by `make bench`, never by tests).

bench/run.sh --scale 1k runs for real against a throwaway database: it starts from a copy of
this session's migrated test database (so `migrate` has nothing to do), seeds 1,000
complaints with COPY, verifies every history hash chain with `manage.py verify_audit_trail`,
counts queries in-process, serves the app with gunicorn and measures each endpoint with a
few requests, runs the SLA sweep on a copy, writes the report, and drops its databases.
"""

import json
import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_url(settings_dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}"


@pytest.fixture
def template_database(transactional_db):
    """The migrated test database's name, with this process's connections closed so that
    PostgreSQL can copy it (CREATE DATABASE ... TEMPLATE needs it unused)."""
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark harness needs PostgreSQL")
    name = connection.settings_dict["NAME"]
    url = server_url(connection.settings_dict)
    connections.close_all()
    # Earlier tests of this xdist worker (live servers, worker processes) may leave a session
    # on the database; CREATE DATABASE ... TEMPLATE refuses to copy while one is open.
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
    return name, url


def test_harness_runs_at_1k(template_database, tmp_path):
    template, pg = template_database
    db = f"qms_bench_ci_{uuid.uuid4().hex[:8]}"
    raw, reports = tmp_path / "raw", tmp_path / "reports"
    env = {
        **os.environ,
        "BENCH_PG": pg,
        "BENCH_TEMPLATE": template,
        "BENCH_RAW": str(raw),
        "BENCH_REPORT_DIR": str(reports),
        "BENCH_WORK": str(tmp_path / "work"),
        "BENCH_REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        # Exercise the large-load path (plain indexes dropped and rebuilt) at this tiny scale.
        "BENCH_INDEX_THRESHOLD": "1000",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = ["bash", "bench/run.sh", "--scale", "1k", "--db", db, "--port", str(free_port()),
               "--seq", "2", "--conc", "2", "--duration", "0.5", "--warmup", "1", "--verify-trail", "--drop",
               "--writes-duration", "1"]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    finally:
        for name in (db, f"{db}_sweep", f"{db}_sq"):
            subprocess.run(["psql", f"{pg}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}"'], capture_output=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    seed = json.loads((raw / "seed.json").read_text())
    assert seed["complaints"] == 1000
    assert set(seed["counts"]["complaint_status"]) >= {"new", "acknowledged", "investigating", "awaiting_customer", "resolved", "closed", "rejected"}
    assert seed["counts"]["chain_rows_rechecked"] > 0
    assert "Audit trail intact" in (raw / "verify_audit_trail.txt").read_text()

    queries = json.loads((raw / "queries.json").read_text())
    assert {"complaint_list", "complaint_api_list", "complaint_detail", "dashboard", "audit_trail", "training_matrix",
            "complaint_create", "complaint_transition", "audit_trail_search", "audit_trail_api_search",
            "complaint_list_search", "complaint_api_search"} <= set(queries)
    assert all(result["ok"] and result["queries"] > 0 for result in queries.values()), {
        name: result["status"] for name, result in queries.items()
    }

    http = json.loads((raw / "http.json").read_text())
    for name, result in http["endpoints"].items():
        assert result["seq"]["errors"] == 0 and result["conc"]["errors"] == 0, name
        assert result["seq"]["n"] == 2 and result["conc"]["n"] > 0, name
    assert http["transition_check"]["posted"] == http["transition_check"]["taken"] > 0

    # Writes under load (bench/write_load.py): every write has its history and transition rows
    # and the hash chains verify past the rows written.
    writes = json.loads((raw / "writes.json").read_text())
    assert writes["integrity"]["ok"], writes["integrity"]
    assert writes["integrity"]["complaints_created"] > 0 and writes["integrity"]["transition_posts"] > 0
    assert writes["integrity"]["chains"]["complaints_historicalcomplaint"]["broken"] == 0

    sweep = json.loads((raw / "sweep.json").read_text())
    assert sweep["prepared"]["due"] == 100
    assert sweep["first_run"]["steps_taken"] == 100
    assert sweep["second_run"]["steps_taken"] == 0

    sq_auto = json.loads((raw / "sq_auto.json").read_text())
    assert sq_auto["full_run"]["communications"] == sq_auto["communications"] > 0
    assert sq_auto["full_run"]["handlings"] == sq_auto["complaints"]
    assert sq_auto["second_run"]["communications"] == sq_auto["second_run"]["handlings"] == 0
    assert sq_auto["incremental_run"]["communications"] == sq_auto["new_entries"] == 1000

    [report] = reports.glob("*-1k.md")
    text = report.read_text()
    assert "## Targets" in text and "complaint_detail" in text and "SLA escalation sweep" in text
    assert "## Writes under load" in text and "Integrity afterwards: **intact**" in text
    assert "audit trail free-text search (?q=) p50 under 300 ms" in text
    assert "complaint list full-text search (?search=) p50 under 100 ms" in text
