#!/usr/bin/env bash
# The date-sensitive modules run with the clock at each moment of tests/moments.txt (the clock
# changes in Europe/London, year end, leap day, the first of a month, business-calendar edges):
# every test once per moment, in one pytest session (`--moments`, tests/conftest.py, with
# time-machine), in random order, with a table of the outcomes per moment at the end.
# Browser tests and tests with a real Celery worker are left out: the browser and the worker
# process keep the real clock.
#   bash scripts/test_moments.sh                                  every moment
#   bash scripts/test_moments.sh --at 2026-10-25T01:30:00+01:00   one moment (instead of the file)
#   RANDOMLY_SEED=N bash scripts/test_moments.sh                  replay an order
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/qms}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
export CELERY_BROKER_URL=$REDIS_URL
TMP_HOME=$(mktemp -d)
export XDG_CONFIG_HOME=$TMP_HOME/config XDG_CACHE_HOME=$TMP_HOME/cache
trap 'rm -rf "$TMP_HOME"' EXIT

# What reads the clock to decide something: KPI periods and management review periods (metrics),
# SLA deadlines, business calendars, escalation and the public survey's expiry (complaints),
# due dates and overdue training (training), periodic review and effective dates (documents),
# CAPA due dates and observation windows (capa), and the wall-clock input of forms (qms).
MODULES=(
  tests/metrics/test_kpis.py tests/metrics/test_snapshots.py tests/metrics/test_reviews.py
  tests/metrics/test_alerts.py tests/metrics/test_dashboard.py tests/metrics/test_dashboard_cache.py
  tests/metrics/test_targets_and_units.py tests/metrics/test_api.py
  tests/complaints/test_sla_deadlines.py tests/complaints/test_sla_calendar.py tests/complaints/test_escalation.py
  tests/complaints/test_workflow.py tests/complaints/test_expression_indexes.py tests/complaints/test_sweep_batch.py
  tests/complaints/test_public.py
  tests/training/test_overdue_and_gate.py tests/training/test_assignment_generation.py
  tests/training/test_completion.py tests/training/test_matrix.py
  tests/documents/test_periodic_review.py tests/documents/test_workflow.py
  tests/capa/test_sweeps.py tests/capa/test_workflow.py
  tests/qms/test_local_datetimes.py
)
if [ "${1:-}" = "--at" ]; then clock=(--at "$2"); shift 2; else clock=(--moments tests/moments.txt); fi
seed=${RANDOMLY_SEED:-$(( (RANDOM << 15) | RANDOM ))}
workers=${TEST_WORKERS:-2}
xdist=()
[ "$workers" != "0" ] && xdist=(-n "$workers" --dist loadfile)
echo "moments: ${MODULES[*]}"
echo "moments: test order from --randomly-seed=$seed (replay: RANDOMLY_SEED=$seed bash scripts/test_moments.sh)"
exec .venv/bin/pytest "${MODULES[@]}" -m "not e2e and not celery" "${clock[@]}" \
  -q -p randomly --randomly-seed="$seed" "${xdist[@]}" "$@"
