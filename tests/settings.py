"""Test settings: the project's settings plus a test-only app (tests.kernel_app) whose
`Specimen` record exercises the kernel (workflow engine, signatures, references, versioning,
append-only history) without depending on the product apps."""

import os

from qms.settings import *  # noqa: F403
from qms.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.kernel_app"]
ROOT_URLCONF = "tests.urls"

# Password hashing is deliberately slow; the suite logs in, signs and creates users thousands
# of times. The production hasher is covered by Django itself. (The Celery worker subprocess
# runs qms.settings and never checks a password.)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# seed_demo's two years of history (qms/demo_history.py) at a tenth of make run's size: the
# walks and browser tests need its records, not its volume; tests/qms/test_demo_history.py
# seeds the full size.
os.environ.setdefault("QMS_DEMO_HISTORY_COMPLAINTS", "30")

# A per-process cache, emptied before each test (tests/conftest.py): DRF's throttles and other
# cached counters must not leak from one test into the next, nor between xdist workers through
# the shared Redis (which is also the broker, so it cannot simply be flushed).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests read the dashboard live; tests/metrics/test_dashboard_cache.py turns the cache on.
METRICS_DASHBOARD_CACHE_SECONDS = 0

# Flushing between transactional tests truncates the append-only tables, whose triggers refuse
# TRUNCATE (issue 15): the test backend lets the suite's superuser do it (tests/pg_backend).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.pg_backend"  # noqa: F405
