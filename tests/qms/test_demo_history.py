"""The demo looks alive (issue 18 item 9): after seed_demo, two years of trends move month by
month with no jump in the last week, the audit trail verifies, and the load is timed."""

import datetime
import io
import time

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

SEEDED_AT = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=datetime.UTC)


@time_machine.travel(SEEDED_AT, tick=True)
def test_seed_demo_gives_two_years_of_moving_trends_and_an_intact_audit_trail(monkeypatch):
    from metrics.kpis import Period
    from metrics.selectors import kpi_trends

    # given: a fresh database; when: the whole demo is seeded at make run's size
    monkeypatch.setenv("QMS_DEMO_HISTORY_COMPLAINTS", "300")
    started = time.monotonic()
    call_command("seed_demo", stdout=io.StringIO())
    print(f"seed_demo (PostgreSQL) took {time.monotonic() - started:.1f}s")

    # then: every month of the two years has complaints, and the monthly series vary
    today = timezone.localdate()
    months, series = kpi_trends(Period(start=today - datetime.timedelta(days=729), end=today),
                                ["complaint_volume", "csat", "resolution_hours_median", "training_compliance_rate"])
    assert len(months) >= 24
    volume = series["complaint_volume"]
    assert all(v for v in volume[:-1]), volume  # no empty month before this one
    for code, values in series.items():
        assert len({round(v, 1) for v in values if v is not None}) >= 8, (code, values)
    # the trend goes the way the history tells: fewer complaints, happier customers
    assert sum(volume[:6]) > sum(volume[-7:-1])
    csat = [v for v in series["csat"] if v is not None]
    assert sum(csat[:6]) / 6 < sum(csat[-6:]) / 6

    # no single-week jump: the last week's complaints are a fraction of the two years'
    weeks, weekly = kpi_trends(Period(start=today - datetime.timedelta(days=90), end=today), ["complaint_volume"])
    total = sum(volume)
    assert max(v or 0 for v in weekly["complaint_volume"]) < total / 10

    # and the audit trail verifies after all that back-dated work
    out = io.StringIO()
    call_command("verify_audit_trail", stdout=out)
    assert "intact" in out.getvalue().lower(), out.getvalue()


@time_machine.travel(SEEDED_AT, tick=True)
def test_demo_history_is_idempotent():
    from capa.demo_history import seed_records
    from complaints.models import Complaint
    from documents.models import Document
    from qms import demo
    from training.demo_history import seed_documents

    quiet = lambda *_: None  # noqa: E731
    with demo.fast_demo_passwords():
        demo.seed(log=quiet)
        seed_records(log=quiet)
        seed_documents(log=quiet)
        counts = Complaint.objects.count(), Document.objects.count()
        seed_records(log=quiet)
        seed_documents(log=quiet)
    assert (Complaint.objects.count(), Document.objects.count()) == counts
    assert Complaint.objects.filter(received_at__lt=timezone.now() - datetime.timedelta(days=600)).exists()


def test_demo_users_hash_upgrades_to_full_rounds_on_first_log_in(client, settings):
    from django.conf import global_settings
    from django.contrib.auth import get_user_model

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the project's (PBKDF2 first)
    from qms import demo

    with demo.fast_demo_passwords():
        demo.seed(log=lambda *_: None)
    user = get_user_model().objects.get(username="staff")
    assert user.password.startswith("pbkdf2_sha256$1000$")
    assert client.post(reverse("login"), {"username": "staff", "password": demo.DEMO_PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$1000000$")  # re-hashed at the project's full rounds
