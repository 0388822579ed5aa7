"""Issue 16 item 5: recurrence that means something. Matched on a configurable key (product and
failure mode by default; optionally lot), recomputed when those fields change, on every intake
channel, excluding rejected complaints and those closed as not a product problem; the KPI reads
the same rule."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from complaints import selectors, services
from complaints.models import Category, Complaint, FailureMode
from tests.complaints.conftest import advance
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def modes(category):
    names = ("Battery drains", "Alarm too quiet", "Display cracked or housing damaged")
    return [FailureMode.objects.get_or_create(category=category, name=name)[0] for name in names]


def test_different_failure_modes_of_one_product_are_not_a_repeat(make_complaint, product, modes):
    battery, quiet, _ = modes
    first = make_complaint(product=product, failure_mode=battery, received_at=NOW - 10 * DAY)
    other = make_complaint(product=product, failure_mode=quiet)
    again = make_complaint(product=product, failure_mode=battery)
    assert not other.is_recurring
    assert again.is_recurring and again.recurrence_of == first
    assert again.recurrence_key == f"product={product.pk}|failure_mode={battery.pk}"
    assert again.category == battery.category  # the failure mode implies its category


def test_the_api_filters_by_failure_mode_and_shows_the_key(api_for, staff, make_complaint, product, modes):
    battery, quiet, _ = modes
    a = make_complaint(product=product, failure_mode=battery)
    make_complaint(product=product, failure_mode=quiet)
    rows = api_for(staff).get(f"/api/v1/complaints/?failure_mode={battery.pk}").json()["results"]
    assert [row["id"] for row in rows] == [a.pk] and rows[0]["recurrence_key"] == a.recurrence_key
    assert api_for(staff).get("/api/v1/complaints/?failure_mode=abc").status_code == 400


def test_without_a_failure_mode_nothing_is_matched(make_complaint, product, category):
    make_complaint(product=product, category=category, received_at=NOW - DAY)
    second = make_complaint(product=product, category=category)
    assert second.recurrence_key == "" and not second.is_recurring


def test_the_flag_follows_a_change_of_failure_mode_with_history(make_complaint, product, modes, staff):
    battery, quiet, _ = modes
    make_complaint(product=product, failure_mode=battery, received_at=NOW - DAY)
    second = make_complaint(product=product, failure_mode=battery)
    assert second.is_recurring
    services.complaint_update(second, actor=staff, reason="Triage: it is the alarm", version=1, failure_mode=quiet)
    second.refresh_from_db()
    assert not second.is_recurring and second.recurrence_of is None
    entry = second.history.order_by("-history_id").first()
    assert entry.history_change_reason == "Triage: it is the alarm" and entry.is_recurring is False


def test_re_categorising_drops_a_failure_mode_of_the_old_category(make_complaint, product, modes, staff):
    battery = modes[0]
    make_complaint(product=product, failure_mode=battery, received_at=NOW - DAY)
    second = make_complaint(product=product, failure_mode=battery)
    delivery = Category.objects.get_or_create(name="Delivery")[0]
    services.complaint_update(second, actor=staff, reason="It was a delivery issue", version=1, category=delivery)
    second.refresh_from_db()
    assert second.failure_mode is None and not second.is_recurring and second.recurrence_key == ""


def test_a_failure_mode_of_another_category_is_refused(api_for, staff, make_complaint, product, modes):
    delivery = Category.objects.get_or_create(name="Delivery")[0]
    complaint = make_complaint(product=product)
    response = api_for(staff).patch(
        f"/api/v1/complaints/{complaint.pk}/",
        {"category": delivery.pk, "failure_mode": modes[0].pk, "version": 1, "reason": "triage"},
        format="json",
    )
    assert response.status_code == 400 and "is not a failure mode of Delivery" in response.json()["failure_mode"][0]


def test_a_rejected_complaint_is_no_occurrence_and_its_repeat_is_relinked(make_complaint, product, modes, staff):
    battery = modes[0]
    oldest = make_complaint(title="oldest", product=product, failure_mode=battery, received_at=NOW - 20 * DAY)
    middle = make_complaint(title="middle", product=product, failure_mode=battery, received_at=NOW - 10 * DAY)
    latest = make_complaint(title="latest", product=product, failure_mode=battery)
    assert latest.recurrence_of == middle and middle.recurrence_of == oldest
    advance(middle, "reject", actor=staff, reason="Not our product")
    middle.refresh_from_db()
    latest.refresh_from_db()
    assert not middle.is_recurring and middle.recurrence_of is None
    assert latest.recurrence_of == oldest  # linked again, past the rejected one
    assert "no longer counts" in latest.history.order_by("-history_id").first().history_change_reason
    advance(oldest, "reject", actor=staff, reason="Duplicate of a phone call")
    latest.refresh_from_db()
    assert not latest.is_recurring


def test_closed_as_not_a_product_problem_is_no_occurrence(make_complaint, product, modes, staff, manager):
    cracked = modes[2]
    dropped = make_complaint(product=product, failure_mode=cracked, received_at=NOW - 5 * DAY)
    repeat = make_complaint(product=product, failure_mode=cracked)
    assert repeat.recurrence_of == dropped
    advance(dropped, "acknowledge", "investigate", "resolve", actor=staff)
    services.complaint_transition(
        dropped, "close", actor=manager, password=PASSWORD, reason="User error",
        data={"investigation_required": "yes", "is_reportable": "no", "reportability_reason": "No harm.",
              "is_product_problem": "no"},
    )
    dropped.refresh_from_db()
    repeat.refresh_from_db()
    assert dropped.is_product_problem is False and dropped.status == "closed"
    assert not repeat.is_recurring
    assert not selectors.complaint_repeats({dropped.recurrence_key}, since=NOW - 30 * DAY).filter(pk=dropped.pk).exists()


def test_the_lot_can_be_part_of_the_key(make_complaint, product, modes, settings):
    settings.COMPLAINT_RECURRENCE_KEY = "product,failure_mode,lot"
    battery = modes[0]
    make_complaint(product=product, failure_mode=battery, lot_number="L-1", received_at=NOW - DAY)
    other_lot = make_complaint(product=product, failure_mode=battery, lot_number="L-2")
    same_lot = make_complaint(product=product, failure_mode=battery, lot_number=" l-1 ")
    assert not other_lot.is_recurring and same_lot.is_recurring
    assert same_lot.recurrence_key.endswith("|lot=L-1")


@pytest.mark.parametrize("value", ["", "product,colour", "id; DROP TABLE x"])
def test_a_bad_key_setting_is_a_configuration_error(make_complaint, settings, value):
    settings.COMPLAINT_RECURRENCE_KEY = value
    with pytest.raises(ImproperlyConfigured):
        make_complaint()


def test_public_form_complaints_are_checked(client, product, modes, make_complaint, policies):
    battery = modes[0]
    make_complaint(product=product, failure_mode=battery, received_at=NOW - DAY)
    response = client.post(
        reverse("complaints:public-submit"),
        {"name": "Ann", "email": "ann@example.org", "title": "Flat by morning", "description": "Battery empty.",
         "product": product.pk, "failure_mode": battery.pk},
    )
    assert response.status_code == 302
    public = Complaint.objects.get(channel="web_form")
    assert public.is_recurring and public.failure_mode == battery


def test_the_staff_form_keeps_the_failure_mode_and_finds_the_repeat(
    client_for, staff, customer, product, modes, make_complaint, policies
):
    # Seen in the browser test: the log-a-complaint page dropped the failure mode it was given,
    # so a repeat logged through the page was never matched.
    battery = modes[0]
    first = make_complaint(product=product, failure_mode=battery, received_at=NOW - DAY)
    response = client_for(staff).post(
        reverse("complaints:create"),
        {"title": "Flat again", "description": "Battery empty by morning.", "customer": customer.pk,
         "channel": "phone", "product": product.pk, "category": battery.category_id,
         "failure_mode": battery.pk, "severity": "medium", "received_at": "2026-06-15T09:00"},
    )
    assert response.status_code == 302, response.content
    logged = Complaint.objects.get(title="Flat again")
    assert logged.failure_mode == battery and logged.recurrence_of == first


def test_a_public_complaint_triaged_later_is_checked_then(make_complaint, product, modes, staff):
    battery = modes[0]
    make_complaint(product=product, failure_mode=battery, received_at=NOW - DAY)
    public = services.complaint_submit_public(
        name="Ann", email="ann@example.org", title="Flat", description="Battery empty.", product=product
    )
    assert not public.is_recurring
    services.complaint_update(public, actor=staff, reason="Triage", version=public.version, failure_mode=battery)
    public.refresh_from_db()
    assert public.is_recurring


def test_the_kpi_counts_by_the_same_rule(make_complaint, product, modes, staff, manager):
    from metrics.kpis import Period, compute_kpis

    def kpis_for(start, end):
        return {code: value.value for code, value in compute_kpis(Period(start.date(), end.date()), now=NOW).items()}

    battery = modes[0]
    make_complaint(product=product, failure_mode=battery, received_at=NOW - 3 * DAY)
    second = make_complaint(product=product, failure_mode=battery, received_at=NOW - 2 * DAY)
    make_complaint(product=product, failure_mode=modes[1], received_at=NOW - DAY)
    make_complaint(product=product, failure_mode=modes[2], received_at=NOW - DAY)
    values = kpis_for(NOW - 7 * DAY, NOW)
    assert values["complaint_recurrence_rate"] == 25.0
    advance(second, "reject", actor=staff, reason="Not a complaint")
    values = kpis_for(NOW - 7 * DAY, NOW)
    assert values["complaint_recurrence_rate"] == 0.0


def test_failure_modes_are_managed_by_quality_managers(api_for, client_for, staff, manager, category):
    body = {"category": category.pk, "name": "Seal leaks"}
    assert api_for(staff).post("/api/v1/failure-modes/", body, format="json").status_code == 403
    created = api_for(manager).post("/api/v1/failure-modes/", body, format="json")
    assert created.status_code == 201 and created.json()["version"] == 1
    duplicate = api_for(manager).post("/api/v1/failure-modes/", {**body, "name": "seal LEAKS"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    bad = api_for(manager).post("/api/v1/failure-modes/", {"category": 999999, "name": "x"}, format="json")
    assert bad.status_code == 400 and "category" in bad.json()
    url = f"/api/v1/failure-modes/{created.json()['id']}/"
    retired = api_for(manager).patch(url, {"is_active": False, "version": 1, "reason": "Merged"}, format="json")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    mode = FailureMode.objects.get(pk=created.json()["id"])
    assert mode.history.order_by("-history_id").first().history_change_reason == "Merged"
    page = client_for(manager).post(
        reverse("complaints:products"), {"failure_mode-category": category.pk, "failure_mode-name": "Cap loose"}, follow=True
    )
    assert FailureMode.objects.filter(name="Cap loose", category=category).exists()
    assert "Cap loose" in page.content.decode()


def test_the_default_failure_modes_are_seeded():
    """Migration 0011's defaults, run through its own function: a transactional test's flush
    (in the same worker, in random order) empties the table the migration filled."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("complaints.migrations.0011_default_failure_modes")
    Category.objects.get_or_create(name="Product defect")
    migration.create_defaults(apps, None)
    assert FailureMode.objects.filter(category__name="Product defect", name="Battery drains").exists()
    before = FailureMode.objects.count()
    migration.create_defaults(apps, None)  # only creates what is missing
    assert FailureMode.objects.count() == before
