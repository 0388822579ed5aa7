"""The app's own settings (qms.settings, read from the environment as in production), with one
change for the benchmark: collectstatic must not stop at a vendored script's missing source
map (static/vendor/chartjs/chart.umd.min.js names chart.umd.min.js.map, which is not vendored;
`collectstatic` with DEBUG off fails on it; reported to the lead in the issue 9 note)."""

from qms.settings import *  # noqa: F403
from qms.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "bench.storage.StaticStorage"}}
