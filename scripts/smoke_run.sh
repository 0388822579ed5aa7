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
echo "smoke: $(grep -m1 '^Loaded in' "$LOG") Load average: $(cut -d' ' -f1-3 /proc/loadavg)."
# The main pages answer 200 on SQLite too (the suite runs on PostgreSQL; vendor-specific SQL
# must have a fallback here). Record pages: the first link of each list.
get() { curl -sS -c "$JAR" -b "$JAR" -o "$WORK/page.html" -w "%{http_code}" "http://127.0.0.1:$PORT$1"; }
first_link() { get "$1" >/dev/null; grep -oE "href=\"$2[0-9]+/\"" "$WORK/page.html" | head -1 | sed 's/href="//; s/"$//'; }
pages="/complaints/ /capa/ /documents/ /training/ /training/my/ /training/matrix/ /metrics/ /audit/ /notifications/
/api/v1/complaints/ /api/v1/capas/ /api/v1/audit-trail/"
for prefix in /complaints/ /capa/ /documents/; do
  link=$(first_link "$prefix" "$prefix")
  [ -n "$link" ] || { echo "no record link on $prefix"; exit 1; }
  pages="$pages $link"
done
complaint=$(first_link /complaints/ /complaints/ | grep -oE "[0-9]+")
pages="$pages /audit/records/complaints.complaint/$complaint/ /api/v1/complaints/$complaint/history/"
failed=0
for page in $pages; do
  status=$(get "$page")
  if [ "$status" != 200 ]; then echo "smoke: GET $page -> $status"; failed=1; fi
done
[ "$failed" = 0 ] || { echo "--- server log ---"; tail -60 "$LOG"; exit 1; }
echo "smoke: make run came up on the embedded default, login as manager works, $(echo $pages | wc -w) pages answer 200"
