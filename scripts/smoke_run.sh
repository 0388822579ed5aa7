#!/usr/bin/env bash
# Smoke test of `make run`'s embedded default: start it on a fresh var/ folder with no database
# or broker server configured, log in over HTTP as the demo manager, open "My work", stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${SMOKE_PORT:-8765}
WORK=$(mktemp -d)
LOG=$WORK/run.log
env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL QMS_VAR_DIR="$WORK/var" PORT=$PORT \
  setsid bash scripts/run.sh >"$LOG" 2>&1 &
PID=$!
stop() { kill -TERM -- -"$PID" 2>/dev/null || true; sleep 2; kill -KILL -- -"$PID" 2>/dev/null || true; }
trap 'stop; rm -rf "$WORK"' EXIT

for _ in $(seq 1 180); do
  curl -fsS "http://127.0.0.1:$PORT/healthz/" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "make run exited early:"; cat "$LOG"; exit 1; }
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz/" >/dev/null || { echo "make run did not come up:"; tail -50 "$LOG"; exit 1; }

JAR=$WORK/cookies
curl -fsS -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/accounts/login/" -o "$WORK/login.html"
TOKEN=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"$//')
curl -fsS -c "$JAR" -b "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/accounts/login/" \
  -H "Referer: http://127.0.0.1:$PORT/accounts/login/" \
  --data-urlencode "csrfmiddlewaretoken=$TOKEN" --data-urlencode "username=manager" \
  --data-urlencode "password=qms-demo-2026"
curl -fsS -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/" -o "$WORK/home.html"
grep -q "My work" "$WORK/home.html" || { echo "logged-in home page not shown"; head -40 "$WORK/home.html"; exit 1; }
grep -q "Maria Manager" "$WORK/home.html" || { echo "not logged in as the demo manager"; exit 1; }
grep -q "Demo data ready" "$LOG" || { echo "demo data was not loaded"; exit 1; }
echo "smoke: make run came up on the embedded default, login as manager works"
