"""Shared fixtures: personas (one user per role, plus an outsider with no role), logged-in
browser and API clients, and a real Celery worker process for the tests that need one."""

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from qms import roles as qms_roles

PASSWORD = "Correct-Horse-9"
ROOT = Path(__file__).resolve().parent.parent


def make_user(username, role=None, **extra):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        first_name=username.capitalize(),
        last_name="Tester",
        is_staff=role in qms_roles.ADMIN_SITE_ROLES,
        **extra,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


# --at: run tests with the clock at fixed instants (time-machine), so that date-sensitive code
# and tests are tried at the moments that break naive code (clock changes, year end, leap day,
# business-calendar edges). `--at MOMENT` (repeatable) or `--moments FILE` (tests/moments.txt):
# every selected test runs once per moment, each run starting with the clock at that instant
# and ticking from there (timeouts and polling loops still work); the summary counts the
# outcomes per moment. scripts/test_moments.sh runs the date-sensitive modules this way.
# PostgreSQL's own now() is not moved, which is why the product reads "now" from Python
# (timezone.now()) and never from the database.


def pytest_addoption(parser):
    group = parser.getgroup("clock")
    group.addoption(
        "--at",
        metavar="ISO8601",
        action="append",
        default=[],
        help="run each test with the clock starting at this instant, with its UTC offset "
        "(e.g. 2026-10-25T01:30:00+01:00); repeat for several moments",
    )
    group.addoption("--moments", metavar="FILE", default=None, help="the moments to run at, one per line (# comments)")


