"""The reliability suite (issue 20): faults injected into the real stack (PostgreSQL, Redis,
Celery worker processes), checked for lost, doubled or half-done work.

RELIABILITY_PROFILE=short (the default, run by `make test`) keeps every test within ~30 s on
a small machine; RELIABILITY_PROFILE=full (`make reliability`) runs the larger figures. Each
test prints its figures on a line starting with "RELIABILITY", so `pytest -s` shows them."""

import os

import pytest

PROFILE = os.environ.get("RELIABILITY_PROFILE", "short").strip().lower() or "short"
if PROFILE not in {"short", "full"}:
    raise pytest.UsageError(f"RELIABILITY_PROFILE={PROFILE!r}: use 'short' or 'full'")


def sized(short, full):
    """The figure of the current profile."""
    return full if PROFILE == "full" else short


def report(name: str, **figures):
    """One line of figures per test, for the note of a `make reliability` run."""
    text = " ".join(f"{key}={value}" for key, value in figures.items())
    print(f"\nRELIABILITY {name} profile={PROFILE} {text}", flush=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/reliability/" in item.nodeid:
            item.add_marker(pytest.mark.reliability)
