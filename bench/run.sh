#!/usr/bin/env bash
# The benchmark harness: `make bench [SCALE=10k|100k|1m] [PEER=1]` (see bench/README.md).
#
#   bash bench/run.sh [--scale 10k] [--peer] [--reuse] [--seq 200] [--conc 8] [--duration 20]
#                     [--no-sweep] [--no-http] [--no-sq-auto] [--sq-auto] [--db NAME] [--port 8010] [--verify-trail] [--drop]
#                     [--warmup 5] [--writes] [--writes-duration 60] [--sweep-in-place]
#
# 1. seeds a separate PostgreSQL database (qms_bench_<scale>; migrations first, then bulk COPY),
# 2. counts SQL queries per request in-process,
# 3. serves the app with gunicorn (2 sync workers, DEBUG off) on 127.0.0.1 and measures each
#    endpoint over HTTP as the bench manager (200 sequential requests, 8 clients for 20 s);
#    with --peer, django-helpdesk's matching page is measured right after each of ours; with
#    --writes, 8 clients create complaints and take transitions for 60 s (bench/write_load.py),
# 4. times one SLA escalation sweep on a throwaway copy of the database, and the automatic
#    evaluation of every interaction (then nothing new, then --new entries) on another,
# 5. writes bench/results/<date>-<scale>.md (raw JSON in bench/results/raw/<scale>/).
set -euo pipefail
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
ROOT=$(pwd)
# bash reads a script as it runs: run a copy, so that editing run.sh cannot derail a long run.
if [ -z "${BENCH_RUNNING_COPY:-}" ]; then
  copy=$(mktemp "${TMPDIR:-/tmp}/bench-run.XXXXXX")
  cp "$ROOT/bench/run.sh" "$copy"
  BENCH_RUNNING_COPY="$copy" BENCH_ROOT="$ROOT" exec bash "$copy" "$@"
fi
trap 'rm -f "$BENCH_RUNNING_COPY"' EXIT

SEQ_MAX=${SEQ_MAX_SECONDS:-120}; WARMUP=5; SCALE=10k; PEER=0; REUSE=0; SEQ=200; CONC=8; DURATION=20; PORT=8010; SWEEP=1; SQ_AUTO=""; HTTP=1; DB=""; DROP=0; VERIFY=0
WRITES=0; WRITES_DURATION=60; SWEEP_IN_PLACE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --peer) PEER=1; shift ;;
    --reuse) REUSE=1; shift ;;
    --seq) SEQ=$2; shift 2 ;;
    --conc) CONC=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --no-sweep) SWEEP=0; shift ;;
    --no-sq-auto) SQ_AUTO=0; shift ;;
    --sq-auto) SQ_AUTO=1; shift ;;
    --writes) WRITES=1; shift ;;  # writes under load (bench/write_load.py), after the pages
    --writes-duration) WRITES=1; WRITES_DURATION=$2; shift 2 ;;
    --sweep-in-place) SWEEP_IN_PLACE=1; shift ;;  # the sweep rewrites this database instead of a copy (last step)
    --no-http) HTTP=0; shift ;;
    --drop) DROP=1; shift ;;  # drop the database at the end (CI)
    --verify-trail) VERIFY=1; shift ;;  # also run manage.py verify_audit_trail over every chain
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# At 1M a copy of the database is about 20 GB and minutes of disk writing: the automatic
# evaluation (which needs one) is left out unless asked for, and --sweep-in-place spares the other.
if [ -z "$SQ_AUTO" ]; then if [ "$SCALE" = 1m ]; then SQ_AUTO=0; else SQ_AUTO=1; fi; fi
PY="${PY:-$ROOT/.venv/bin/python}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${DB:-qms_bench_$SCALE}"
# ../shared/peers/helpdesk: the peer benchmark's harness on the benchmark machines, a machine
# path to a program we run (set PEER_DIR elsewhere), not a design document (those are in docs/).
PEER_DIR="${PEER_DIR:-$ROOT/../shared/peers/helpdesk}"
PEER_WORK="${PEER_WORK:-${TMPDIR:-/tmp}/peer-helpdesk}"
PEER_PORT="${PEER_PORT:-8011}"
WORK="${BENCH_WORK:-${TMPDIR:-/tmp}/qms-bench/$DB}"
RAW="${BENCH_RAW:-$ROOT/bench/results/raw/$SCALE}"
REPORT_DIR="${BENCH_REPORT_DIR:-$ROOT/bench/results}"
mkdir -p "$WORK" "$RAW"

