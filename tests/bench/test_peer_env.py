"""The peer (django-helpdesk) runs with none of our settings: on a fresh machine
`make bench PEER=1` ran the peer's setup.sh with our DJANGO_SETTINGS_MODULE, so its Django
imported bench.settings and failed (ModuleNotFoundError). bench/peer_env.sh starts the peer's
processes from an empty environment; bench/run.sh calls every peer script through it."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "PYTHONPATH",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "QMS_VAR_DIR",
    "EMAIL_URL",
    "CELERY_DEFAULT_QUEUE",
    "VIRTUAL_ENV",
)


def peer_environment(*assignments: str) -> dict[str, str]:
    """The environment a peer process gets after bench/env.sh has set ours, as run.sh does."""
    script = (
        f"ROOT={ROOT} PY=python3 PG=postgres://postgres@127.0.0.1:5432 DB=qms_bench_1k WORK=/tmp/qms-bench-test; "
        f'source "$ROOT/bench/env.sh"; export VIRTUAL_ENV=/x/.venv; '
        f'[ "$DJANGO_SETTINGS_MODULE" = bench.settings ] || exit 3; '
        f'source "$ROOT/bench/peer_env.sh"; peer_env {" ".join(assignments)} env -0'
    )
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


def test_the_peer_gets_none_of_our_settings():
    env = peer_environment("WORK=/tmp/peer-helpdesk")
    assert not set(OURS) & set(env), sorted(set(OURS) & set(env))
    assert env["WORK"] == "/tmp/peer-helpdesk"
    assert env["PGPORT"] == "55432"  # the peer's own PostgreSQL cluster
    assert "PATH" in env and "HOME" in env


def test_the_peers_django_would_load_its_own_settings():
    """What the peer's manage.py and setup.sh do first: setdefault their settings module."""
    env = peer_environment()
    script = 'import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdpeer.settings"); print(os.environ["DJANGO_SETTINGS_MODULE"])'
    out = subprocess.run(
        ["python3", "-c", script], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "hdpeer.settings"


def test_every_peer_script_and_python_is_started_through_peer_env():
    lines = (ROOT / "bench" / "run.sh").read_text().splitlines()
    starts = [
        line
        for line in lines
        if re.search(r'"\$PEER_DIR/[\w.]+\.sh"|"\$WORK_PEER_PY"', line)
        and not line.lstrip().startswith(("#", "echo"))
    ]
    assert len(starts) >= 6
    for line in starts:
        for match in re.finditer(
            r'(?:bash "\$PEER_DIR/[\w.]+\.sh"|(?<!-x )"\$WORK_PEER_PY")', line
        ):
            before = line[: match.start()]
            assert re.search(r"peer_env( \w+=\S+)*\s*$", before), line
