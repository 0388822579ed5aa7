#!/usr/bin/env bash
# make run: migrate, load demo data (idempotent), then web + Celery worker + beat in one process
# group. Without DATABASE_URL / REDIS_URL it runs on SQLite and kombu's filesystem broker
# under var/ (QMS_VAR_DIR), so nothing but Python is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VAR_DIR=${QMS_VAR_DIR:-var}
export QMS_VAR_DIR=$VAR_DIR
export SITE_URL=${SITE_URL:-http://$HOST:$PORT}
mkdir -p "$VAR_DIR/broker/queue" "$VAR_DIR/broker/processed" "$VAR_DIR/broker/control" "$VAR_DIR/media"

# The load is timed and printed (issue 18 item 9: a fresh `make run` loads in under a minute on an
# idle 2-core machine; the CI smoke test prints the figure).
load_started=$(date +%s.%N)
$PY manage.py migrate --noinput
migrated=$(date +%s.%N)
$PY manage.py seed_demo
seeded=$(date +%s.%N)
awk -v a="$load_started" -v b="$migrated" -v c="$seeded" \
  'BEGIN { printf "Loaded in %.1f s (migrate %.1f s, demo data %.1f s).\n", c - a, b - a, c - b }'

# Stopping (issue 18 item 10): Ctrl-C or SIGTERM stops everything within STOP_GRACE seconds.
# The worker gets TERM (warm shutdown: running tasks may finish; tasks are acks_late, so an
# interrupted one is redelivered), and whatever still runs after the grace period is KILLed,
# children first. Only this script's own descendants are signalled, never the caller's group.
STOP_GRACE=${STOP_GRACE:-6}
descendants() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}
cleanup() {
  trap - EXIT
  trap '' INT TERM
  echo "Stopping web server, worker and beat ..."
  local pids deadline
  pids=$(descendants $$)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
  deadline=$((SECONDS + STOP_GRACE))
  while [ -n "$(descendants $$)" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  pids=$(descendants $$)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  wait 2>/dev/null || true
  exit 0
}
trap cleanup INT TERM EXIT

# The threads pool: one worker process (with embedded beat), no fork pool to wind down; heartbeat,
# gossip and mingle are for multi-worker clusters and only delay start and stop here.
.venv/bin/celery -A qms worker -B --loglevel=WARNING --pool=threads --concurrency=2 \
  --without-heartbeat --without-gossip --without-mingle \
  --schedule "$VAR_DIR/celerybeat-schedule" &

echo
echo "QMS is starting at http://$HOST:$PORT/  (log in with the users above; Ctrl-C stops everything)"
echo
# In the background so the trap runs at once on a signal (bash defers traps while a foreground
# command runs).
$PY manage.py runserver "$HOST:$PORT" --noreload &
wait
