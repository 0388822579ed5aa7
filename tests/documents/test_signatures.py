"""Electronic signatures (21 CFR 11.50, 11.200): a wrong password changes nothing, and is
recorded; a good one links signer, meaning and content hash."""

import pytest
from django.urls import reverse

from documents import services
from documents.models import PeriodicReview, VersionSignoff, VersionStatus
from qms.models import SecurityEvent, Signature
from tests.conftest import PASSWORD
from tests.documents.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(make_document, staff, manager):
    version = make_document().versions.get()
    submit(version, actor=staff, approvers=[manager])
    return version


def transitions_url(version):
    return reverse("api-document-version-transitions", args=[version.document_id, version.pk])


def test_wrong_password_on_approval_changes_nothing_and_is_recorded(api_for, manager, in_review):
    response = api_for(manager).post(transitions_url(in_review), {"action": "approve", "password": "guess"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"password": ["The password is not correct; nothing was signed."]}
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.IN_REVIEW
    assert not Signature.objects.exists()
    assert VersionSignoff.objects.get(version=in_review).completed_at is None
    assert SecurityEvent.objects.filter(kind="signature_failed", user=manager).count() == 1


def test_missing_password_is_refused(api_for, manager, in_review):
    response = api_for(manager).post(transitions_url(in_review), {"action": "approve"}, format="json")
    assert response.status_code == 403
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.IN_REVIEW


def test_good_password_signs_approved_with_content_hash(api_for, manager, in_review):
    response = api_for(manager).post(transitions_url(in_review), {"action": "approve", "password": PASSWORD, "reason": "OK"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved"
    assert body["approvals"][0]["status"] == "signed" and body["approvals"][0]["meaning"] == "Approved"
    signature = Signature.objects.get()
    assert (signature.signer, signature.meaning, signature.hash_matches) == (manager, "Approved", True)
    assert signature.content["fields"]["content_text"] == in_review.content_text
    assert VersionSignoff.objects.get(version=in_review).signature == signature


def test_browser_signature_with_wrong_password_shows_message(client_for, manager, in_review):
    url = reverse("documents:version-transition", args=[in_review.document_id, in_review.pk])
    response = client_for(manager).post(url, {"action": "approve", "password": "nope", "meaning": "Approved"}, follow=True)
    assert "The password is not correct; nothing was signed." in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.IN_REVIEW


def test_periodic_review_confirmation_is_signed_and_wrong_password_changes_nothing(staff, effective_document):
    due_before = effective_document.next_review_due
    from qms.errors import SignatureRejected

    with pytest.raises(SignatureRejected):
        services.periodic_review_confirm(effective_document, actor=staff, password="bad", comment="Checked")
    effective_document.refresh_from_db()
    assert effective_document.next_review_due == due_before and not PeriodicReview.objects.exists()
    review = services.periodic_review_confirm(effective_document, actor=staff, password=PASSWORD, comment="Still right.")
    assert review.signature.meaning == "Reviewed, no change" and review.signature.signer == staff
    effective_document.refresh_from_db()
    assert effective_document.next_review_due == review.next_review_due
