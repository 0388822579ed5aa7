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


@pytest.hookimpl(tryfirst=True)  # before -m selects by marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/reliability/" in item.nodeid:
            item.add_marker(pytest.mark.reliability)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, on a free port, in memory only (an outage loses what it held)."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        import subprocess
        import time

        import redis

        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def worker_children(pid: int) -> list[int]:
    try:
        text = open(f"/proc/{pid}/task/{pid}/children").read()  # noqa: SIM115
    except OSError:
        return []
    return [int(p) for p in text.split()]
