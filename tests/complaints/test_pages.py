"""Browser pages: list, detail, forms, attachments, communication log, with bad input."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints.models import Attachment, Communication, Complaint
from tests.complaints.conftest import advance, hours_ago
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def create_data(the_customer, **overrides):
    data = {
        "title": "Label unreadable",
        "description": "The lot number on the box is smudged.",
        "customer": the_customer.pk if the_customer else "",
        "channel": "phone",
        "severity": "high",
        "received_at": local(hours_ago(2)),
        "lot_number": "L-77",
    }
    data.update(overrides)
    return data


def test_staff_logs_a_complaint_with_a_new_customer(client_for, staff, policies):
    client = client_for(staff)
    assert client.get(reverse("complaints:create")).status_code == 200
    response = client.post(
        reverse("complaints:create"),
        create_data(None, new_customer_name="Dr Who", new_customer_email="who@example.org"),
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == complaint.get_absolute_url()
    assert complaint.customer.name == "Dr Who" and complaint.severity == "high" and complaint.channel == "phone"
    assert complaint.first_response_due is not None


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"title": ""}, "title"),
        ({"description": ""}, "description"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 10001}, "description"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"received_at": "yesterday-ish"}, "received_at"),
        ({"customer": "999999"}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"customer": ""}, "customer"),
        ({"investigation_required": "no"}, "no_investigation_reason"),
    ],
)
def test_bad_input_on_the_create_form_shows_errors_and_writes_nothing(client_for, staff, customer, policies, overrides, field):
    response = client_for(staff).post(reverse("complaints:create"), create_data(customer, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_received_in_the_future_is_refused_by_the_form(client_for, staff, customer, policies):
    future = local(timezone.now() + timedelta(days=1))
    response = client_for(staff).post(reverse("complaints:create"), create_data(customer, received_at=future))
    assert "received_at" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_edit_form_needs_reason_and_refuses_a_stale_version(client_for, staff, complaint):
    client = client_for(staff)
    url = reverse("complaints:edit", args=[complaint.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = create_data(complaint.customer, title="Pump alarm silent at night", version=complaint.version, reason="")
    response = client.post(url, data)
    assert "reason" in response.context["form"].errors
    data["reason"] = "Clarified title"
    assert client.post(url, data).status_code == 302
    complaint.refresh_from_db()
    assert complaint.title == "Pump alarm silent at night" and complaint.severity == "high"
    # someone who opened the form before that save
    data.update(title="Overwrite", reason="late", version=complaint.version - 1)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "changed by" in str(response.context["form"].non_field_errors())
    complaint.refresh_from_db()
    assert complaint.title == "Pump alarm silent at night"


def test_list_shows_breached_marks_and_filters(client_for, staff, make_complaint, product, category):
    late = make_complaint(title="Late one", received_at=hours_ago(5), product=product, category=category)
    make_complaint(title="Fresh one")
    client = client_for(staff)
    page = client.get(reverse("complaints:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "SLA breached" in html and 'class="breached"' in html
    overdue = client.get(reverse("complaints:list"), {"overdue": "true"})
    assert [c.pk for c in overdue.context["complaints"]] == [late.pk]
    searched = client.get(reverse("complaints:list"), {"search": "fresh"})
    assert [c.title for c in searched.context["complaints"]] == ["Fresh one"]
    by_product = client.get(reverse("complaints:list"), {"product": product.pk, "ordering": "-severity"})
    assert [c.pk for c in by_product.context["complaints"]] == [late.pk]
    bad = client.get(reverse("complaints:list"), {"severity": "nope", "page": "1", "received_from": "not-a-date"})
    assert bad.status_code == 200
    assert client.get(reverse("complaints:list"), {"page": "999"}).status_code == 404


def test_detail_shows_actions_sla_and_timeline(client_for, staff, complaint):
    page = client_for(staff).get(complaint.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "SLA clock" in html and "Acknowledge" in html and "Received by" in html
    assert [a.name for a in page.context["actions"]] == ["acknowledge", "reject"]


def test_transitions_from_the_page_and_illegal_ones_get_a_message(client_for, staff, complaint):
    client = client_for(staff)
    url = reverse("complaints:transition", args=[complaint.pk])
    client.post(url, {"action": "acknowledge"})
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    response = client.post(url, {"action": "close"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("may not" in m or "Cannot" in m for m in messages)
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    client.post(url, {"action": "investigate"})
    response = client.post(url, {"action": "resolve", "resolution": ""}, follow=True)
    assert any("resolution" in str(m).lower() for m in response.context["messages"])
    client.post(url, {"action": "resolve", "resolution": "Sent a replacement"})
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.resolution == "Sent a replacement"


def test_manager_closes_with_signature_from_the_page(client_for, staff, manager, complaint):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    client = client_for(manager)
    url = reverse("complaints:transition", args=[complaint.pk])
    data = {
        "action": "close", "investigation_required": "yes", "is_reportable": "no",
        "reportability_reason": "No harm", "meaning": "Approved for closure", "password": "wrong",
    }
    client.post(url, data)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    data["password"] = PASSWORD
    client.post(url, data)
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.is_reportable is False
    assert "Approved for closure" in client.get(complaint.get_absolute_url()).content.decode()


def test_attachment_upload_checks_size_and_type_and_serves_a_download(client_for, staff, complaint, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(staff)
    url = reverse("complaints:attachment-upload", args=[complaint.pk])
    client.post(url, {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png"), "description": "Label"})
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    download = client.get(attachment.get_absolute_url())
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="photo.png"')
    assert b"".join(download.streaming_content) == PNG
    # a renamed executable, an HTML page, an empty file, an oversized file
    settings.QMS_UPLOAD_MAX_BYTES = 1024
    for name, content in [
        ("invoice.pdf", b"MZ\x90\x00 this is not a pdf"),
        ("page.html", b"<script>alert(1)</script>"),
        ("empty.txt", b""),
        ("big.png", PNG + b"\x00" * 2048),
    ]:
        response = client.post(url, {"file": SimpleUploadedFile(name, content)}, follow=True)
        assert response.status_code == 200
        # the error is shown next to the file field, where the redirect's #attach lands
        assert response.redirect_chain[-1][0].endswith("#attach"), name
        form = response.content.decode().split('id="attach"')[1].split("</form>")[0]
        assert "Not attached" in form or "Choose a file" in form, name
    assert Attachment.objects.count() == 1


def test_communication_log_entry_and_bad_entries(client_for, staff, complaint):
    client = client_for(staff)
    url = reverse("complaints:communication-add", args=[complaint.pk])
    client.post(url, {"direction": "outbound", "channel": "email", "summary": "Apologised; replacement on its way."})
    entry = Communication.objects.get()
    assert entry.author == staff and entry.direction == "outbound"
    for bad in (
        {"direction": "sideways", "channel": "email", "summary": "x"},
        {"direction": "inbound", "channel": "email", "summary": ""},
        {"direction": "inbound", "channel": "email", "summary": "x" * 10001},
        {"direction": "inbound", "channel": "email", "summary": "x", "at": local(timezone.now() + timedelta(days=2))},
    ):
        client.post(url, bad)
    assert Communication.objects.count() == 1


def test_my_work_lists_my_open_complaints_nearest_deadline_first(client_for, staff, make_complaint):
    later = make_complaint(title="Later", assignee=staff, received_at=hours_ago(1))
    sooner = make_complaint(title="Sooner", assignee=staff, received_at=hours_ago(3))
    make_complaint(title="Not mine")
    page = client_for(staff).get(reverse("home"))
    section = next(s for s in page.context["sections"] if s.title == "My open complaints")
    assert [c.pk for c in section.items] == [sooner.pk, later.pk]
    assert "Sooner" in page.content.decode()


def test_customer_and_product_pages(client_for, staff, complaint, product):
    client = client_for(staff)
    assert client.get(reverse("complaints:customers"), {"search": "Jane"}).status_code == 200
    assert client.get(reverse("complaints:customer", args=[complaint.customer_id])).status_code == 200
    assert client.get(reverse("complaints:customer-create")).status_code == 200
    response = client.post(reverse("complaints:customer-create"), {"name": "", "email": "bad"})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("complaints:products")).status_code == 200
    client.post(reverse("complaints:products"), {"code": "INF-200", "name": "Duplicate"})
    client.post(reverse("complaints:products"), {"code": "CAT-9", "name": "Catheter"})
    from complaints.models import Product

    assert sorted(Product.objects.values_list("code", flat=True)) == ["CAT-9", "INF-200"]
    assert client.get(reverse("complaints:sla-policies")).status_code == 200


def test_manager_edits_an_sla_policy_with_reason_and_version(client_for, manager, staff, policies):
    from complaints.models import SlaPolicy

    policy = SlaPolicy.objects.get(severity="high")
    url = reverse("complaints:sla-policy-edit", args=[policy.pk])
    assert client_for(staff).get(url).status_code == 403
    client = client_for(manager)
    assert client.get(url).status_code == 200
    data = {
        "first_response_hours": "2", "resolution_hours": "16", "counts_business_time": "on", "calendar": policy.calendar_id,
        "escalation_steps": '[{"level": 1, "percent": 80, "notify": ["assignee"]}]', "version": policy.version,
        "reason": "Customer contract: 2 h response for high severity",
    }
    for bad in ({"escalation_steps": "not json"}, {"escalation_steps": '[{"level": 1}]'}, {"first_response_hours": "0"},
                {"first_response_hours": "abc"}, {"reason": ""}):
        response = client.post(url, {**data, **bad})
        assert response.status_code == 200 and response.context["form"].errors, bad
    assert client.post(url, data).status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_hours == 2 and policy.version == 2 and policy.counts_business_time
    assert policy.history.first().history_change_reason.startswith("Customer contract")
    stale = client.post(url, {**data, "first_response_hours": "3"})
    assert "changed by" in str(stale.context["form"].non_field_errors())


def test_manager_adds_a_category_staff_cannot(client_for, manager, staff):
    from complaints.models import Category

    client_for(staff).post(reverse("complaints:products"), {"category-name": "Labelling"})
    assert not Category.objects.filter(name="Labelling").exists()
    client_for(manager).post(reverse("complaints:products"), {"category-name": "Labelling", "category-description": "Labels"})
    assert Category.objects.filter(name="Labelling").exists()
    page = client_for(manager).get(reverse("complaints:products"))
    assert "Labelling" in page.content.decode()


def test_customer_edit_keeps_history_and_refuses_a_stale_version(client_for, staff, customer):
    client = client_for(staff)
    url = reverse("complaints:customer-edit", args=[customer.pk])
    assert client.get(url).status_code == 200
    data = {"name": "Jane Roe", "organisation": "St Mary's Hospital", "email": "jane@stmarys.example", "phone": "",
            "address": "", "version": customer.version, "reason": "New e-mail address"}
    assert client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "jane@stmarys.example" and customer.version == 2
    assert customer.history.first().history_change_reason == "New e-mail address"
    stale = client.post(url, {**data, "email": "old@example.org"})
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()
    bad = client.post(url, {**data, "version": customer.version, "email": "not an email"})
    assert "email" in bad.context["form"].errors


def test_manager_maintains_calendar_and_holidays(client_for, manager, staff, policies, make_complaint):
    from complaints.models import BusinessCalendar, Holiday

    calendar = BusinessCalendar.objects.get(pk=policies.pk)
    url = reverse("complaints:calendar-edit", args=[calendar.pk])
    assert client_for(staff).get(url).status_code == 403
    client = client_for(manager)
    assert client.get(url).status_code == 200
    data = {"name": "Test office", "time_zone": "Europe/Dublin", "working_days": ["0", "1", "2", "3"],
            "working_periods": "08:00-12:00, 13:00-16:00", "version": calendar.version, "reason": "Four-day week"}
    for bad in ({"time_zone": "Mars/Olympus"}, {"working_periods": "16:00-08:00"}, {"working_periods": "nine to five"},
                {"working_days": ["9"]}, {"reason": ""}):
        response = client.post(url, {**data, **bad})
        assert response.status_code == 200 and response.context["form"].errors, bad
    assert client.post(url, data).status_code == 302
    calendar.refresh_from_db()
    assert calendar.working_days == [0, 1, 2, 3] and calendar.working_periods == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert calendar.time_zone == "Europe/Dublin" and calendar.history.first().history_change_reason == "Four-day week"
    holiday_url = reverse("complaints:holiday-add")
    client_for(staff).post(holiday_url, {"calendar": calendar.pk, "date": "2026-12-24", "name": "Christmas Eve", "reason": "Company shutdown."})
    assert not Holiday.objects.exists()
    client.post(holiday_url, {"calendar": calendar.pk, "date": "2026-12-24", "name": "Christmas Eve", "reason": "Company shutdown."})
    client.post(holiday_url, {"calendar": calendar.pk, "date": "2026-12-24", "name": "Twice", "reason": "Company shutdown."})
    client.post(holiday_url, {"calendar": calendar.pk, "date": "not a date", "name": "Bad", "reason": "Company shutdown."})
    assert list(Holiday.objects.values_list("name", flat=True)) == ["Christmas Eve"]
    page = client.get(reverse("complaints:sla-policies"))
    assert "Mon–Thu" in page.content.decode()
