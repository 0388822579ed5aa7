"""docker-compose.yml, read (docker cannot run here): the stack creates both database roles,
migrates as the schema owner and runs web, worker and beat as the runtime role; the audit anchor
log is a volume of its own that the database never mounts, and its key is a file secret
(issue 15, items 5 and 7)."""

import yaml

from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_web_worker_and_beat_connect_as_the_runtime_role():
    for name in ("web", "worker", "beat"):
        url = SERVICES[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgres://qms_app:"), (name, url)
        assert "migrate" not in " ".join(SERVICES[name].get("command") or []), name


def test_the_migrate_service_creates_the_roles_migrates_as_the_owner_and_checks_the_runtime_role():
    migrate = SERVICES["migrate"]
    script = migrate["command"][-1]
    steps = [line.strip() for line in script.splitlines() if line.strip()]
    assert steps == [
        'DATABASE_URL="$$ADMIN_DATABASE_URL" python manage.py db_roles setup --owner qms_owner --runtime qms_app',
        'DATABASE_URL="$$OWNER_DATABASE_URL" python manage.py migrate --noinput',
        'DATABASE_URL="$$OWNER_DATABASE_URL" python manage.py db_roles grant --runtime qms_app',
        "python manage.py db_roles check",
    ]
    environment = migrate["environment"]
    assert environment["OWNER_DATABASE_URL"].startswith("postgres://qms_owner:")
    assert environment["DATABASE_URL"].startswith("postgres://qms_app:")  # what `check` connects as
    assert migrate["restart"] == "no"
    assert SERVICES["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_the_anchor_log_has_its_own_volume_and_the_key_is_a_secret_the_database_never_sees():
    assert "audit-anchors" in COMPOSE["volumes"]
    assert "audit_anchor_key" in COMPOSE["secrets"]
    for name in ("web", "worker"):
        service = SERVICES[name]
        assert "audit-anchors:/data/audit-anchors" in service["volumes"], name
        assert service["secrets"] == ["audit_anchor_key"], name
        assert service["environment"]["QMS_AUDIT_ANCHOR_DIR"] == "/data/audit-anchors"
        assert (
            service["environment"]["QMS_AUDIT_ANCHOR_KEY_FILE"] == "/run/secrets/audit_anchor_key"
        )
    db = SERVICES["db"]
    assert not any("audit-anchors" in volume for volume in db.get("volumes", []))
    assert "secrets" not in db
