"""Scorecards are controlled: draft -> approved (signed by a Quality Manager) -> in force; a
change makes a new revision; evaluations keep the revision they used."""

import pytest

from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import Signature, Transition
from service_quality import services
from service_quality.models import Scorecard
from tests.conftest import PASSWORD
from tests.service_quality.conftest import add_communication, make_complaint, make_scorecard

pytestmark = pytest.mark.django_db


def test_approval_is_signed_by_a_quality_manager(manager):
    scorecard = make_scorecard(manager=manager, in_force=False)
    services.scorecard_transition(
        scorecard, "approve", actor=manager, password=PASSWORD, reason="Reviewed"
    )
    scorecard.refresh_from_db()
    assert scorecard.status == "approved"
    assert scorecard.approved_at is not None
    signature = Signature.objects.get(object_id=scorecard.pk, content_type__model="scorecard")
    assert signature.signer == manager
    assert signature.meaning == "Approved"
    assert scorecard.history.first().history_action == "approve"


def test_wrong_password_signs_nothing(manager):
    scorecard = make_scorecard(manager=manager, in_force=False)
    with pytest.raises(SignatureRejected):
        services.scorecard_transition(
            scorecard, "approve", actor=manager, password="wrong", reason="Reviewed"
        )
    scorecard.refresh_from_db()
    assert scorecard.status == "draft"
    assert not Signature.objects.filter(content_type__model="scorecard").exists()


def test_staff_cannot_approve(manager, staff):
    scorecard = make_scorecard(manager=manager, in_force=False)
    with pytest.raises(NotAllowed):
        services.scorecard_transition(scorecard, "approve", actor=staff, password=PASSWORD)


def test_an_empty_scorecard_cannot_be_approved(manager):
    scorecard = services.scorecard_create(actor=manager, name="Empty")
    with pytest.raises(IllegalTransition, match="criterion"):
        services.scorecard_transition(scorecard, "approve", actor=manager, password=PASSWORD)


def test_in_force_needs_approval_first(manager):
    scorecard = make_scorecard(manager=manager, in_force=False)
    with pytest.raises(IllegalTransition):
        services.scorecard_transition(scorecard, "put_in_force", actor=manager)


def test_an_approved_scorecard_cannot_be_edited(manager):
    scorecard = make_scorecard(manager=manager)
    section = scorecard.sections.first()
    with pytest.raises(IllegalTransition, match="new revision"):
        services.criterion_add(scorecard, actor=manager, section=section, label="Late addition")
    with pytest.raises(IllegalTransition):
        services.scorecard_update(
            scorecard, actor=manager, reason="x", version=scorecard.version, name="Other"
        )
    with pytest.raises(IllegalTransition):
        services.criterion_update(scorecard.criteria.first(), actor=manager, reason="x", weight=5)


def test_a_change_makes_a_new_revision_and_evaluations_keep_theirs(manager, evaluator, agent):
    rev1 = make_scorecard(manager=manager)
    complaint = make_complaint(actor=agent, assignee=agent)
    entry = add_communication(complaint, author=agent, summary="Your reference is CMP-1.")
    evaluation = services.evaluation_create(
        actor=evaluator, scorecard=rev1, complaint=complaint, communication=entry
    )

    rev2 = services.scorecard_new_revision(
        rev1, actor=manager, change_summary="Add privacy statement"
    )
    assert (rev2.code, rev2.revision, rev2.status) == (rev1.code, 2, "draft")
    assert rev2.previous_revision == rev1
    assert rev2.criteria.count() == rev1.criteria.count() == 3
    assert set(rev2.sections.values_list("title", flat=True)) == {"Compliance", "Communication"}
    services.criterion_add(
        rev2,
        actor=manager,
        section=rev2.sections.get(title="Compliance"),
        label="Privacy statement",
        is_critical=True,
    )
    services.scorecard_transition(rev2, "approve", actor=manager, password=PASSWORD)
    services.scorecard_transition(rev2, "put_in_force", actor=manager)

    rev1.refresh_from_db()
    rev2.refresh_from_db()
    assert rev1.status == "superseded" and rev1.superseded_at is not None
    assert rev2.status == "in_force"
    assert Transition.objects.filter(
        object_id=rev1.pk, action="supersede", content_type__model="scorecard"
    ).exists()
    evaluation.refresh_from_db()
    assert evaluation.scorecard_id == rev1.pk
    assert rev1.criteria.count() == 3 and rev2.criteria.count() == 4