source "$ROOT/bench/peer_env.sh"  # peer_env: the peer's processes get none of our settings
psql_admin() { psql "$PG/postgres" -qAtX -v ON_ERROR_STOP=1 "$@"; }

source "$ROOT/bench/env.sh"

GUNICORN_PID="$WORK/gunicorn.pid"
stop_ours() {
  if [ -f "$GUNICORN_PID" ]; then
    local pid; pid=$(cat "$GUNICORN_PID")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$GUNICORN_PID"
  fi
}
stop_peer() { [ "$PEER" = 1 ] && peer_env WORK="$PEER_WORK" bash "$PEER_DIR/gunicorn_stop.sh" >/dev/null 2>&1 || true; }
trap 'stop_ours; stop_peer; rm -f "$BENCH_RUNNING_COPY"' EXIT

machine() {  # $1 = label
  $PY - "$1" "$RAW/machine.json" <<'EOF'
import json, os, platform, subprocess, sys, datetime
label, path = sys.argv[1], sys.argv[2]
try:
    data = json.load(open(path))
except (OSError, ValueError):
    data = {}
def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as exc:
        return f"n/a ({exc})"
mem = {l.split(":")[0]: l.split(":")[1].strip() for l in open("/proc/meminfo") if ":" in l}
cpu = next((l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
data.setdefault("static", {
    "nproc": os.cpu_count(), "cpu": cpu, "memory": mem.get("MemTotal"), "kernel": platform.release(),
    "python": platform.python_version(),
    "postgres": run(["psql", os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", "-Atc", "show server_version"]),
    "git_commit": run(["git", "rev-parse", "--short", "HEAD"]),
    "packages": run([sys.executable, "-m", "pip", "freeze"]).splitlines(),
})
data.setdefault("load", []).append({"at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "label": label,
                                    "loadavg": open("/proc/loadavg").read().split()[:3]})
json.dump(data, open(path, "w"), indent=1)
print(f"machine [{label}]: load average {' '.join(data['load'][-1]['loadavg'])}")
EOF
}

rm -f "$RAW/machine.json" "$RAW/http.json" "$RAW"/peer_http_*.json "$RAW/sweep.json" "$RAW/sq_auto.json" "$RAW/writes.json"
machine start

# --- 1. seed ------------------------------------------------------------------------------
if [ "$REUSE" = 1 ] && [ -n "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ] && [ -f "$RAW/seed.json" ]; then
  echo "reusing database $DB (seeded earlier; see $RAW/seed.json)"
else
  # BENCH_TEMPLATE: start from an already migrated empty database (migrate then has nothing to do).
  psql_admin -c "DROP DATABASE IF EXISTS \"$DB\"" -c "CREATE DATABASE \"$DB\"${BENCH_TEMPLATE:+ TEMPLATE \"$BENCH_TEMPLATE\"}"
  started=$(date +%s.%N)
  "$PY" -m bench.seed --scale "$SCALE" --out "$RAW/seed.json"
  echo "seeded $DB in $(awk "BEGIN{print $(date +%s.%N) - $started}") s (wall, including migrations)"
fi
t0=$(date +%s.%N)
psql "$DATABASE_URL" -qAtX -c "VACUUM (ANALYZE)"
VAC=$(awk "BEGIN{print $(date +%s.%N) - $t0}"); echo "VACUUM ANALYZE: $VAC s"; echo "{\"vacuum_analyze_s\": $VAC, \"template\": \"${BENCH_TEMPLATE:-}\", \"reused\": $REUSE}" > "$RAW/prepare.json"
machine seeded
if [ "$VERIFY" = 1 ]; then
  t0=$(date +%s.%N)
  "$PY" manage.py verify_audit_trail --full --no-store | tee "$RAW/verify_audit_trail.txt"
  echo "verify_audit_trail: $(awk "BEGIN{print $(date +%s.%N) - $t0}") s" | tee -a "$RAW/verify_audit_trail.txt"
fi

# --- 2. queries per request (in-process) -----------------------------------------------------
"$PY" manage.py collectstatic --noinput -v0  # DEBUG off: pages need the static manifest
"$PY" -m bench.queries --meta "$RAW/seed.json" --out "$RAW/queries.json"

# --- 3. HTTP -------------------------------------------------------------------------------
if [ "$HTTP" = 1 ]; then
  .venv/bin/gunicorn qms.wsgi:application --workers 2 --worker-class sync --bind "127.0.0.1:$PORT" \
    --pid "$GUNICORN_PID" --error-logfile "$WORK/gunicorn.log" --log-level warning --daemon
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$PORT/healthz/" >/dev/null 2>&1 && break; sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$PORT/healthz/" >/dev/null || { echo "gunicorn did not come up; see $WORK/gunicorn.log" >&2; exit 1; }
  echo "gunicorn up on 127.0.0.1:$PORT (master $(cat "$GUNICORN_PID"))"

  PEER_DB="helpdesk_$SCALE"
  if [ "$PEER" = 1 ]; then
    export WORK_PEER_PY="$PEER_WORK/venv/bin/python"
    if ! /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -p "${PEER_PGPORT:-55432}" -q; then peer_env WORK="$PEER_WORK" bash "$PEER_DIR/pg_start.sh"; fi
    if [ ! -x "$WORK_PEER_PY" ] || ! psql "postgres://postgres@127.0.0.1:${PEER_PGPORT:-55432}/$PEER_DB" -qAtc "SELECT 1" >/dev/null 2>&1; then
      echo "the peer is not set up: running $PEER_DIR/setup.sh"; peer_env WORK="$PEER_WORK" bash "$PEER_DIR/setup.sh"
    fi
    (cd "$PEER_DIR/project" && peer_env HD_DB="$PEER_DB" WORK="$PEER_WORK" "$WORK_PEER_PY" count_queries.py --out "$RAW/peer_queries.json" \
      && peer_env HD_DB="$PEER_DB" WORK="$PEER_WORK" "$WORK_PEER_PY" cleanup.py) | tee "$RAW/peer_queries.txt"
    peer_env WORK="$PEER_WORK" bash "$PEER_DIR/gunicorn_start.sh" "$PEER_DB" "$PEER_PORT"
  fi

  if [ "$PEER" = 1 ]; then
    # Ours and the peer's matching page alternate, endpoint by endpoint, in the same minutes.
    for name in $("$PY" -c "import json,sys; from bench.endpoints import endpoints; print(' '.join(e.name for e in endpoints(json.load(open(sys.argv[1]))) if e.http))" "$RAW/seed.json"); do
      "$PY" -m bench.http_bench --base "http://127.0.0.1:$PORT" --meta "$RAW/seed.json" --seq "$SEQ" --conc "$CONC" \
        --duration "$DURATION" --warmup "$WARMUP" --seq-max-seconds "$SEQ_MAX" --only "$name" --out "$RAW/http.json" || echo "!! $name had errors"
      peer_name=$("$PY" -c "from bench.endpoints import PEER_PAIRS; print(PEER_PAIRS.get('$name', ''))")
      if [ -n "$peer_name" ]; then
        (cd "$PEER_DIR/project" && peer_env "$WORK_PEER_PY" bench_http.py --base "http://127.0.0.1:$PEER_PORT" --meta "$RAW/peer_queries.json" \
          --seq "${PEER_SEQ:-$SEQ}" --conc "$CONC" --duration "$DURATION" --only "$peer_name" --out "$RAW/peer_http_$peer_name.json") || echo "!! peer $peer_name failed"
      fi
    done
  else
    "$PY" -m bench.http_bench --base "http://127.0.0.1:$PORT" --meta "$RAW/seed.json" --seq "$SEQ" --conc "$CONC" \
      --duration "$DURATION" --warmup "$WARMUP" --seq-max-seconds "$SEQ_MAX" --out "$RAW/http.json" || echo "!! some requests failed"
  fi
  if [ "$WRITES" = 1 ]; then
    "$PY" -m bench.write_load --base "http://127.0.0.1:$PORT" --meta "$RAW/seed.json" --clients "$CONC" \
      --duration "$WRITES_DURATION" --out "$RAW/writes.json" || echo "!! writes under load: errors or a failed integrity check"
  fi
  machine measured
  stop_ours
  if [ "$PEER" = 1 ]; then
    stop_peer
    (cd "$PEER_DIR/project" && peer_env HD_DB="$PEER_DB" WORK="$PEER_WORK" "$WORK_PEER_PY" cleanup.py) || true
  fi
  "$PY" -m bench.queries --check-transitions "$RAW/http.json" || echo "!! some transition POSTs did not take a step"
fi

# --- 4. SLA sweep on a throwaway copy ----------------------------------------------------------
if [ "$SWEEP" = 1 ] && [ "$SWEEP_IN_PLACE" = 0 ]; then
  COPY="${DB}_sweep"
  psql_admin -c "DROP DATABASE IF EXISTS \"$COPY\"" -c "CREATE DATABASE \"$COPY\" TEMPLATE \"$DB\""
  DUE=$("$PY" -c "import json; print(min(1000, json.load(open('$RAW/seed.json'))['complaints'] // 10))")
  DATABASE_URL="$PG/$COPY" "$PY" -m bench.sweep --due "$DUE" --out "$RAW/sweep.json"
  psql_admin -c "DROP DATABASE \"$COPY\""
fi
# --- 4b. automatic evaluation of every interaction on a throwaway copy (bench/sq_auto.py) -------
if [ "$SQ_AUTO" = 1 ]; then
  COPY="${DB}_sq"
  psql_admin -c "DROP DATABASE IF EXISTS \"$COPY\"" -c "CREATE DATABASE \"$COPY\" TEMPLATE \"$DB\""
  DATABASE_URL="$PG/$COPY" "$PY" -m bench.sq_auto --new "${SQ_NEW_ENTRIES:-1000}" --out "$RAW/sq_auto.json"
  psql_admin -c "DROP DATABASE \"$COPY\""
fi
# --- 4c. the sweep on this database itself (--sweep-in-place): it makes every complaint open ------
if [ "$SWEEP" = 1 ] && [ "$SWEEP_IN_PLACE" = 1 ]; then
  DUE=$("$PY" -c "import json; print(min(1000, json.load(open('$RAW/seed.json'))['complaints'] // 10))")
  "$PY" -m bench.sweep --due "$DUE" --out "$RAW/sweep.json"
  echo "!! $DB now has every complaint open (the sweep's preparation): reseed before measuring pages again"
fi
machine end

# --- 5. report -----------------------------------------------------------------------------
"$PY" -m bench.report --scale "$SCALE" --raw "$RAW" --out-dir "$REPORT_DIR" --peer-dir "$PEER_DIR"
redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null 2>&1 || true
if [ "$DROP" = 1 ]; then psql_admin -c "DROP DATABASE \"$DB\""; fi
