"""Security from the first line (issue 2 items 2 and 6): login required everywhere, headers and
CSP on every answer, `check --deploy` clean with production settings, and settings that refuse
to start in production with the development SECRET_KEY."""

import os
import secrets
import subprocess
import sys

from django.urls import reverse

from tests.conftest import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "qms.example.com",
    "DATABASE_URL": "postgres://qms@db.example.com:5432/qms",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "DJANGO_SETTINGS_MODULE": "qms.settings",
    # The audit anchor key from a secret, the anchor log on a volume of its own (issue 15).
    "QMS_AUDIT_ANCHOR_KEY": secrets.token_hex(32),
    "QMS_AUDIT_ANCHOR_DIR": "/var/lib/qms-anchors",
}


def manage(*args, env_overrides, unset=()):
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests' conftest; production never has it.
    unset = (*unset, "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in unset and k not in PRODUCTION_ENV}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_where_the_audit_anchor_key_is_missing_or_exposed(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "QMS_AUDIT_ANCHOR_KEY"}
    missing = manage("check", "--deploy", env_overrides={**env, "QMS_AUDIT_ANCHOR_KEY_FILE": str(tmp_path / "none.key")}, unset=("QMS_AUDIT_ANCHOR_KEY",))
    assert "qms.W101" in missing.stderr + missing.stdout
    anchor_dir = tmp_path / "anchors"
    anchor_dir.mkdir()
    exposed = anchor_dir / "anchor.key"
    exposed.write_text(secrets.token_hex(32))
    exposed.chmod(0o644)
    result = manage("check", "--deploy", env_overrides={**env, "QMS_AUDIT_ANCHOR_DIR": str(anchor_dir), "QMS_AUDIT_ANCHOR_KEY_FILE": str(exposed)}, unset=("QMS_AUDIT_ANCHOR_KEY",))
    output = result.stderr + result.stdout
    assert "qms.W102" in output and "qms.W103" in output and "qms.W101" not in output


def test_production_settings_refuse_the_development_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env_overrides=env, unset=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_a_malformed_boolean_setting_is_refused():
    result = manage("check", env_overrides={**PRODUCTION_ENV, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_every_answer_carries_the_security_headers_and_the_csp(client, staff):
    responses = [client.get(reverse("login"))]
    client.force_login(staff)
    responses.append(client.get(reverse("home")))
    for response in responses:
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_need_a_login_and_the_api_answers_401_or_403(client, api_for, db):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert api_for().get("/api/v1/users/me/").status_code in (401, 403)
    assert client.get(reverse("health")).status_code == 200  # the one public page besides login


def test_the_session_cookie_is_http_only_and_same_site(client, staff):
    from django.conf import settings

    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "staff", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
