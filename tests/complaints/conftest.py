"""Builders for the complaints tests. Later states are reached through the services, so the
transition and history rows exist as they would in real use."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import BusinessCalendar, Category, Customer, FailureMode, Product, SlaPolicy
from tests.conftest import PASSWORD

STEPS = [
    {"level": 1, "percent": 75, "notify": ["assignee"]},
    {"level": 2, "percent": 100, "notify": ["assignee", "quality_managers"]},
    {"level": 3, "percent": 150, "notify": ["head_of_quality"]},
]


def ensure_policies(*, business: bool = False, first_response_hours="4", resolution_hours="24", steps=None):
    """SLA policies for every severity (the data migration's rows are gone after a flush).
    By default in calendar hours, so tests do not depend on the weekday they run on."""
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Test office",
        defaults={"time_zone": "Europe/London", "working_days": [0, 1, 2, 3, 4], "working_periods": [["09:00", "17:00"]]},
    )
    for severity in ("low", "medium", "high", "critical"):
        SlaPolicy.objects.update_or_create(
            severity=severity,
            defaults={
                "first_response_hours": Decimal(first_response_hours),
                "resolution_hours": Decimal(resolution_hours),
                "counts_business_time": business,
                "calendar": calendar,
                "escalation_steps": STEPS if steps is None else steps,
            },
        )
    return calendar


@pytest.fixture
def policies(db):
    return ensure_policies()


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Jane Roe", organisation="St Mary's Hospital", email="jane.roe@example.org")


@pytest.fixture
def product(db):
    return Product.objects.create(code="INF-200", name="Infusion pump")


@pytest.fixture
def category(db):
    return Category.objects.get_or_create(name="Product defect")[0]


@pytest.fixture
def failure_mode(category):
    return FailureMode.objects.get_or_create(category=category, name="Alarm silent or delayed")[0]


@pytest.fixture
def make_complaint(policies, customer, staff):
    def make(actor=None, **fields):
        fields.setdefault("title", "Pump alarm does not sound")
        fields.setdefault("description", "The occlusion alarm stayed silent during a test.")
        fields.setdefault("customer", customer)
        return services.complaint_create(actor=actor or staff, **fields)

    return make


@pytest.fixture
def complaint(make_complaint):
    return make_complaint()


def advance(complaint, *actions, actor, **data):
    """Take workflow steps in order, with the input each needs."""
    for action in actions:
        extra = {}
        password = None
        if action == "resolve":
            extra["resolution"] = data.get("resolution", "Replaced the pump; alarm tested.")
        if action == "close":
            extra.update(
                investigation_required="no", no_investigation_reason="Known issue, investigated in CMP-2026-00001.",
                is_reportable="no", reportability_reason="No injury, no malfunction that could cause harm.",
            )
            password = PASSWORD
        services.complaint_transition(
            complaint, action, actor=actor, reason=data.get("reason", f"test: {action}"), password=password, data=extra
        )
        complaint.refresh_from_db()
    return complaint


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The personas' passwords are hashed for every test; a cheap hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
