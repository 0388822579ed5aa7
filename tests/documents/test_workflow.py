import pytest
from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone

from documents import services
from documents.models import DocumentVersion, SignoffKind, VersionStatus
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.models import Signature, Transition
from tests.conftest import make_user
from tests.documents.conftest import approve, release, submit, tomorrow

pytestmark = pytest.mark.django_db


def test_document_number_is_allocated_by_type_prefix(make_document):
    first = make_document()
    second = make_document("Line clearance")
    form = make_document("Inspection record", doc_type="form")
    assert (first.number, second.number, form.number) == ("SOP-001", "SOP-002", "FRM-001")
    assert first.versions.get().revision == "1"


def test_full_release_with_reviewers_and_two_approvers(make_document, staff, manager, manager2):
    document = make_document()
    version = document.versions.get()
    reviewer = make_user("reviewer", qms_roles.STAFF)  # not the author: nobody reviews their own text
    submit(version, actor=staff, approvers=[manager, manager2], reviewers=[reviewer])
    assert version.status == VersionStatus.IN_REVIEW
    with pytest.raises(IllegalTransition, match="reviewer must record"):
        approve(version, manager)
    services.version_transition(version, "review", actor=reviewer, reason="Steps match the floor.")
    approve(version, manager)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW  # one approver still to sign
    approve(version, manager2)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    services.version_transition(version, "make_effective", actor=staff)
    version.refresh_from_db()
    document.refresh_from_db()
    assert version.status == VersionStatus.EFFECTIVE
    assert document.effective_version_id == version.pk
    assert document.next_review_due == version.effective_from + relativedelta(years=2)
    signoffs = version.signoffs.filter(kind=SignoffKind.APPROVAL)
    assert all(s.signature and s.signature.meaning == "Approved" for s in signoffs)
    actions = list(Transition.objects.filter(object_id=version.pk).values_list("action", flat=True))
    assert actions == ["submit", "review", "sign_approval", "approve", "make_effective"]


def test_new_revision_supersedes_previous_in_same_step(effective_document, staff, manager):
    old = effective_document.effective_version
    with pytest.raises(ValidationFailed) as refused:
        submit(services.version_create(document=effective_document, actor=staff), actor=staff, approvers=[manager])
    assert "change_summary" in refused.value.field_errors
    new = effective_document.versions.get(status=VersionStatus.DRAFT)
    assert new.revision == "2" and new.content_text == old.content_text
    services.version_update(new, actor=staff, reason="Say what changed", expected_version=new.version,
                            change_summary="Sample size raised to 8.", content_text=old.content_text + "2.3 Sample 8.\n",
                            effective_from=old.effective_from)
    release(new, author=staff, approver=manager)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (VersionStatus.SUPERSEDED, VersionStatus.EFFECTIVE)
    assert old.superseded_by_id == new.pk
    assert DocumentVersion.objects.filter(document=effective_document, status="effective").count() == 1


def test_reject_returns_to_draft_with_reason_and_new_round(make_document, staff, manager):
    version = make_document().versions.get()
    submit(version, actor=staff, approvers=[manager])
    with pytest.raises(ValidationFailed):
        services.version_transition(version, "reject", actor=manager, reason=" ")
    services.version_transition(version, "reject", actor=manager, reason="Step 2.2 lacks the AQL.")
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    assert Transition.objects.filter(object_id=version.pk, action="reject").get().reason == "Step 2.2 lacks the AQL."
    submit(version, actor=staff, approvers=[manager])
    version.refresh_from_db()
    assert version.review_round == 2
    approve(version, manager)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED


def test_make_effective_waits_for_the_effective_date(make_document, staff, manager):
    version = make_document(effective_from=tomorrow()).versions.get()
    submit(version, actor=staff, approvers=[manager])
    approve(version, manager)
    with pytest.raises(IllegalTransition, match="not before"):
        services.version_transition(version, "make_effective", actor=staff)
    assert services.versions_make_due_effective() == 0
    # The date arrives (an approved version's date is not frozen; the sweep reads the column).
    DocumentVersion.objects.filter(pk=version.pk).update(effective_from=timezone.localdate())
    assert services.versions_make_due_effective() == 1
    assert services.versions_make_due_effective() == 0
    version.refresh_from_db()
    assert version.status == VersionStatus.EFFECTIVE
    assert Transition.objects.get(object_id=version.pk, action="make_effective").actor.username == "system"


def test_submit_needs_an_approver_other_than_the_author(make_document, staff, manager, employee):
    version = make_document().versions.get()
    for approvers, field in (([], "approvers"), ([staff], "approvers"), ([employee], "approvers")):
        with pytest.raises(ValidationFailed) as refused:
            submit(version, actor=staff, approvers=approvers)
        assert field in refused.value.field_errors
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and not version.signoffs.exists()


def test_only_named_people_review_and_approve(make_document, staff, manager, manager2):
    version = make_document().versions.get()
    submit(version, actor=staff, approvers=[manager])
    with pytest.raises(NotAllowed):
        approve(version, manager2)
    with pytest.raises(NotAllowed):
        services.version_transition(version, "review", actor=manager2, reason="x")
    with pytest.raises(IllegalTransition):
        services.version_transition(version, "sign_approval", actor=manager)
    names = {a.name for a in services.VERSION_WORKFLOW.available(version, manager)}
    assert names == {"approve", "reject"}
    assert {a.name for a in services.VERSION_WORKFLOW.available(version, staff)} == set()


def test_one_open_revision_per_document(effective_document, staff):
    services.version_create(document=effective_document, actor=staff)
    with pytest.raises(IllegalTransition, match="still draft"):
        services.version_create(document=effective_document, actor=staff)


def test_database_refuses_two_effective_versions(effective_document, staff):
    current = effective_document.effective_version
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.create(
            document=effective_document, revision_index=9, revision="9", status="effective",
            effective_from=current.effective_from, author=staff,
        )


def test_obsolete_is_signed_and_clears_the_effective_version(effective_document, manager, staff):
    version = effective_document.effective_version
    with pytest.raises(NotAllowed):
        services.version_transition(version, "obsolete", actor=staff, reason="Replaced", password="x")
    services.version_transition(version, "obsolete", actor=manager, reason="Process retired.",
                                password="Correct-Horse-9")
    version.refresh_from_db()
    effective_document.refresh_from_db()
    assert version.status == VersionStatus.OBSOLETE
    assert effective_document.effective_version is None and effective_document.next_review_due is None
    assert Signature.objects.get(object_id=version.pk, meaning="Withdrawn from use").signer == manager
