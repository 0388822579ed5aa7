"""A lost database connection (issue 20): the app's backends are terminated from a second
connection (pg_terminate_backend, as a server restart or failover would); the next request
through the same long-lived WSGI application succeeds, nothing restarted.

The requests go through Django's own WSGIHandler in this thread, as a gunicorn sync worker
would run them: its persistent connection (CONN_MAX_AGE) survives between requests. (The test
client switches off the per-request connection housekeeping, so it cannot show this.)"""

import io
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client

from tests.reliability.conftest import report, sized

pytestmark = pytest.mark.django_db(transaction=True)


def call(app, path, cookie=""):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": cookie,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status = []
    response = app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(response)
    finally:
        response.close()  # request_finished: the connection is kept (CONN_MAX_AGE)
    return int(status[0].split()[0]), body


def terminate_app_backends():
    """From a connection of its own, end every other backend on the test database."""
    db = connection.settings_dict
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'postgres'} dbname={db['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def backend_pid():
    return connection.connection.info.backend_pid if connection.connection is not None else None


def test_requests_succeed_after_the_backends_are_terminated(settings, manager):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_MAX_AGE"] = 60
    browser = Client()
    browser.force_login(manager)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    app = WSGIHandler()

    rounds = sized(3, 20)
    killed = 0
    recover = []
    for _ in range(rounds):
        assert call(app, "/healthz/")[0] == 200
        before = backend_pid()
        assert before is not None, "the connection should persist between requests"
        killed += terminate_app_backends()
        time.sleep(0.05)  # the backend is gone once the signal is handled
        started = time.monotonic()
        status, body = call(app, "/healthz/")
        assert status == 200, body[:500]
        recover.append(time.monotonic() - started)
        assert backend_pid() not in (None, before), (
            "a new connection should have replaced the dead one"
        )
        killed += terminate_app_backends()
        status, body = call(app, "/api/v1/complaints/", cookie)
        assert status == 200, body[:500]
    report(
        "lost-connection",
        rounds=rounds,
        backends_terminated=killed,
        failed_requests=0,
        recover_max_ms=round(max(recover) * 1000, 1),
    )
