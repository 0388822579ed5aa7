#!/usr/bin/env bash
# make test: lint, import contracts, migrations in sync, then the suite on PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/qms}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
export CELERY_BROKER_URL=$REDIS_URL
export AXES_ENABLED=${AXES_ENABLED:-true}
TMP_HOME=$(mktemp -d)
export XDG_CONFIG_HOME=$TMP_HOME/config XDG_CACHE_HOME=$TMP_HOME/cache
trap 'rm -rf "$TMP_HOME"' EXIT
mkdir -p "$TMP_HOME/var"

.venv/bin/ruff check .
# The import contracts of pyproject.toml: the layers of the apps, no circle inside an app (issue 21).
.venv/bin/lint-imports --no-cache --no-logo
DATABASE_URL= QMS_VAR_DIR=$TMP_HOME/var .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
# The whole suite runs on TEST_WORKERS xdist workers (default 2; 0 runs in one process). Each
# worker has its own test database (test_<name>_gw0, _gw1) and the Celery tests use a queue of
# their own, so they do not collide. With arguments, pytest runs exactly what you ask.
if [ $# -eq 0 ] && [ "${TEST_WORKERS:-2}" != "0" ]; then
  set -- -n "${TEST_WORKERS:-2}" --dist loadfile
fi
.venv/bin/pytest "$@"
