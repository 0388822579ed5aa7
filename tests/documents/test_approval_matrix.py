"""Issue 16 item 1 (documents): the approval matrix per document type, and "anyone who changed
the content of a version cannot review or approve it", through the services, the API and the
pages. The matrix is a site policy kept in the database with its history."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import ApprovalRule, DocumentType, VersionSignoff, VersionStatus
from qms import roles as qms_roles
from qms.errors import NotAllowed
from tests.conftest import PASSWORD, make_user
from tests.documents.conftest import approve


@pytest.fixture
def staff2(db):
    return make_user("staff2", qms_roles.STAFF)


def _transitions(version):
    return reverse("api-document-version-transitions", args=[version.document_id, version.pk])


def _submit(api, version, *, approvers, reviewers=()):
    return api.post(
        _transitions(version),
        {
            "action": "submit",
            "approvers": [u.pk for u in approvers],
            "reviewers": [u.pk for u in reviewers],
        },
        format="json",
    )


def test_a_staff_peer_alone_cannot_approve_a_work_instruction(
    api_for, make_document, staff, staff2
):
    """What was seen: a Quality Staff peer alone approved and released a work instruction."""
    version = make_document("Label the bins", doc_type=DocumentType.WORK_INSTRUCTION).versions.get()
    response = _submit(api_for(staff), version, approvers=[staff2])
    assert response.status_code == 400
    assert response.json()["approvers"] == [
        "At least one approver of a Work instruction must be a Quality Manager (approval matrix)."
    ]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and not VersionSignoff.objects.exists()


def test_a_manager_with_a_staff_co_approver_satisfies_the_default(
    api_for, make_document, staff, staff2, manager
):
    version = make_document().versions.get()
    assert _submit(api_for(staff), version, approvers=[staff2, manager]).status_code == 200


def test_an_editor_of_the_content_cannot_review_or_approve(
    api_for, make_document, staff, staff2, manager, manager2
):
    """What was seen: a user who edited the version (not its author) reviewed and approved it."""
    version = make_document().versions.get()
    services.version_update(
        version,
        actor=manager2,
        reason="Step 2.3 added",
        expected_version=version.version,
        content_text=version.content_text + "2.3 Record the result.\n",
    )
    as_reviewer = _submit(api_for(staff), version, approvers=[manager], reviewers=[manager2])
    assert as_reviewer.status_code == 400
    assert as_reviewer.json()["reviewers"] == [
        "Manager2 Tester changed the content of this version and cannot review or approve it."
    ]
    as_approver = _submit(api_for(staff), version, approvers=[manager2])
    assert (
        as_approver.status_code == 400
        and "changed the content" in as_approver.json()["approvers"][0]
    )
    author_reviewing = _submit(api_for(staff2), version, approvers=[manager], reviewers=[staff])
    assert author_reviewing.json()["reviewers"] == ["The author cannot review their own version."]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_changing_only_the_effective_date_does_not_make_an_editor(
    api_for, make_document, staff, manager
):
    version = make_document().versions.get()
    services.version_update(
        version,
        actor=manager,
        reason="Start next week",
        expected_version=version.version,
        effective_from=timezone.localdate() + datetime.timedelta(days=7),
    )
    assert _submit(api_for(staff), version, approvers=[manager]).status_code == 200


def test_an_uploaded_file_makes_an_editor(api_for, make_document, staff, manager):
    from tests.documents.conftest import PDF_BYTES, upload

    version = make_document().versions.get()
    services.version_update(
        version,
        actor=manager,
        reason="Signed PDF attached",
        expected_version=version.version,
        upload=upload("sop.pdf", PDF_BYTES),
    )
    assert _submit(api_for(staff), version, approvers=[manager]).status_code == 400


def test_an_editor_named_before_the_rule_still_cannot_sign(make_document, staff, manager, manager2):
    """The rule is checked again when the signature is given (rounds named before it existed)."""
    version = make_document().versions.get()
    services.version_update(
        version,
        actor=manager2,
        reason="Wording",
        expected_version=version.version,
        content_text="New text\n",
    )
    services.version_transition(version, "submit", actor=staff, data={"approvers": [manager.pk]})
    version.refresh_from_db()
    VersionSignoff.objects.create(
        version=version, round=version.review_round, kind="approval", user=manager2
    )
    with pytest.raises(NotAllowed, match="You changed the content of this version"):
        approve(version, manager2)


def test_the_form_submission_shows_the_matrix_refusal(client_for, make_document, staff, staff2):
    version = make_document().versions.get()
    url = reverse("documents:version-transition", args=[version.document_id, version.pk])
    response = client_for(staff).post(
        url, {"action": "submit", "approvers": [staff2.pk]}, follow=True
    )
    assert "must be a Quality Manager" in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_the_submit_form_offers_only_eligible_people(
    client_for, make_document, staff, staff2, manager, manager2
):
    version = make_document().versions.get()
    services.version_update(
        version,
        actor=manager2,
        reason="Wording",
        expected_version=version.version,
        content_text="New\n",
    )
    page = client_for(staff).get(
        reverse("documents:version", args=[version.document_id, version.pk])
    )
    form = page.context["submit_form"]
    assert set(form.fields["approvers"].queryset) == {staff2, manager}
    assert set(form.fields["reviewers"].queryset) == {staff2, manager}


# ---------------------------------------------------------------- the matrix as a setting


def _rule_url(doc_type="work_instruction"):
    return reverse("api-approval-matrix-detail", args=[doc_type])


def test_the_matrix_defaults_to_strict_for_every_type(api_for, auditor):
    response = api_for(auditor).get(reverse("api-approval-matrix-list"))
    assert response.status_code == 200
    rows = response.json()
    assert [r["doc_type"] for r in rows] == DocumentType.values
    assert all(r["required_approver_role"] == "Quality Manager" and r["is_default"] for r in rows)


def test_a_manager_relaxes_one_type_with_a_reason_and_it_is_in_the_history(
    api_for, make_document, manager, staff, staff2
):
    response = api_for(manager).patch(
        _rule_url(),
        {
            "required_approver_role": "",
            "version": 1,
            "reason": "Shop-floor instructions: lead approval (QM decision 12/26)",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (
        response.json()["is_default"] is False and response.json()["required_approver_role"] == ""
    )
    rule = ApprovalRule.objects.get(doc_type="work_instruction")
    assert (
        rule.history.get().history_change_reason
        == "Shop-floor instructions: lead approval (QM decision 12/26)"
    )
    assert rule.history.get().history_user == manager
    history = api_for(staff).get(reverse("api-approval-matrix-history", args=["work_instruction"])).json()
    assert [(h["reason"], h["action"]) for h in history] == [
        ("Shop-floor instructions: lead approval (QM decision 12/26)", "created")
    ]
    assert api_for(staff).get(reverse("api-approval-matrix-history", args=["sop"])).json() == []
    version = make_document("Label the bins", doc_type=DocumentType.WORK_INSTRUCTION).versions.get()
    assert _submit(api_for(staff), version, approvers=[staff2]).status_code == 200
    # The other types keep the strict default.
    sop = make_document("Another SOP").versions.get()
    assert _submit(api_for(staff), sop, approvers=[staff2]).status_code == 400


def test_job_functions_narrow_who_may_approve(api_for, make_document, manager, staff, manager2):
    manager2.job_function = "Production lead"
    manager2.save()
    response = api_for(manager).put(
        _rule_url(),
        {
            "reviewer_roles": ["Quality Staff", "Quality Manager"],
            "approver_roles": ["Quality Manager"],
            "approver_job_functions": ["production lead"],
            "required_approver_role": "Quality Manager",
            "version": 1,
            "reason": "Instructions are approved by the production lead",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    version = make_document("Label the bins", doc_type=DocumentType.WORK_INSTRUCTION).versions.get()
    refused = _submit(api_for(staff), version, approvers=[manager])
    assert refused.status_code == 400
    assert refused.json()["approvers"] == [
        "Manager Tester may not approve a Work instruction: the approval matrix allows Quality Manager with the job function production lead."
    ]
    assert _submit(api_for(staff), version, approvers=[manager2]).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"approver_roles": ["Administrator"]}, "approver_roles"),
        ({"approver_roles": []}, "approver_roles"),
        ({"approver_roles": "Quality Manager"}, "approver_roles"),
        ({"reviewer_roles": [{"x": 1}]}, "reviewer_roles"),
        ({"approver_roles": ["Quality Staff"]}, "required_approver_role"),
        ({"required_approver_role": "Auditor"}, "required_approver_role"),
        ({"approver_job_functions": ["x" * 121]}, "approver_job_functions"),
        ({"approver_job_functions": ["lead\x00"]}, "approver_job_functions"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 4001}, "reason"),
        ({"reason": "bell\x07"}, "reason"),
    ],
)
def test_bad_matrix_input_is_400_and_changes_nothing(api_for, manager, payload, field):
    body = {"version": 1, "reason": "Tidy up", **payload}
    response = api_for(manager).patch(_rule_url(), body, format="json")
    assert response.status_code == 400, response.content
    # A NUL character is refused by the API's parser before any field is read (qms.api.parsers).
    assert field in response.json() or "NUL" in response.json().get("detail", ""), response.json()
    assert not ApprovalRule.objects.exists()


def test_only_a_quality_manager_changes_the_matrix(api_for, staff, auditor, administrator):
    for person in (staff, auditor, administrator):
        response = api_for(person).patch(
            _rule_url(),
            {"required_approver_role": "", "version": 1, "reason": "Less work"},
            format="json",
        )
        assert response.status_code == 403
    assert not ApprovalRule.objects.exists()


def test_a_stale_matrix_version_is_409(api_for, manager, manager2):
    first = api_for(manager).patch(
        _rule_url(),
        {"approver_job_functions": ["Lead"], "version": 1, "reason": "Leads"},
        format="json",
    )
    assert first.status_code == 200 and first.json()["version"] == 1
    second = api_for(manager2).patch(
        _rule_url(),
        {"approver_job_functions": ["Other"], "version": 1, "reason": "x"},
        format="json",
    )
    assert second.status_code == 200  # version 1 is what it read; the row now moves to 2
    third = api_for(manager).patch(
        _rule_url(),
        {"approver_job_functions": ["Again"], "version": 1, "reason": "y"},
        format="json",
    )
    assert third.status_code == 409
    assert ApprovalRule.objects.get().approver_job_functions == ["Other"]


def test_the_matrix_page_and_its_form(client_for, manager, staff):
    page = client_for(staff).get(reverse("documents:approval-matrix"))
    assert page.status_code == 200 and "strict default" in page.content.decode()
    url = reverse("documents:approval-rule-edit", args=["sop"])
    assert client_for(staff).get(url).status_code == 403
    data = {
        "reviewer_roles": ["Quality Staff", "Quality Manager"],
        "approver_roles": ["Quality Manager"],
        "reviewer_job_functions": "",
        "approver_job_functions": "Head of quality\nQA lead",
        "required_approver_role": "Quality Manager",
        "version": 1,
    }
    missing = client_for(manager).post(url, {**data, "reason": ""})
    assert missing.status_code == 200 and "reason" in missing.context["form"].errors
    assert not ApprovalRule.objects.exists()
    assert (
        client_for(manager).post(url, {**data, "reason": "Only QA leads approve SOPs"}).status_code
        == 302
    )
    rule = ApprovalRule.objects.get(doc_type="sop")
    assert rule.approver_job_functions == [
        "Head of quality",
        "QA lead",
    ] and rule.approver_roles == ["Quality Manager"]
    page = client_for(manager).get(reverse("documents:approval-matrix"))
    assert "Only QA leads approve SOPs" in page.content.decode()


def test_signing_still_needs_the_password(make_document, staff, manager):
    version = make_document().versions.get()
    services.version_transition(version, "submit", actor=staff, data={"approvers": [manager.pk]})
    approve(version, manager, password=PASSWORD)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
