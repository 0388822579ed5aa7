# Sourced by bench/run.sh and bench/growth.sh: the production-like environment our processes
# are served and measured with. Needs ROOT, PY, PG, DB and WORK set.
# Production-like settings; a real random key, cookies without HTTPS (plain HTTP on loopback).
export DATABASE_URL="$PG/$DB"
export DEBUG=false SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_HSTS_SECONDS=0
export ALLOWED_HOSTS="127.0.0.1,localhost,testserver"
export SECRET_KEY="${SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')}"
export QMS_VAR_DIR="$WORK/var" EMAIL_URL="locmem://" LOG_LEVEL=WARNING
export REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/13}" CELERY_DEFAULT_QUEUE=qms_bench
export CELERY_BROKER_URL="$REDIS_URL"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_SETTINGS_MODULE=bench.settings
