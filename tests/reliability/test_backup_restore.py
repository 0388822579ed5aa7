"""Backup and restore (issue 20): `pg_dump` of the test database restored into a new scratch
database holds the same rows in every table (count and content checksum), the same triggers
(the append-only ones, BEFORE TRUNCATE included), and `verify_audit_trail` finds every chain
intact there, checked against the external anchor log written for the source database.

The restored copy is verified by `manage.py verify_audit_trail --no-store` in a subprocess
pointed at the scratch database and at a *copy* of this test's anchor log, so that the check
of the copy neither writes to the source's log nor records anything in the copy."""

import os
import shutil
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from qms.audit.verify import verify_audit_trail
from qms.roles import MANAGER
from tests.complaints.conftest import advance, ensure_policies
from tests.conftest import ROOT, make_user
from tests.reliability.conftest import report, sized

pytestmark = pytest.mark.django_db(transaction=True)


def dsn(name):
    db = connection.settings_dict
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'postgres'} dbname={name}"


def pg_args():
    db = connection.settings_dict
    return [
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"] or "postgres",
    ]


def table_figures(name):
    """{table: (rows, md5 of the rows' text in a fixed order)} for every table of the public schema."""
    figures = {}
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            figures[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) FROM \"{table}\" t"
            ).fetchone()
    return figures


def triggers(name):
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        return sorted(
            conn.execute(
                "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            ).fetchall()
        )


def build_records(count):
    from complaints import services
    from complaints.models import Customer

    ensure_policies()
    from qms.roles import STAFF

    staff = make_user("rel-staff", STAFF)
    manager = make_user("rel-manager", MANAGER)
    customer = Customer.objects.create(
        name="Jane Roe", organisation="St Mary's", email="jane@example.org"
    )
    for index in range(count):
        complaint = services.complaint_create(
            actor=staff,
            title=f"Restore check {index}",
            description="Alarm silent.",
            customer=customer,
        )
        steps = [
            ("acknowledge",),
            ("acknowledge", "investigate", "resolve"),
            ("acknowledge", "investigate", "resolve", "close"),
        ]
        actions = steps[index % 3]
        advance(complaint, *[a for a in actions if a != "close"], actor=staff)
        if "close" in actions:
            advance(complaint, "close", actor=manager)


def test_a_restored_dump_is_equal_and_its_audit_trail_intact(tmp_path):
    count = sized(12, 300)
    build_records(count)
    source_check = verify_audit_trail()  # stores a verification and writes the anchors
    assert source_check.is_intact, source_check.breaks
    connection.close()  # the dump sees everything committed; no open transaction of ours

    source = connection.settings_dict["NAME"]
    scratch = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "qms.dump"
    started = time.monotonic()
    subprocess.run(["pg_dump", *pg_args(), "-Fc", "-f", str(dump), source], check=True)
    dumped = time.monotonic()
    subprocess.run(["createdb", *pg_args(), scratch], check=True)
    try:
        subprocess.run(
            ["pg_restore", *pg_args(), "--exit-on-error", "-d", scratch, str(dump)], check=True
        )
        restored = time.monotonic()

        before, after = table_figures(source), table_figures(scratch)
        assert after == before
        assert before["complaints_historicalcomplaint"][0] > count
        source_triggers, scratch_triggers = triggers(source), triggers(scratch)
        assert scratch_triggers == source_triggers
        truncate_guards = [t for t in scratch_triggers if "BEFORE TRUNCATE" in t[2]]
        row_guards = [
            t for t in scratch_triggers if " BEFORE UPDATE " in t[2] or " BEFORE DELETE " in t[2]
        ]
        append_only = [t for t in scratch_triggers if t[1].startswith("qms_append_only")]
        assert truncate_guards and row_guards, scratch_triggers[:5]

        anchors = tmp_path / "anchors-copy"
        shutil.copytree(django_settings.QMS_AUDIT_ANCHOR_DIR, anchors / "log")
        key_file = anchors / "anchor.key"
        shutil.copy(django_settings.QMS_AUDIT_ANCHOR_KEY_FILE, key_file)
        log_before = sorted((p.name, p.read_bytes()) for p in (anchors / "log").iterdir())
        db = connection.settings_dict
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{scratch}",
            DJANGO_SETTINGS_MODULE="tests.settings",
            QMS_AUDIT_ANCHOR_DIR=str(anchors / "log"),
            QMS_AUDIT_ANCHOR_KEY_FILE=str(key_file),
            QMS_AUDIT_ANCHOR_KEY="",
            QMS_VAR_DIR=str(tmp_path / "var"),
        )
        check = subprocess.run(
            [sys.executable, "manage.py", "verify_audit_trail", "--no-store"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        verified = time.monotonic()
        assert check.returncode == 0, check.stdout + check.stderr
        assert "Audit trail intact" in check.stdout
        assert sorted((p.name, p.read_bytes()) for p in (anchors / "log").iterdir()) == log_before
        assert table_figures(scratch) == before, "--no-store wrote to the restored copy"
    finally:
        subprocess.run(["dropdb", *pg_args(), "--if-exists", "--force", scratch], check=True)

    report(
        "backup-restore",
        complaints=count,
        tables=len(before),
        rows=sum(r for r, _ in before.values()),
        triggers=len(scratch_triggers),
        append_only_triggers=len(append_only),
        truncate_guards=len(truncate_guards),
        row_guards=len(row_guards),
        chained_rows=source_check.rows_checked,
        dump_bytes=dump.stat().st_size,
        dump_s=round(dumped - started, 2),
        restore_s=round(restored - dumped, 2),
        verify_s=round(verified - restored, 2),
        verify_out=check.stdout.strip().splitlines()[0].replace(" ", "_"),
    )
