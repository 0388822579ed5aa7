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

$PY manage.py migrate --noinput
$PY manage.py seed_demo

cleanup() {
  trap - INT TERM EXIT
  echo "Stopping web server, worker and beat ..."
  kill 0 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.venv/bin/celery -A qms worker -B --loglevel=WARNING --concurrency=2 \
  --schedule "$VAR_DIR/celerybeat-schedule" &

echo
echo "QMS is starting at http://$HOST:$PORT/  (log in with the users above; Ctrl-C stops everything)"
echo
$PY manage.py runserver "$HOST:$PORT" --noreload
