"""Segregation of duties as a table (issue 16): for every signed or verifying step and every
role, the answer the API gives, with the strict default settings.

Each step is a `Step` with a `run(world, actor) -> int` that sets the record up through the
services and the API as real users would, lets `actor` try the step through the API, and
returns the HTTP status of the first refusal (or of the success). TABLE holds the expected
answer of every (step, role) pair; `test_the_table_is_complete` makes sure no pair is left out.

The CAPA steps (effectiveness result, early verification, CAPA close, action completion) have
their own table in tests/capa/test_segregation_of_duties.py, with the owner and the named
verifier as roles. To add a step: write its `run` function below, add it to STEPS, and add one
row per role to TABLE. The roles are the personas of tests/conftest.py plus the people a record names:
"author" (wrote the version), "editor" (a Quality Manager who changed its content); a CAPA
step would add e.g. "owner" and "verifier" to ROLES with their rows.

Answers: 200 done; 400 refused when the person is named (approval matrix, content author);
403 not allowed to act; 404 the record is not visible to them.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from documents import services as document_services
from documents.models import DocumentType, VersionSignoff
from qms import roles as qms_roles
from tests.conftest import PASSWORD, make_user

ROLES = ("staff", "manager", "auditor", "employee", "administrator", "outsider", "author", "editor")


@dataclass
class World:
    """The people of one table row: the personas, the author of the record and a Quality
    Manager who changed its content, and independent reviewers/approvers."""

    people: dict
    api_for: Callable

    def api(self, name_or_user):
        user = self.people[name_or_user] if isinstance(name_or_user, str) else name_or_user
        return self.api_for(user)


@pytest.fixture
def world(personas, api_for):
    people = dict(personas)
    people["author"] = make_user("author", qms_roles.STAFF)
    people["editor"] = make_user("editor", qms_roles.MANAGER)
    people["reviewer"] = make_user("reviewer", qms_roles.STAFF)
    people["approver"] = make_user("approver", qms_roles.MANAGER)
    return World(people=people, api_for=api_for)


# ---------------------------------------------------------------- document steps


def _draft_edited_by_the_editor(world: World):
    """A draft SOP by "author" whose text "editor" changed through the API (with a reason)."""
    document = document_services.document_create(
        actor=world.people["author"],
        title="Incoming inspection",
        doc_type=DocumentType.SOP,
        owner=world.people["author"],
        content_text="1. Purpose\n",
        effective_from=timezone.localdate(),
    )
    version = document.versions.get()
    url = reverse("api-document-version-detail", args=[document.pk, version.pk])
    edited = world.api("editor").patch(
        url,
        {
            "content_text": "1. Purpose\n2. Scope\n",
            "version": version.version,
            "reason": "Scope added",
        },
        format="json",
    )
    assert edited.status_code == 200, edited.content
    return version


def _transitions(version):
    return reverse("api-document-version-transitions", args=[version.document_id, version.pk])


def _submit(world: World, version, *, reviewers, approvers) -> int:
    response = world.api("author").post(
        _transitions(version),
        {
            "action": "submit",
            "reviewers": [u.pk for u in reviewers],
            "approvers": [u.pk for u in approvers],
            "reason": "Ready.",
        },
        format="json",
    )
    return response.status_code


def _review(world: World, version, actor) -> int:
    return (
        world.api(actor)
        .post(
            _transitions(version), {"action": "review", "reason": "Checked; clear."}, format="json"
        )
        .status_code
    )


def _approve(world: World, version, actor) -> int:
    body = {
        "action": "approve",
        "reason": "Approved for use.",
        "password": PASSWORD,
        "meaning": "Approved",
    }
    return world.api(actor).post(_transitions(version), body, format="json").status_code


def document_review_as_named(world: World, actor) -> int:
    """The author names `actor` as the reviewer (an independent manager approves), then
    `actor` records the review."""
    version = _draft_edited_by_the_editor(world)
    submitted = _submit(world, version, reviewers=[actor], approvers=[world.people["approver"]])
    if submitted != 200:
        return submitted
    status = _review(world, version, actor)
    if status == 200:
        assert VersionSignoff.objects.get(version=version, kind="review").completed_at is not None
    return status


def document_approval_as_named(world: World, actor) -> int:
    """The author names `actor` as the only approver, then `actor` signs "Approved"."""
    version = _draft_edited_by_the_editor(world)
    submitted = _submit(world, version, reviewers=[], approvers=[actor])
    if submitted != 200:
        return submitted
    status = _approve(world, version, actor)
    if status == 200:
        version.refresh_from_db()
        assert version.status == "approved"
    return status


def document_review_not_named(world: World, actor) -> int:
    """Someone else is the reviewer; `actor` tries to record a review."""
    version = _draft_edited_by_the_editor(world)
    assert (
        _submit(
            world,
            version,
            reviewers=[world.people["reviewer"]],
            approvers=[world.people["approver"]],
        )
        == 200
    )
    return _review(world, version, actor)


def document_approval_not_named(world: World, actor) -> int:
    """Someone else is the approver; `actor` tries to sign the approval."""
    version = _draft_edited_by_the_editor(world)
    assert _submit(world, version, reviewers=[], approvers=[world.people["approver"]]) == 200
    return _approve(world, version, actor)


# ---------------------------------------------------------------- complaint close


def complaint_close(world: World, actor) -> int:
    """A complaint logged and resolved by "author" (Quality Staff), whose fields "editor" (a
    Quality Manager) changed; `actor` signs its closure through the API."""
    from complaints import services as complaint_services
    from complaints.models import Customer
    from tests.complaints.conftest import ensure_policies

    ensure_policies()
    customer = Customer.objects.create(name="Jane Roe", organisation="St Mary's", email="jane.roe@example.org")
    author = world.people["author"]
    complaint = complaint_services.complaint_create(
        actor=author, title="Pump alarm does not sound", description="Silent occlusion alarm.", customer=customer
    )
    edited = world.api("editor").patch(
        f"/api/v1/complaints/{complaint.pk}/",
        {"title": "Pump occlusion alarm does not sound", "version": complaint.version, "reason": "Clearer title"},
        format="json",
    )
    assert edited.status_code == 200, edited.content
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"
    for action, extra in (("acknowledge", {}), ("investigate", {}), ("resolve", {"resolution": "Replaced the pump."})):
        taken = world.api(author).post(url, {"action": action, "reason": f"test: {action}", **extra}, format="json")
        assert taken.status_code == 200, taken.content
    body = {
        "action": "close", "investigation_required": True, "is_reportable": False,
        "reportability_reason": "No injury, no malfunction that could cause harm.", "password": PASSWORD,
    }
    return world.api(actor).post(url, body, format="json").status_code


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[World, object], int]


STEPS = {
    step.name: step
    for step in (
        Step("document review (named)", document_review_as_named),
        Step("document approval (named)", document_approval_as_named),
        Step("document review (not named)", document_review_not_named),
        Step("document approval (not named)", document_approval_not_named),
        Step("complaint close", complaint_close),
    )
}

# (step, role) -> the API's answer with the strict default approval matrix.
TABLE = {
    # Reviewers may be Quality Staff or Quality Managers who did not write or edit the content.
    ("document review (named)", "staff"): 200,
    ("document review (named)", "manager"): 200,
    ("document review (named)", "auditor"): 400,
    ("document review (named)", "employee"): 400,
    ("document review (named)", "administrator"): 400,
    ("document review (named)", "outsider"): 400,
    ("document review (named)", "author"): 400,
    ("document review (named)", "editor"): 400,
    # At least one Quality Manager approves; a Quality Staff member alone cannot.
    ("document approval (named)", "staff"): 400,
    ("document approval (named)", "manager"): 200,
    ("document approval (named)", "auditor"): 400,
    ("document approval (named)", "employee"): 400,
    ("document approval (named)", "administrator"): 400,
    ("document approval (named)", "outsider"): 400,
    ("document approval (named)", "author"): 400,
    ("document approval (named)", "editor"): 400,
    # Nobody acts on a step they were not named for (roles without write access stop at the door).
    ("document review (not named)", "staff"): 403,
    ("document review (not named)", "manager"): 403,
    ("document review (not named)", "auditor"): 403,
    ("document review (not named)", "employee"): 403,
    ("document review (not named)", "administrator"): 403,
    ("document review (not named)", "outsider"): 403,
    ("document review (not named)", "author"): 403,
    ("document review (not named)", "editor"): 403,
    ("document approval (not named)", "staff"): 403,
    ("document approval (not named)", "manager"): 403,
    ("document approval (not named)", "auditor"): 403,
    ("document approval (not named)", "employee"): 403,
    ("document approval (not named)", "administrator"): 403,
    ("document approval (not named)", "outsider"): 403,
    ("document approval (not named)", "author"): 403,
    ("document approval (not named)", "editor"): 403,
    # A complaint's closure is signed by a Quality Manager (21 CFR 820.198); who logged or edited
    # it does not matter to the rule, only the role: the handler (Quality Staff) cannot close it.
    ("complaint close", "staff"): 403,
    ("complaint close", "manager"): 200,
    ("complaint close", "auditor"): 403,
    ("complaint close", "employee"): 403,
    ("complaint close", "administrator"): 403,
    ("complaint close", "outsider"): 403,
    ("complaint close", "author"): 403,
    ("complaint close", "editor"): 200,
}


def test_the_table_is_complete():
    assert set(TABLE) == {(step, role) for step in STEPS for role in ROLES}


@pytest.mark.parametrize(
    ("step", "role", "expected"),
    [(s, r, e) for (s, r), e in TABLE.items()],
    ids=[f"{s} / {r}" for (s, r) in TABLE],
)
def test_segregation_of_duties(world, step, role, expected):
    actor = world.people[role]
    assert STEPS[step].run(world, actor) == expected
