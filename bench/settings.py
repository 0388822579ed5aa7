"""The app's own settings (qms.settings, read from the environment as in production), with one
change for the benchmark: collectstatic must not stop at a vendored script's missing source
map (static/vendor/chartjs/chart.umd.min.js names chart.umd.min.js.map, which is not vendored;
`collectstatic` with DEBUG off fails on it; reported to the lead in the issue 9 note)."""

import os

from qms.settings import *  # noqa: F403
from qms.settings import CACHES, STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "bench.storage.StaticStorage"}}

# bench/growth.sh serves two databases at once; each gunicorn's cache keys (the kept dashboard,
# the sessions) get their own prefix when both must share one Redis database.
if os.environ.get("BENCH_CACHE_PREFIX"):
    CACHES = {name: {**cache, "KEY_PREFIX": os.environ["BENCH_CACHE_PREFIX"]} for name, cache in CACHES.items()}
