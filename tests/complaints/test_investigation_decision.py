"""Issue 16 item 2: a reportable complaint must be investigated (21 CFR 820.198(d)), and a
"no investigation" decision names the earlier complaint investigated for the same problem or
gives a written justification (QMSR 820.35), recorded as its basis. Form, API and close."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, NoInvestigationBasis
from qms.errors import ValidationFailed
from tests.complaints.conftest import advance
from tests.complaints.test_pages import create_data
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def resolved(complaint, staff):
    return advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)


def test_reportable_without_investigation_is_refused_by_the_api_on_create(
    api_for, staff, customer, policies
):
    body = {
        "title": "Pump stopped",
        "description": "Stopped during infusion.",
        "customer": customer.pk,
        "is_reportable": True,
        "reportability_reason": "Potential for serious injury.",
        "investigation_required": False,
        "no_investigation_reason": "Seen before.",
    }
    response = api_for(staff).post("/api/v1/complaints/", body, format="json")
    assert response.status_code == 400
    assert "must be investigated" in response.json()["investigation_required"][0]
    assert not Complaint.objects.exists()


def test_reportable_without_investigation_is_refused_by_the_api_on_patch(api_for, staff, complaint):
    url = f"/api/v1/complaints/{complaint.pk}/"
    client = api_for(staff)
    first = client.patch(
        url,
        {
            "investigation_required": False,
            "no_investigation_reason": "Duplicate report.",
            "version": 1,
            "reason": "triage",
        },
        format="json",
    )
    assert first.status_code == 200 and first.json()["no_investigation_basis"] == "justification"
    # Marking it reportable afterwards, alone, is the same leak from the other side.
    second = client.patch(
        url,
        {"is_reportable": True, "reportability_reason": "Death", "version": 2, "reason": "triage"},
        format="json",
    )
    assert (
        second.status_code == 400
        and "must be investigated" in second.json()["investigation_required"][0]
    )
    complaint.refresh_from_db()
    assert complaint.is_reportable is None and complaint.version == 2


def test_reportable_without_investigation_is_refused_by_the_create_form(
    client_for, staff, customer, policies
):
    data = create_data(
        customer,
        is_reportable="yes",
        reportability_reason="Serious injury",
        investigation_required="no",
        no_investigation_reason="Known",
    )
    response = client_for(staff).post(reverse("complaints:create"), data)
    assert response.status_code == 200
    assert "must be investigated" in str(response.context["form"].errors["investigation_required"])
    assert not Complaint.objects.exists()


def test_close_of_a_reportable_complaint_without_investigation_is_refused(
    api_for, client_for, staff, manager, complaint
):
    resolved(complaint, staff)
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    body = {
        "action": "close",
        "password": PASSWORD,
        "investigation_required": "no",
        "no_investigation_reason": "Known issue.",
        "is_reportable": "yes",
        "reportability_reason": "Injury.",
    }
    response = api_for(manager).post(url, body, format="json")
    assert (
        response.status_code == 400
        and "must be investigated" in response.json()["investigation_required"][0]
    )
    page = client_for(manager).post(
        reverse("complaints:transition", args=[complaint.pk]), body, follow=True
    )
    assert any("must be investigated" in str(m) for m in page.context["messages"])
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.is_reportable is None


def test_no_investigation_needs_an_earlier_complaint_or_a_justification(
    api_for, staff, manager, make_complaint
):
    complaint = resolved(make_complaint(), staff)
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    body = {
        "action": "close",
        "password": PASSWORD,
        "investigation_required": "no",
        "is_reportable": "no",
        "reportability_reason": "No harm.",
    }
    response = api_for(manager).post(url, body, format="json")
    assert response.status_code == 400
    assert "earlier complaint" in response.json()["no_investigation_reason"][0]


def test_a_named_earlier_investigation_is_recorded_as_the_basis(
    api_for, staff, manager, make_complaint
):
    earlier = make_complaint(title="Alarm silent", investigation_required=True)
    complaint = resolved(make_complaint(), staff)
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    body = {
        "action": "close",
        "password": PASSWORD,
        "investigation_required": "no",
        "no_investigation_reference": earlier.reference,
        "is_reportable": "no",
        "reportability_reason": "No harm.",
    }
    response = api_for(manager).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    complaint.refresh_from_db()
    assert complaint.no_investigation_reference == earlier
    assert complaint.no_investigation_basis == NoInvestigationBasis.EARLIER_INVESTIGATION
    last = complaint.history.order_by("-history_id").first()
    assert (
        last.no_investigation_reference_id == earlier.pk
        and last.no_investigation_basis == "earlier_investigation"
    )


@pytest.mark.parametrize(
    "which, message",
    [
        ("self", "not this one"),
        ("uninvestigated", "was not investigated"),
        ("unknown", "is known"),
        ("hostile", "is known"),
    ],
)
def test_a_bad_earlier_complaint_is_refused(staff, make_complaint, which, message):
    uninvestigated = make_complaint(title="Other")
    complaint = make_complaint()
    reference = {
        "self": complaint.reference,
        "uninvestigated": uninvestigated.reference,
        "unknown": "CMP-1999-99999",
        "hostile": "'; DROP TABLE complaints_complaint; --",
    }[which]
    with pytest.raises(ValidationFailed) as error:
        services.complaint_update(
            complaint,
            actor=staff,
            reason="triage",
            version=1,
            investigation_required=False,
            no_investigation_reference=reference,
        )
    assert message in error.value.field_errors["no_investigation_reference"][0]
    complaint.refresh_from_db()
    assert complaint.investigation_required is None and complaint.version == 1


def test_the_edit_form_records_a_justification_as_the_basis(client_for, staff, complaint):
    url = reverse("complaints:edit", args=[complaint.pk])
    page = client_for(staff).get(url)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(
        title=complaint.title,
        description=complaint.description,
        customer=complaint.customer_id,
        channel=complaint.channel,
        severity=complaint.severity,
        received_at="2026-05-12T10:00",
        investigation_required="no",
        no_investigation_reason="Cosmetic packaging remark; no device involved.",
        reason="triage",
        version=1,
    )
    response = client_for(staff).post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    complaint.refresh_from_db()
    assert complaint.no_investigation_basis == NoInvestigationBasis.JUSTIFICATION
    assert complaint.history.order_by("-history_id").first().history_change_reason == "triage"
