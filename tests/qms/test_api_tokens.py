"""API tokens (issue 16 item 7): stored hashed, expire (QMS_API_TOKEN_DAYS, default 90),
revocable by their owner and by an administrator, and a deactivated user's sessions and tokens
stop working at the next request."""

import datetime
import hashlib
import importlib

import pytest
import time_machine
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qms.models import ApiToken, SecurityEvent, User
from qms.tokens import api_token_issue
from tests.conftest import PASSWORD


def make_superuser():
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 2, 27, 9, 30, tzinfo=datetime.UTC)


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def obtain(user):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_token_is_stored_hashed_and_works(staff):
    answer = obtain(staff)
    key = answer["token"]
    token = ApiToken.objects.get()
    assert (
        token.key_hash == hashlib.sha256(key.encode()).hexdigest() and token.key_prefix == key[:8]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM qms_apitoken WHERE row_to_json(qms_apitoken)::text LIKE %s",
            [f"%{key}%"],
        )
        assert cursor.fetchone()[0] == 0
    assert not Token.objects.exists()  # DRF's plaintext table stays empty
    me = token_client(key).get("/api/v1/users/me/")
    assert me.status_code == 200 and me.json()["username"] == "staff"
    assert answer["expires_at"]


def test_each_request_for_a_token_issues_a_new_one(staff):
    assert obtain(staff)["token"] != obtain(staff)["token"]
    assert ApiToken.objects.filter(user=staff).count() == 2
    assert (
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_ISSUED, user=staff).count() == 2
    )


def test_a_token_expires_after_90_days_by_default(staff):
    with time_machine.travel(AT, tick=False):
        key = obtain(staff)["token"]
    token = ApiToken.objects.get()
    assert token.expires_at == AT + datetime.timedelta(days=90)
    with time_machine.travel(AT + datetime.timedelta(days=89, hours=23), tick=False):
        assert token_client(key).get("/api/v1/users/me/").status_code == 200
    with time_machine.travel(AT + datetime.timedelta(days=90), tick=False):
        response = token_client(key).get("/api/v1/users/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_the_lifetime_is_a_setting(settings, staff):
    settings.QMS_API_TOKEN_DAYS = 7
    with time_machine.travel(AT, tick=False):
        token, key = api_token_issue(user=staff, name="Script")
    assert token.expires_at == AT + datetime.timedelta(days=7)
    with time_machine.travel(AT + datetime.timedelta(days=7, seconds=1), tick=False):
        assert token_client(key).get("/api/v1/users/me/").status_code == 401


def test_the_owner_revokes_a_token_through_the_api(staff):
    key = obtain(staff)["token"]
    client = token_client(key)
    token = ApiToken.objects.get()
    listed = client.get("/api/v1/auth/tokens/").json()["results"]
    assert (
        [row["key_prefix"] for row in listed] == [key[:8]]
        and "key" not in listed[0]
        and "key_hash" not in listed[0]
    )
    response = client.post(f"/api/v1/auth/tokens/{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert response.json()["revoked_by"] == "staff"
    after = client.get("/api/v1/users/me/")
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKED).count() == 1


def test_revoking_twice_changes_nothing(api_for, staff):
    token, _key = api_token_issue(user=staff)
    first = api_for(staff).post(f"/api/v1/auth/tokens/{token.pk}/revoke/").json()["revoked_at"]
    second = api_for(staff).post(f"/api/v1/auth/tokens/{token.pk}/revoke/").json()["revoked_at"]
    assert first == second
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKED).count() == 1


def test_another_user_can_neither_see_nor_revoke_a_token(api_for, staff, manager):
    token, key = api_token_issue(user=staff)
    assert api_for(manager).get("/api/v1/auth/tokens/").json()["results"] == []
    assert api_for(manager).post(f"/api/v1/auth/tokens/{token.pk}/revoke/").status_code == 404
    assert token_client(key).get("/api/v1/users/me/").status_code == 200


def test_an_administrator_sees_and_revokes_anyones_token(api_for, staff, administrator):
    token, key = api_token_issue(user=staff)
    listed = api_for(administrator).get(f"/api/v1/auth/tokens/?user={staff.pk}").json()["results"]
    assert [row["user"] for row in listed] == ["staff"]
    response = api_for(administrator).post(f"/api/v1/auth/tokens/{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_by"] == "administrator"
    assert token_client(key).get("/api/v1/users/me/").status_code == 401


@pytest.mark.parametrize("user_filter", ["abc", "9" * 40, "-1"])
def test_a_bad_user_filter_answers_400(api_for, administrator, user_filter):
    assert api_for(administrator).get(f"/api/v1/auth/tokens/?user={user_filter}").status_code == 400


