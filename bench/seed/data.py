"""The seed's fixed vocabulary: the bench manager's log-in, words and names the generated records
are written with (bench/endpoints.py searches for some of them)."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC
BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 (a throwaway benchmark database)
MANAGER_USERNAME = "bench_manager"


def weighted(rng, table):
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


WORDS_PROBLEM = [
    "label misprinted", "seal leaking", "cracked housing", "battery drains early", "display flickers",
    "wrong quantity delivered", "late delivery", "missing instructions for use", "sterile barrier torn",
    "alarm does not sound", "connector loose", "calibration drift", "invoice wrong", "rude phone call",
    "certificate missing", "damaged in transit", "incorrect lot on box", "software freezes", "strap broke",
    "noise during operation",
]
# Where the problem was found: written only into complaint descriptions, one in 16 complaints each
# (by id, so the random stream and every other seeded value stay as they were), for the list
# search's benchmark (bench/endpoints.py COMPLAINT_SEARCH: a word no title holds).
FOUND_DURING = [
    "incoming inspection", "installation", "sterilisation", "unpacking", "commissioning", "routine maintenance",
    "a ward round", "cleaning", "calibration check", "stock rotation", "night shift", "home use", "a service visit",
    "a clinical trial", "an internal audit", "the training session",
]
FUNCTIONS = [
    "Assembly operator", "Warehouse operator", "Lab technician", "Service engineer", "Customer service agent",
    "Production supervisor", "Design engineer", "Purchasing officer", "Sales representative", "Regulatory specialist",
]
FIRST = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Morgan", "Taylor", "Jamie", "Drew", "Casey", "Ari", "Noa"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Green", "Hall", "Wood", "Clarke", "Evans"]