def _parse_moment(value: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise pytest.UsageError(f"--at {value!r}: not an ISO 8601 date and time ({error})") from None
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--at {value!r}: give the UTC offset, e.g. {value}+00:00")
    return moment


def clock_moments(config) -> list[str]:
    values = list(config.getoption("--at", default=None) or [])
    path = config.getoption("--moments", default=None)
    if path:
        for line in Path(path).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                values.append(line.strip())
    for value in values:
        _parse_moment(value)
    return values


def pytest_configure(config):
    config._qms_moments = clock_moments(config)
    config._qms_moment_outcomes = {}


def pytest_report_header(config):
    moments = config._qms_moments
    if moments:
        return f"clock: each test runs at {len(moments)} moment(s): {', '.join(moments)}"
    return None


def pytest_generate_tests(metafunc):
    moments = metafunc.config._qms_moments
    if len(moments) > 1:
        metafunc.parametrize("_clock_moment", moments, indirect=True, ids=[f"at {m}" for m in moments])


def pytest_collection_modifyitems(config, items):
    moments = config._qms_moments
    for item in items:
        callspec = getattr(item, "callspec", None)
        moment = callspec.params.get("_clock_moment") if callspec else None
        if moment or len(moments) == 1:
            item.user_properties.append(("clock_moment", moment or moments[0]))


@pytest.fixture(autouse=True)
def _clock_moment(request):
    """First of the function fixtures (autouse), so the records the others build see the moment."""
    moments = request.config._qms_moments
    if not moments:
        yield None
        return
    import time_machine

    moment = getattr(request, "param", None) or moments[0]
    with time_machine.travel(_parse_moment(moment), tick=True):
        yield moment


def pytest_runtest_logreport(report):
    from_item = dict(report.user_properties).get("clock_moment")
    if from_item is None:
        return
    config = _CONFIG[0] if _CONFIG else None
    if config is None:
        return
    if report.when == "call" or report.outcome != "passed":
        counts = config._qms_moment_outcomes.setdefault(from_item, {})
        outcome = "error" if report.when != "call" and report.outcome == "failed" else report.outcome
        counts[outcome] = counts.get(outcome, 0) + 1


_CONFIG: list = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _CONFIG[:] = [session.config]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    outcomes = config._qms_moment_outcomes
    if not outcomes:
        return
    terminalreporter.section("tests per moment")
    for moment in config._qms_moments:
        counts = outcomes.get(moment, {})
        text = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no tests"
        terminalreporter.write_line(f"{moment:27} {text}")


@pytest.fixture(autouse=True)
def _audit_anchor_log(settings, tmp_path_factory):
    """Each test has its own external anchor log and key (qms.audit.anchors): the database is
    rolled back after every test, and an anchor of an earlier test's rows would read as tampering."""
    root = tmp_path_factory.mktemp("anchors")
    settings.QMS_AUDIT_ANCHOR_DIR = root / "log"
    settings.QMS_AUDIT_ANCHOR_KEY_FILE = root / "anchor.key"
    settings.QMS_AUDIT_ANCHOR_KEY = ""


@pytest.fixture(autouse=True)
def _content_types_cached(request):
    """Query counts do not depend on the order tests run in: Django keeps content types in a
    per-process cache that the first request of a process otherwise fills (one query more than
    the same request later). Every database test starts with it filled."""
    # The database as the test asks for it (mark or fixture), set up first.
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
    elif db_fixture := next((n for n in ("transactional_db", "db") if n in request.fixturenames), None):
        request.getfixturevalue(db_fixture)
    else:
        return
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.get_for_models(*apps.get_models(include_auto_created=True))


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def staff(db):
    return make_user("staff", qms_roles.STAFF)


@pytest.fixture
def manager(db):
    return make_user("manager", qms_roles.MANAGER)


@pytest.fixture
def auditor(db):
    return make_user("auditor", qms_roles.AUDITOR)


@pytest.fixture
def employee(db):
    return make_user("employee", qms_roles.EMPLOYEE)


@pytest.fixture
def administrator(db):
    return make_user("administrator", qms_roles.ADMINISTRATOR)


@pytest.fixture
def outsider(db):
    """Logged in, but holds no role."""
    return make_user("outsider")


@pytest.fixture
def personas(staff, manager, auditor, employee, administrator, outsider):
    return {
        "staff": staff,
        "manager": manager,
        "auditor": auditor,
        "employee": employee,
        "administrator": administrator,
        "outsider": outsider,
    }


@pytest.fixture
def client_for(client):
    """client_for(user) -> Django test client logged in as user (no session sharing)."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api_for():
    """api_for(user) -> DRF APIClient authenticated as user (None: anonymous)."""

    def make(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


# A real Celery worker (docs/architecture.md rule 9): a separate `celery worker` process on Redis,
# pointed at this test run's PostgreSQL database and a queue of its own. Tests that use it need
# `transactional_db` so that what they write is committed and visible to the worker.


@pytest.fixture
def celery_queue(settings):
    queue = f"qms-test-{uuid.uuid4().hex[:10]}"
    from qms.celery import app

    # Celery's settings object is not monkeypatch-friendly (undo deletes keys it did not
    # find by getattr), so save and restore by hand.
    saved = {name: app.conf.get(name) for name in ("task_default_queue", "task_always_eager")}
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    yield queue
    for name, value in saved.items():
        setattr(app.conf, name, value)


def start_worker(queue: str, *, beat: bool = False, extra_env: dict | None = None, concurrency: int = 2):
    from django.conf import settings as django_settings
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_DEFAULT_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "qms.settings",
            "CONN_MAX_AGE": "0",
            "QMS_AUDIT_ANCHOR_DIR": str(django_settings.QMS_AUDIT_ANCHOR_DIR),
            "QMS_AUDIT_ANCHOR_KEY_FILE": str(django_settings.QMS_AUDIT_ANCHOR_KEY_FILE),
            **(extra_env or {}),
        }
    )
    args = [sys.executable, "-m", "celery", "-A", "qms", "worker", "-Q", queue, "--loglevel=INFO",
            f"--concurrency={concurrency}", "--pool=prefork", "-n", f"{queue}@%h", "--without-heartbeat",
            "--without-mingle", "--without-gossip"]
    if beat:
        args += ["-B", "--schedule", f"/tmp/{queue}-beat"]
    log = open(f"/tmp/{queue}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Path(f"/tmp/{queue}.log").read_text().find("ready.") >= 0:
            break
        if proc.poll() is not None:
            raise RuntimeError(Path(f"/tmp/{queue}.log").read_text())
        time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("Celery worker did not start:\n" + Path(f"/tmp/{queue}.log").read_text())
    proc.log_path = f"/tmp/{queue}.log"
    return proc


def stop_worker(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def celery_worker(transactional_db, celery_queue):
    """A real worker process consuming this test's queue; yields the Popen (log at .log_path)."""
    proc = start_worker(celery_queue)
    yield proc
    stop_worker(proc)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy (for effects of the real worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
