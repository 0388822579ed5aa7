#!/usr/bin/env bash
# The "cost within 1.3x of the smaller scale" pages measured side by side (`make bench-growth`,
# `make bench-growth SCALE=1m` for 100k against 1M).
#
#   bash bench/growth.sh [--large 100k] [--small 10k] [--small-db NAME] [--large-db NAME]
#                        [--small-raw DIR] [--seq 200] [--conc 8] [--duration 20] [--warmup 5]
#
# Needs the databases of an earlier `make bench SCALE=<small>` and `make bench SCALE=<large>` (and
# their seed.json). Two separate runs are half an hour apart on a shared machine whose speed drifts by
# more than 30% over that time; here both databases are served at once (two gunicorns, 2 sync
# workers each, each with its own Redis database) and each page (bench/report.py GROWTH_PAGES) is
# measured on the small one, then at once on the large one, page by page, as the peer is in run.sh.
# Writes bench/results/raw/<large>/growth_{<small>,<large>}.json and writes the large scale's report
# again (bench/report.py uses these figures for the growth target).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SEQ=200; CONC=8; DURATION=20; WARMUP=5; SEQ_MAX=${SEQ_MAX_SECONDS:-120}
LARGE=100k; SMALL=""; SMALL_DB=""; LARGE_DB=""; RAW_SMALL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --large) LARGE=$2; shift 2 ;;
    --small) SMALL=$2; shift 2 ;;
    --small-db) SMALL_DB=$2; shift 2 ;;
    --large-db) LARGE_DB=$2; shift 2 ;;
    --small-raw) RAW_SMALL=$2; shift 2 ;;
    --seq) SEQ=$2; shift 2 ;;
    --conc) CONC=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PY="${PY:-$ROOT/.venv/bin/python}"
SMALL=${SMALL:-$("$PY" -c "from bench.report import SMALLER; print(SMALLER['$LARGE'])")}
SMALL_DB=${SMALL_DB:-qms_bench_$SMALL}; LARGE_DB=${LARGE_DB:-qms_bench_$LARGE}
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
RESULTS="${BENCH_REPORT_DIR:-$ROOT/bench/results}"
RAW="$RESULTS/raw/$LARGE"; RAW_SMALL="${RAW_SMALL:-$RESULTS/raw/$SMALL}"
for side in "$SMALL_DB $RAW_SMALL" "$LARGE_DB $RAW"; do
  set -- $side
  [ -f "$2/seed.json" ] && psql "$PG/$1" -qAtc "SELECT 1" >/dev/null 2>&1 \
    || { echo "no seeded $1 (or no $2/seed.json): run make bench for it first" >&2; exit 1; }
done

DB="$LARGE_DB"; WORK="${TMPDIR:-/tmp}/qms-bench/growth"
mkdir -p "$WORK"
source "$ROOT/bench/env.sh"
"$PY" manage.py collectstatic --noinput -v0

serve() {  # $1 = database, $2 = port, $3 = Redis URL
  DATABASE_URL="$PG/$1" REDIS_URL="$3" CELERY_BROKER_URL="$3" BENCH_CACHE_PREFIX="$1" .venv/bin/gunicorn qms.wsgi:application --workers 2 \
    --worker-class sync --bind "127.0.0.1:$2" --pid "$WORK/gunicorn-$2.pid" --error-logfile "$WORK/gunicorn-$2.log" \
    --log-level warning --daemon
  for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$2/healthz/" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "gunicorn on $2 did not come up; see $WORK/gunicorn-$2.log" >&2; return 1
}
stop() {
  for pidfile in "$WORK"/gunicorn-*.pid; do
    [ -f "$pidfile" ] && { kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; }
  done
}
trap stop EXIT
LARGE_PORT=${GROWTH_PORT:-8010}; SMALL_PORT=$((LARGE_PORT + 2))
serve "$LARGE_DB" "$LARGE_PORT" "${BENCH_REDIS_URL:-redis://127.0.0.1:6379/13}"
serve "$SMALL_DB" "$SMALL_PORT" "${BENCH_REDIS_URL_SMALL:-redis://127.0.0.1:6379/14}"

rm -f "$RAW/growth_$SMALL.json" "$RAW/growth_$LARGE.json"
for name in $("$PY" -c "from bench.report import GROWTH_PAGES; print(' '.join(GROWTH_PAGES))"); do
  for side in "$SMALL $SMALL_PORT $RAW_SMALL" "$LARGE $LARGE_PORT $RAW"; do
    set -- $side
    "$PY" -m bench.http_bench --base "http://127.0.0.1:$2" --meta "$3/seed.json" --seq "$SEQ" --conc "$CONC" --duration "$DURATION" \
      --warmup "$WARMUP" --seq-max-seconds "$SEQ_MAX" --only "$name" --out "$RAW/growth_$1.json" || echo "!! $name on $1 had errors"
  done
done
stop
# ../shared/peers/helpdesk: the peer benchmark's harness on the benchmark machines, a machine
# path to a program we run (set PEER_DIR elsewhere), not a design document (those are in docs/).
"$PY" -m bench.report --scale "$LARGE" --raw "$RAW" --out-dir "$RESULTS" --peer-dir "${PEER_DIR:-$ROOT/../shared/peers/helpdesk}"