def test_only_one_revision_in_preparation(manager):
    rev1 = make_scorecard(manager=manager)
    services.scorecard_new_revision(rev1, actor=manager, change_summary="One")
    with pytest.raises(IllegalTransition):
        services.scorecard_new_revision(rev1, actor=manager, change_summary="Two")


def test_a_draft_is_changed_directly_not_revised(manager):
    draft = make_scorecard(manager=manager, in_force=False)
    with pytest.raises(IllegalTransition, match="draft"):
        services.scorecard_new_revision(draft, actor=manager, change_summary="x")


def test_new_revision_needs_a_summary(manager):
    rev1 = make_scorecard(manager=manager)
    with pytest.raises(ValidationFailed):
        services.scorecard_new_revision(rev1, actor=manager, change_summary="  ")


def test_one_in_force_per_code_in_the_database(manager):
    from django.db import IntegrityError, transaction

    rev1 = make_scorecard(manager=manager)
    rev2 = services.scorecard_new_revision(rev1, actor=manager, change_summary="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Scorecard.objects.filter(pk=rev2.pk).update(status="in_force")


def test_draft_edits_keep_history_with_the_reason(manager):
    scorecard = make_scorecard(manager=manager, in_force=False)
    services.scorecard_update(
        scorecard, actor=manager, reason="Stricter", version=scorecard.version, pass_mark=90
    )
    entry = scorecard.history.first()
    assert entry.history_change_reason == "Stricter" and entry.pass_mark == 90
    criterion = scorecard.criteria.first()
    services.criterion_update(criterion, actor=manager, reason="Matters more", weight=5)
    assert criterion.history.first().history_change_reason == "Matters more"


def test_stale_version_is_refused(manager):
    from qms.errors import StaleVersion

    scorecard = make_scorecard(manager=manager, in_force=False)
    with pytest.raises(StaleVersion):
        services.scorecard_update(
            scorecard, actor=manager, reason="x", version=scorecard.version + 5, name="Y"
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weight": 0}, "weight"),
        ({"weight": 101}, "weight"),
        ({"weight": "abc"}, "weight"),
        ({"weight": True}, "weight"),
        ({"scale": "one_to_ten"}, "scale"),
        ({"label": ""}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"is_critical": "yes"}, "is_critical"),
        ({"auto_rule": "magic"}, "auto_rule"),
        ({"auto_rule": "required_phrase", "phrases": []}, "phrases"),
        ({"phrases": "not a list"}, "phrases"),
        ({"phrases": [1, 2]}, "phrases"),
    ],
)
def test_bad_criterion_input_is_refused_and_changes_nothing(manager, changes, field):
    scorecard = services.scorecard_create(actor=manager, name="Card")
    section = services.section_add(scorecard, actor=manager, title="S")
    values = {"section": section, "label": "Greeting", **changes}
    with pytest.raises(ValidationFailed) as error:
        services.criterion_add(scorecard, actor=manager, **values)
    assert field in error.value.field_errors
    assert not scorecard.criteria.exists()


def test_a_section_of_another_scorecard_is_refused(manager):
    one = services.scorecard_create(actor=manager, name="One")
    other = services.scorecard_create(actor=manager, name="Other")
    section = services.section_add(other, actor=manager, title="S")
    with pytest.raises(ValidationFailed) as error:
        services.criterion_add(one, actor=manager, section=section, label="x")
    assert "section" in error.value.field_errors


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("pass_mark", 101), ("pass_mark", -1), ("applies_to", "email")],
)
def test_bad_scorecard_input(manager, field, value):
    values = {"name": "Card", field: value}
    with pytest.raises(ValidationFailed) as error:
        services.scorecard_create(actor=manager, **values)
    assert field in error.value.field_errors
    assert not Scorecard.objects.exists()


def test_only_managers_draft_scorecards(staff, auditor, evaluator):
    for user in (staff, auditor, evaluator):
        with pytest.raises(NotAllowed):
            services.scorecard_create(actor=user, name="Card")


def test_duplicate_section_title_is_refused(manager):
    scorecard = services.scorecard_create(actor=manager, name="Card")
    services.section_add(scorecard, actor=manager, title="Compliance")
    with pytest.raises(ValidationFailed):
        services.section_add(scorecard, actor=manager, title="compliance")