def test_a_named_token_is_issued_through_the_api_and_its_key_shown_once(api_for, staff):
    response = api_for(staff).post("/api/v1/auth/tokens/", {"name": "Help desk"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    assert token_client(key).get("/api/v1/users/me/").status_code == 200
    again = api_for(staff).get(f"/api/v1/auth/tokens/{response.json()['id']}/").json()
    assert again["name"] == "Help desk" and again.get("key") is None


@pytest.mark.parametrize("name", ["x" * 101, "a\x00b"])
def test_a_bad_token_name_answers_400(api_for, staff, name):
    response = api_for(staff).post("/api/v1/auth/tokens/", {"name": name}, format="json")
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_the_owner_lists_issues_and_revokes_on_the_page(client_for, staff, manager):
    client = client_for(staff)
    other, _ = api_token_issue(user=manager, name="Manager's script")
    issued = client.post("/accounts/tokens/", {"name": "Laptop script"})
    assert issued.status_code == 200
    token = ApiToken.objects.get(user=staff)
    key = issued.context["new_key"]
    assert key.startswith(token.key_prefix) and key.encode() in issued.content
    page = client.get("/accounts/tokens/")
    assert b"Laptop script" in page.content and key.encode() not in page.content
    assert b"Manager&#x27;s script" not in page.content
    revoked = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == staff
    refused = client.post(f"/accounts/tokens/{other.pk}/revoke/", follow=True)
    assert b"Only the token" in refused.content
    other.refresh_from_db()
    assert other.revoked_at is None


def test_an_administrator_revokes_on_the_page(client_for, staff, administrator):
    token, key = api_token_issue(user=staff, name="Staff script")
    page = client_for(administrator).get("/accounts/tokens/")
    assert b"Staff script" in page.content
    client_for(administrator).post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_by == administrator
    assert token_client(key).get("/api/v1/users/me/").status_code == 401


def test_deactivating_a_user_ends_their_sessions_and_tokens_at_the_next_request(client_for, staff):
    token, key = api_token_issue(user=staff)
    browser = client_for(staff)
    api_session = APIClient()
    api_session.force_login(staff)
    assert browser.get("/").status_code == 200
    assert token_client(key).get("/api/v1/users/me/").status_code == 200
    assert api_session.get("/api/v1/users/me/").status_code == 200
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    page = browser.get("/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert token_client(key).get("/api/v1/users/me/").status_code == 401
    assert api_session.get("/api/v1/users/me/").status_code in {401, 403}
    staff.is_active = True
    staff.save(update_fields=["is_active"])
    # Ended, not suspended: reactivating the user brings neither back.
    assert browser.get("/").status_code == 302
    assert token_client(key).get("/api/v1/users/me/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by is None


def test_deactivating_in_the_admin_revokes_the_users_tokens(client_for, staff, administrator):
    from django.contrib.auth.models import Group

    token, key = api_token_issue(user=staff)
    admin = client_for(User.objects.filter(is_superuser=True).first() or make_superuser())
    form = admin.get(f"/admin/qms/user/{staff.pk}/change/")
    assert form.status_code == 200
    data = {
        "username": staff.username,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "email": staff.email,
        "is_staff": "",
        "is_active": "",
        "groups": [g.pk for g in Group.objects.filter(user=staff)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "department": "",
        "job_function": "",
        "manager": "",
    }
    response = admin.post(f"/admin/qms/user/{staff.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_client(key).get("/api/v1/users/me/").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Token ",
        "Token a\x00b",
        "Token " + "x" * 5000,
        "Token \xe9\xff",
        "Token a b",
        "Bearer x",
        "Token ../../etc",
    ],
)
def test_hostile_token_headers_answer_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/users/me/").status_code == 401


def test_last_used_is_written_at_most_every_five_minutes(staff, django_assert_num_queries):
    with time_machine.travel(AT, tick=False):
        token, key = api_token_issue(user=staff)
        token_client(key).get("/api/v1/users/me/")
        token.refresh_from_db()
        assert token.last_used_at == AT
    with time_machine.travel(AT + datetime.timedelta(minutes=4), tick=False):
        token_client(key).get("/api/v1/users/me/")
    token.refresh_from_db()
    assert token.last_used_at == AT
    with time_machine.travel(AT + datetime.timedelta(minutes=6), tick=False):
        token_client(key).get("/api/v1/users/me/")
    token.refresh_from_db()
    assert token.last_used_at == AT + datetime.timedelta(minutes=6)


def test_drf_tokens_of_before_are_hashed_by_the_migration(staff):
    from django.apps import apps

    old = Token.objects.create(user=staff)
    migration = importlib.import_module("qms.migrations.0010_api_token_hash_drf_tokens")
    migration.hash_drf_tokens(apps, None)
    assert not Token.objects.exists()
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(old.key.encode()).hexdigest()
    assert token_client(old.key).get("/api/v1/users/me/").status_code == 200
