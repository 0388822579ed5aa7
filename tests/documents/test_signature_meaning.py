"""An electronic signature carries the meaning of the step it signs (21 CFR 11.50, decision
0049): the page shows "you sign with the meaning X", and the record must say X. A caller who
sends another meaning (an API client, a tampered hidden field) gets a clear 400 on `meaning`
and nothing is written: no step, no signature, no transition. The action's own meaning, in
any letter case or with spaces around it, or no meaning at all, signs as the action says."""

import pytest
from django.urls import reverse

from documents.models import VersionStatus
from qms.models import Signature, Transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(api_for, staff, manager, make_document):
    document = make_document()
    version = document.versions.get()
    url = reverse("api-document-version-transitions", args=[document.pk, version.pk])
    assert api_for(staff).post(url, {"action": "submit", "approvers": [manager.pk]}, format="json").status_code == 200
    return document, version, url


@pytest.mark.parametrize("meaning", ["Rejected", "Approved by the board", "Approved\u202e", "x" * 81])
def test_another_meaning_is_refused_through_the_api_and_nothing_is_signed(api_for, manager, in_review, meaning):
    _document, version, url = in_review
    response = api_for(manager).post(url, {"action": "approve", "password": PASSWORD, "meaning": meaning}, format="json")
    assert response.status_code == 400, response.content
    assert "meaning" in response.json()
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    assert not Signature.objects.exists()
    assert not Transition.objects.filter(action="approve").exists()


def test_a_tampered_hidden_meaning_on_the_page_is_refused(client_for, manager, in_review):
    document, version, _url = in_review
    page = reverse("documents:version-transition", args=[document.pk, version.pk])
    response = client_for(manager).post(page, {"action": "approve", "password": PASSWORD, "meaning": "Reviewed only"}, follow=True)
    assert "is signed with the meaning" in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW and not Signature.objects.exists()


@pytest.mark.parametrize("meaning", [None, "", "Approved", "  approved "])
def test_the_actions_own_meaning_or_none_signs_with_the_actions_meaning(api_for, manager, in_review, meaning):
    _document, version, url = in_review
    body = {"action": "approve", "password": PASSWORD}
    if meaning is not None:
        body["meaning"] = meaning
    response = api_for(manager).post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert Signature.objects.get().meaning == "Approved"
