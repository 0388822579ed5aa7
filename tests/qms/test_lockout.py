"""Log-in lock-out (django-axes, by user name): failed log-ins, failed signature passwords and
failed token requests all count towards one limit (issue 2 item 6)."""

import pytest
from django.conf import settings
from django.urls import reverse

from qms.models import SecurityEvent
from tests.conftest import PASSWORD
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_transition

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    assert settings.AXES_ENABLED, "run the suite with AXES_ENABLED=true (scripts/test.sh does)"
    assert settings.AXES_FAILURE_LIMIT == 5


def test_failed_logins_signatures_and_token_requests_together_lock_the_account(client, api_for, staff, manager):
    specimen = Specimen.objects.create(reference="SPC-T-1", title="Lock", summary="s", owner=staff)
    specimen_transition(specimen, "submit", actor=staff)
    transitions = f"/api/v1/kernel-test/specimens/{specimen.pk}/transitions/"
    manager_api = api_for(manager)

    # Two wrong log-ins.
    for _ in range(2):
        response = client.post(reverse("login"), {"username": "manager", "password": "wrong-1"})
        assert response.status_code == 200 and b"correct username and password" in response.content
    # Two wrong signature passwords.
    for _ in range(2):
        response = manager_api.post(transitions, {"action": "approve", "password": "wrong-2"}, format="json")
        assert response.status_code == 403
        assert "password" in response.json()
    # One wrong token request: the fifth failure.
    response = api_for().post(TOKEN_URL, {"username": "manager", "password": "wrong-3"}, format="json")
    assert response.status_code in (400, 429)

    # Now even the right password is refused everywhere.
    response = client.post(reverse("login"), {"username": "manager", "password": PASSWORD})
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert "_auth_user_id" not in client.session
    response = api_for().post(TOKEN_URL, {"username": "manager", "password": PASSWORD}, format="json")
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert "locked" in response.json()["detail"]
    response = manager_api.post(transitions, {"action": "approve", "password": PASSWORD}, format="json")
    assert response.status_code in (403, 429)
    assert Specimen.objects.get(pk=specimen.pk).status == "in_review"

    kinds = list(SecurityEvent.objects.filter(username="manager").values_list("kind", flat=True))
    assert kinds.count(SecurityEvent.Kind.LOGIN_FAILED) >= 2
    assert kinds.count(SecurityEvent.Kind.SIGNATURE_FAILED) == 3  # two wrong, one while locked
    assert kinds.count(SecurityEvent.Kind.TOKEN_FAILED) >= 1
    assert SecurityEvent.Kind.LOCKED_OUT in kinds
    # Another account is not affected (lock-out is by user name, not by address).
    assert client.post(reverse("login"), {"username": "staff", "password": PASSWORD}).status_code == 302


def test_a_token_is_issued_for_the_right_password_and_works(api_for, staff):
    response = api_for().post(TOKEN_URL, {"username": "staff", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "staff" and me.json()["roles"] == ["Quality Staff"]


@pytest.mark.parametrize("body", [{}, {"username": "staff"}, {"username": "x" * 500, "password": "y"}, {"username": ["a"], "password": 3}])
def test_bad_token_requests_are_400_not_500(api_for, staff, body):
    response = api_for().post(TOKEN_URL, body, format="json")
    assert response.status_code == 400


def test_a_successful_login_resets_the_failure_count(client, staff):
    for _ in range(4):
        client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "staff", "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(4):
        client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "staff", "password": PASSWORD}).status_code == 302
