"""Public pages without login: the complaint form (honeypot, rate limit, tracking reference)
and the customer survey (answer once, expiry, clear pages for bad links)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Survey
from qms.models import OutboxMessage
from tests.complaints.conftest import advance

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Pat Customer", "email": "pat@example.org", "title": "Broken lid",
    "description": "The lid of the container broke on first use.", "lot_number": "L-9",
}


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_public_form_logs_a_complaint_and_shows_the_tracking_reference(client, policies, manager):
    page = client.get(reverse("complaints:public-submit"))
    assert page.status_code == 200 and b'name="website"' in page.content
    response = client.post(reverse("complaints:public-submit"), FORM, follow=True)
    complaint = Complaint.objects.get()
    assert complaint.channel == "web_form" and complaint.customer.email == "pat@example.org"
    assert complaint.created_by.username == "system"
    assert complaint.reference in response.content.decode()
    assert manager.notifications.filter(subject__contains=complaint.reference).exists()
    receipt = OutboxMessage.objects.get(to_email="pat@example.org")
    assert complaint.reference in receipt.subject and complaint.reference in receipt.body
    assert complaint.communications.get().direction == "outbound"
    # the same customer is recognised by e-mail next time
    client.post(reverse("complaints:public-submit"), {**FORM, "title": "Second"})
    assert Complaint.objects.values("customer").distinct().count() == 1


def test_honeypot_stores_nothing_but_looks_accepted(client, policies):
    response = client.post(reverse("complaints:public-submit"), {**FORM, "website": "http://spam.example"})
    assert response.status_code == 200 and b"Thank you" in response.content
    assert not Complaint.objects.exists()


def test_rate_limit_per_address(client, policies):
    for _ in range(5):
        assert client.post(reverse("complaints:public-submit"), FORM).status_code == 302
    blocked = client.post(reverse("complaints:public-submit"), FORM)
    assert blocked.status_code == 429 and b"Too many" in blocked.content
    assert Complaint.objects.count() == 5
    other = client.post(reverse("complaints:public-submit"), FORM, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


@pytest.mark.parametrize("field,value", [("email", "not-an-email"), ("title", ""), ("description", "x" * 10001), ("name", "")])
def test_public_form_bad_input(client, policies, field, value):
    response = client.post(reverse("complaints:public-submit"), {**FORM, field: value})
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_thanks_page_without_a_submission_goes_back_to_the_form(client):
    response = client.get(reverse("complaints:public-thanks"))
    assert response.status_code == 302


def survey_token(complaint, staff):
    advance(complaint, "acknowledge", "investigate", "resolve", actor=staff)
    body = OutboxMessage.objects.get(to_email=complaint.customer.email).body
    return body.split("/complaints/survey/")[1].split("/")[0]


def test_survey_is_answered_once(client, complaint, staff):
    token = survey_token(complaint, staff)
    url = reverse("complaints:survey", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and complaint.reference in page.content.decode()
    answer = client.post(url, {"csat": "5", "ces": "6", "nps": "9", "comment": "Quick and kind."})
    assert answer.status_code == 200 and b"Thank you" in answer.content
    survey = Survey.objects.get()
    assert (survey.csat, survey.ces, survey.nps, survey.comment) == (5, 6, 9, "Quick and kind.")
    again = client.post(url, {"csat": "1", "ces": "1", "nps": "0"})
    assert again.status_code == 410 and b"answered already" in again.content
    assert Survey.objects.get().csat == 5


@pytest.mark.parametrize("data", [
    {"csat": "6", "ces": "6", "nps": "9"}, {"csat": "0", "ces": "6", "nps": "9"}, {"csat": "x", "ces": "6", "nps": "9"},
    {"ces": "6", "nps": "9"}, {"csat": "3", "ces": "8", "nps": "9"}, {"csat": "3", "ces": "2", "nps": "11"},
    {"csat": "3", "ces": "2", "nps": "5", "comment": "x" * 4001},
])
def test_survey_bad_answers_are_refused(client, complaint, staff, data):
    token = survey_token(complaint, staff)
    response = client.post(reverse("complaints:survey", args=[token]), data)
    assert response.status_code == 400 and response.context["form"].errors
    assert Survey.objects.get().answered_at is None


def test_expired_and_unknown_survey_links_get_clear_pages(client, complaint, staff):
    token = survey_token(complaint, staff)
    Survey.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(reverse("complaints:survey", args=[token]))
    assert expired.status_code == 410 and b"has closed" in expired.content
    assert client.post(reverse("complaints:survey", args=[token]), {"csat": "5", "ces": "5", "nps": "5"}).status_code == 410
    assert Survey.objects.get().answered_at is None
    for bad in ("x", "a" * 43, "%3Cscript%3E"):
        response = client.get(f"/complaints/survey/{bad}/")
        assert response.status_code == 404 and b"could not find" in response.content


def test_survey_service_refuses_reuse_and_bad_types(complaint, staff):
    from qms.errors import IllegalTransition, ValidationFailed

    token = survey_token(complaint, staff)
    with pytest.raises(ValidationFailed):
        services.survey_answer(token=token, csat=True, ces=3, nps=3)
    with pytest.raises(ValidationFailed):
        services.survey_answer(token=token, csat=3.5, ces=3, nps=3)
    services.survey_answer(token=token, csat=4, ces=5, nps=10)
    with pytest.raises(IllegalTransition):
        services.survey_answer(token=token, csat=4, ces=5, nps=10)
