"""API fuzzing with Schemathesis over the OpenAPI schema (issue 20 item 2): every operation, as a
Quality Manager and as an Auditor, with data that fits the schema and data that does not;
checks: no 5xx (not_a_server_error), answers that match the schema
(response_schema_conformance), and no operation that answers without credentials (ignored_auth).

The bounded profile (QMS_FUZZ_EXAMPLES, default 5 examples per operation and mode) runs in CI;
`QMS_FUZZ_EXAMPLES=25 pytest -m fuzz tests/hostile/test_fuzz_schemathesis.py` is the larger one.
Examples are derandomised (the same inputs on every run) and not shrunk, to stay in budget."""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from qms.tokens import api_token_issue

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# Examples per operation and role, shared by the modes: 5 -> 3 that fit the schema, 2 that do not.
EXAMPLES = int(os.environ.get("QMS_FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error, response_schema_conformance, ignored_auth]
MODES = {
    schemathesis.GenerationMode.POSITIVE: (EXAMPLES + 1) // 2,
    schemathesis.GenerationMode.NEGATIVE: max(EXAMPLES // 2, 1),
}


def fuzz(user) -> list[str]:
    _token, key = api_token_issue(user=user, name="fuzzing")
    auth = {"Authorization": f"Token {key}"}
    app = WSGIHandler()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=auth)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in MODES.items():

            @hypothesis_settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                pass  # no invalid input exists for an operation without parameters (negative mode)
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - reported together below
                failures.append(f"{mode.value} {operation.label}: {str(failure)[:1500]}")
    return failures


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" database connections at each request's start and end, which
    would close the test's own transaction; Django's test client disconnects the same receivers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schemathesis_as_a_quality_manager(manager, complaint):
    failures = fuzz(manager)
    assert not failures, "\n\n".join(failures)


def test_schemathesis_as_an_auditor(auditor, complaint):
    failures = fuzz(auditor)
    assert not failures, "\n\n".join(failures)
