"""Segregation of duties on the CAPA's verifying and signed steps (issue 16 item 1; ISO 13485
8.5.2, 21 CFR 11.10(g)): only the named verifier records an effectiveness result, a Quality
Manager who is not the CAPA owner signs its closure, only the action owner or a Quality Manager
marks an action done, and changing the verifier is an edit with a reason.

The table test takes every (person x step) through the API: the step is offered by
`GET .../transitions/` exactly when the POST is accepted, and a refusal changes nothing. The
leaks as users met them are then tried again through the pages and the API."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from capa import services
from capa.models import Capa, CapaAction, EffectivenessCheck
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, StaleVersion, ValidationFailed
from qms.models import Transition
from tests.capa.conftest import AFTER_WINDOW, PLANNED_AT, advance, make_capa, today
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

BASE = "/api/v1/capas/"

# Who is who: the role each person holds, and what they are to the records built below.
PEOPLE = {
    "capa_owner": qms_roles.STAFF,  # owns the CAPA of the result and action steps
    "verifier": qms_roles.STAFF,  # the named verifier (Quality Staff)
    "action_owner": qms_roles.STAFF,  # owns the planned action
    "other_staff": qms_roles.STAFF,  # Quality Staff with no part in the records
    "manager": qms_roles.MANAGER,  # a Quality Manager with no part in the records
    "owner_manager": qms_roles.MANAGER,  # a Quality Manager who owns the CAPA of the close step
    "verifier_manager": qms_roles.MANAGER,  # a Quality Manager named as verifier
    "auditor": qms_roles.AUDITOR,
    "employee": qms_roles.EMPLOYEE,
    "administrator": qms_roles.ADMINISTRATOR,
    "outsider": None,  # logged in, no role
}

# The expected answer: who may take each step (everyone else is refused with 403).
ALLOWED = {
    # The named verifier (Quality Staff), nobody else: not the owner, not another manager.
    "effectiveness result": {"verifier"},
    # The named verifier is a Quality Manager: still only that person.
    "effectiveness result, manager verifier": {"verifier_manager"},
    # Before the window ends: only the named verifier, being a Quality Manager, signs it early.
    "early verification": {"verifier_manager"},
    # A Quality Manager who is not the CAPA owner signs the closure.
    "CAPA close": {"manager", "verifier_manager"},
    # The action owner or any Quality Manager (not the CAPA owner, not other staff).
    "action completion": {"action_owner", "manager", "owner_manager", "verifier_manager"},
}
TABLE = [(step, who, who in allowed) for step, allowed in ALLOWED.items() for who in PEOPLE]


@pytest.fixture
def people(db):
    return {name: make_user(name, role) for name, role in PEOPLE.items()}


def _verified(people, clock, *, owner, verifier):
    """A CAPA of `owner` in its effectiveness check, the observation window over."""
    capa = advance(
        make_capa(actor=people[owner]),
        "effectiveness_check",
        actor=people[owner],
        verifier=people[verifier],
    )
    clock.move_to(AFTER_WINDOW)
    return capa, capa.checks.get()


def setup_result(people, clock, verifier="verifier"):
    capa, check = _verified(people, clock, owner="capa_owner", verifier=verifier)
    url = f"{BASE}{capa.pk}/effectiveness-checks/{check.pk}/transitions/"
    body = {"action": "mark_effective", "evidence": "No leak complaint in 90 days."}
    return url, body, lambda: EffectivenessCheck.objects.get(pk=check.pk).result == "effective"


def setup_early(people, clock):
    """During the observation window (the clock is not moved): an early verification."""
    owner = people["capa_owner"]
    capa = advance(
        make_capa(actor=owner),
        "effectiveness_check",
        actor=owner,
        verifier=people["verifier_manager"],
    )
    check = capa.checks.get()
    url = f"{BASE}{capa.pk}/effectiveness-checks/{check.pk}/transitions/"
    body = {
        "action": "mark_effective_early",
        "evidence": "All seals replaced and tested.",
        "reason": "Supplier audit confirmed the compound change was reverted.",
        "password": PASSWORD,
    }
    return url, body, lambda: EffectivenessCheck.objects.get(pk=check.pk).result == "effective"


def setup_close(people, clock):
    capa, check = _verified(people, clock, owner="owner_manager", verifier="verifier")
    services.check_record_result(
        check, "mark_effective", actor=people["verifier"], evidence="No leak complaint in 90 days."
    )
    body = {
        "action": "close",
        "password": PASSWORD,
        "meaning": "Approved for closure",
        "reason": "Effective",
    }
    return (
        f"{BASE}{capa.pk}/transitions/",
        body,
        lambda: Capa.objects.get(pk=capa.pk).status == "closed",
    )


def setup_action(people, clock):
    owner = people["capa_owner"]
    capa = advance(make_capa(actor=owner), "action_planning", actor=owner, verifier=None)
    action = services.action_create(
        capa,
        actor=owner,
        action_type="fix",
        description="Replace the seals",
        owner=people["action_owner"],
        due_date=today() + timedelta(days=5),
    )
    services.check_create(
        capa, actor=owner, criteria="No leak for 90 days", verifier=people["verifier"]
    )
    services.capa_transition(capa, "implement", actor=owner)
    body = {"action": "complete", "evidence": "All 240 seals replaced."}
    return (
        f"{BASE}{capa.pk}/actions/{action.pk}/transitions/",
        body,
        lambda: CapaAction.objects.get(pk=action.pk).status == "done",
    )


SETUPS = {
    "effectiveness result": setup_result,
    "effectiveness result, manager verifier": lambda people, clock: setup_result(
        people, clock, verifier="verifier_manager"
    ),
    "early verification": setup_early,
    "CAPA close": setup_close,
    "action completion": setup_action,
}


@pytest.mark.parametrize(
    ("step", "who", "allowed"), TABLE, ids=[f"{step}: {who}" for step, who, _ in TABLE]
)
def test_who_may_take_each_verifying_and_signed_step(step, who, allowed, people, api_for, clock):
    url, body, done = SETUPS[step](people, clock)
    client = api_for(people[who])

    offered = client.get(url)
    if offered.status_code == 200:
        assert (body["action"] in [a["action"] for a in offered.json()]) is allowed
    else:
        assert not allowed and offered.status_code == 403

    response = client.post(url, body, format="json")
    assert response.status_code == (200 if allowed else 403), response.content
    assert done() is allowed


# ------------------------------------------------------------------ the named verifier


def test_another_manager_or_staff_cannot_record_the_result_in_the_browser(
    people, client_for, clock
):
    capa, check = _verified(people, clock, owner="capa_owner", verifier="verifier")
    url = reverse("capa:check-result", args=[check.pk])
    for who in ("manager", "other_staff"):
        page = client_for(people[who]).get(capa.get_absolute_url()).content.decode()
        assert "Only the named verifier, Verifier Tester, records the result." in page
        assert 'value="mark_effective"' not in page
        response = client_for(people[who]).post(
            url, {"action": "mark_effective", "evidence": "Looks fine"}, follow=True
        )
        assert "Only the named verifier (Verifier Tester)" in response.content.decode()
        assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"
    page = client_for(people["verifier"]).get(capa.get_absolute_url()).content.decode()
    assert 'value="mark_effective"' in page
    client_for(people["verifier"]).post(
        url, {"action": "mark_effective", "evidence": "No leak in 90 days"}
    )
    check.refresh_from_db()
    assert check.result == "effective" and check.verified_by == people["verifier"]


def test_changing_the_verifier_is_an_edit_with_a_reason(people, api_for, clock):
    capa = advance(
        make_capa(actor=people["capa_owner"]),
        "effectiveness_check",
        actor=people["capa_owner"],
        verifier=people["verifier"],
    )
    check = capa.checks.get()
    url = f"{BASE}{capa.pk}/effectiveness-checks/{check.pk}/"
    client = api_for(people["capa_owner"])
    read_version = check.version

    # Bad input changes nothing: no reason, no version, a stale version, the owner, a non-quality user, other fields
    assert (
        client.patch(
            url, {"verifier": people["other_staff"].pk, "version": check.version}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.patch(
            url, {"verifier": people["other_staff"].pk, "reason": "Away"}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.patch(
            url,
            {"verifier": people["other_staff"].pk, "version": 99, "reason": "Away"},
            format="json",
        ).status_code
        == 409
    )
    owner = client.patch(
        url,
        {"verifier": people["capa_owner"].pk, "version": check.version, "reason": "Me"},
        format="json",
    )
    assert owner.status_code == 400 and "verifier" in owner.json()
    assert (
        client.patch(
            url,
            {"verifier": people["employee"].pk, "version": check.version, "reason": "x"},
            format="json",
        ).status_code
        == 400
    )
    criteria = client.patch(
        url, {"criteria": "Anything", "version": check.version, "reason": "x"}, format="json"
    )
    assert criteria.status_code == 400 and "criteria" in criteria.json()
    assert (
        client.patch(
            url, {"verifier": "<script>", "version": check.version, "reason": "x"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api_for(people["auditor"])
        .patch(
            url, {"verifier": people["other_staff"].pk, "version": 1, "reason": "x"}, format="json"
        )
        .status_code
        == 403
    )
    check.refresh_from_db()
    assert check.verifier == people["verifier"] and check.version == read_version

    # When the verifier changes, with a reason
    changed = client.patch(
        url,
        {
            "verifier": people["other_staff"].pk,
            "version": check.version,
            "reason": "Verifier on leave until May",
        },
        format="json",
    )
    assert (
        changed.status_code == 200
        and changed.json()["verifier"] == people["other_staff"].pk
        and changed.json()["version"] == read_version + 1
    )

    # Then the history says who, why, and what changed
    entry = client.get(f"{BASE}{capa.pk}/effectiveness-checks/{check.pk}/").json()
    assert entry["verifier"] == people["other_staff"].pk
    latest = check.history.order_by("-history_date", "-history_id").first()
    assert (
        latest.history_user == people["capa_owner"]
        and latest.history_change_reason == "Verifier on leave until May"
    )
    assert (
        latest.history_action == "change_verifier"
        and latest.verifier_id == people["other_staff"].pk
    )
    assert people["other_staff"].notifications.filter(subject__contains="You verify").exists()
    assert people["verifier"].notifications.filter(subject__contains="no longer verify").exists()

    # And only the new verifier records the result
    clock.move_to(AFTER_WINDOW)
    result_url = f"{url}transitions/"
    assert (
        api_for(people["verifier"])
        .post(result_url, {"action": "mark_effective", "evidence": "ok"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_for(people["other_staff"])
        .post(result_url, {"action": "mark_effective", "evidence": "ok"}, format="json")
        .status_code
        == 200
    )


def test_changing_the_verifier_in_the_browser(people, client_for, clock):
    capa = advance(
        make_capa(actor=people["capa_owner"]),
        "effectiveness_check",
        actor=people["capa_owner"],
        verifier=people["verifier"],
    )
    check = capa.checks.get()
    client = client_for(people["capa_owner"])
    assert (
        reverse("capa:check-edit", args=[check.pk])
        in client.get(capa.get_absolute_url()).content.decode()
    )
    url = reverse("capa:check-edit", args=[check.pk])
    assert client.get(url).status_code == 200
    version = str(check.version)
    no_reason = client.post(url, {"verifier": str(people["other_staff"].pk), "version": version})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["form"].errors
    to_owner = client.post(
        url, {"verifier": str(people["capa_owner"].pk), "version": version, "reason": "Me"}
    )
    assert to_owner.status_code == 400 and "verifier" in to_owner.context["form"].errors
    stale = client.post(
        url, {"verifier": str(people["other_staff"].pk), "version": "7", "reason": "x"}
    )
    assert stale.status_code == 400 and "changed by" in stale.content.decode()
    assert (
        client_for(people["auditor"])
        .post(url, {"verifier": str(people["other_staff"].pk), "version": version, "reason": "x"})
        .status_code
        == 403
    )
    assert EffectivenessCheck.objects.get(pk=check.pk).verifier == people["verifier"]
    assert (
        client.post(
            url,
            {
                "verifier": str(people["other_staff"].pk),
                "version": version,
                "reason": "Verifier on leave",
            },
        ).status_code
        == 302
    )
    check.refresh_from_db()
    assert check.verifier == people["other_staff"]
    assert "Verifier Other_staff Tester" in client.get(capa.get_absolute_url()).content.decode()
    entry = check.history.order_by("-history_date", "-history_id").first()
    assert (
        entry.history_change_reason == "Verifier on leave"
        and entry.history_user == people["capa_owner"]
    )


def test_the_verifier_of_a_recorded_check_cannot_change(people, clock):
    capa, check = _verified(people, clock, owner="capa_owner", verifier="verifier")
    services.check_record_result(check, "mark_effective", actor=people["verifier"], evidence="ok")
    check.refresh_from_db()
    with pytest.raises(IllegalTransition, match="can no longer change"):
        services.check_update(
            check,
            actor=people["manager"],
            reason="x",
            version=check.version,
            verifier=people["other_staff"],
        )
    with pytest.raises(StaleVersion):
        services.check_update(
            check, actor=people["manager"], reason="x", version=1, verifier=people["other_staff"]
        )
    assert EffectivenessCheck.objects.get(pk=check.pk).verifier == people["verifier"]


def test_the_recurrence_sweep_still_records_not_effective_as_the_system(people, clock):
    """The named-verifier rule binds people; the system user's automatic "not effective" stays."""
    from qms.services import system_user

    capa, check = _verified(people, clock, owner="capa_owner", verifier="verifier")
    services.check_record_result(
        check, "mark_not_effective", actor=system_user(), reason="Recurrence", evidence="CMP-1"
    )
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "not_effective"
    assert Capa.objects.get(pk=capa.pk).status == "action_planning"


def test_the_system_user_cannot_declare_a_check_effective(people, clock):
    from qms.services import system_user

    capa, check = _verified(people, clock, owner="capa_owner", verifier="verifier")
    with pytest.raises(NotAllowed):
        services.check_record_result(check, "mark_effective", actor=system_user(), evidence="x")
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"


# ------------------------------------------------------------------ the closure


def test_the_owner_manager_is_not_offered_and_cannot_sign_the_closure_in_the_browser(
    people, client_for, clock
):
    capa, check = _verified(people, clock, owner="owner_manager", verifier="verifier")
    services.check_record_result(check, "mark_effective", actor=people["verifier"], evidence="ok")
    client = client_for(people["owner_manager"])
    page = client.get(capa.get_absolute_url()).content.decode()
    assert 'value="close"' not in page
    response = client.post(
        reverse("capa:transition", args=[capa.pk]),
        {"action": "close", "password": PASSWORD, "meaning": "Approved for closure"},
        follow=True,
    )
    assert "The CAPA owner cannot sign its closure" in response.content.decode()
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"
    assert not Transition.objects.filter(object_id=capa.pk, action="close").exists()
    assert (
        'value="close"'
        in client_for(people["manager"]).get(capa.get_absolute_url()).content.decode()
    )
    client_for(people["manager"]).post(
        reverse("capa:transition", args=[capa.pk]),
        {"action": "close", "password": PASSWORD, "meaning": "Approved for closure"},
    )
    assert Capa.objects.get(pk=capa.pk).status == "closed"


def test_a_site_may_let_the_owner_sign_the_closure(people, api_for, clock):
    capa, check = _verified(people, clock, owner="owner_manager", verifier="verifier")
    services.check_record_result(check, "mark_effective", actor=people["verifier"], evidence="ok")
    client = api_for(people["owner_manager"])
    with override_settings(QMS_CAPA_OWNER_MAY_CLOSE=True):
        assert "close" in [a["action"] for a in client.get(f"{BASE}{capa.pk}/transitions/").json()]
        response = client.post(
            f"{BASE}{capa.pk}/transitions/",
            {"action": "close", "password": PASSWORD},
            format="json",
        )
    assert response.status_code == 200 and response.json()["status"] == "closed"


# ------------------------------------------------------------------ action completion


def test_quality_staff_cannot_mark_another_persons_action_done_and_the_card_says_who_did(
    people, client_for, api_for, clock
):
    url, body, done = setup_action(people, clock)
    action = CapaAction.objects.get()
    page_url = reverse("capa:action-transition", args=[action.pk])

    # Given Quality Staff who do not own the action: no button, and the POST is refused
    other = client_for(people["other_staff"])
    assert 'value="complete"' not in other.get(action.capa.get_absolute_url()).content.decode()
    refused = other.post(
        page_url, {"action": "complete", "evidence": "Done it for her"}, follow=True
    )
    assert (
        "Only the action owner (Action_owner Tester) or a Quality Manager"
        in refused.content.decode()
    )
    assert not done()

    # When a Quality Manager marks it done for the owner
    client_for(people["manager"]).post(
        page_url, {"action": "complete", "evidence": "Seals replaced; see SR-4471."}
    )
    assert done()

    # Then the card and the API say who and when
    page = other.get(action.capa.get_absolute_url()).content.decode()
    assert "by Manager Tester (for the owner, Action_owner Tester)" in page
    item = api_for(people["auditor"]).get(f"{BASE}{action.capa_id}/actions/{action.pk}/").json()
    assert item["completed_by"] == "manager" and item["completed_by_name"] == "Manager Tester"
    assert item["completed_at"].startswith(PLANNED_AT.date().isoformat())
    listed = api_for(people["auditor"]).get(f"{BASE}{action.capa_id}/actions/").json()
    assert listed[0]["completed_by"] == "manager"


def test_the_action_owner_marks_it_done_and_is_shown(people, client_for, api_for, clock):
    url, body, done = setup_action(people, clock)
    response = api_for(people["action_owner"]).post(url, body, format="json")
    assert (
        response.status_code == 200
        and response.json()["completed_by"] == "action_owner"
        and response.json()["completed_at"]
    )
    page = (
        client_for(people["capa_owner"]).get(Capa.objects.get().get_absolute_url()).content.decode()
    )
    assert "by Action_owner Tester" in page and "(for the owner" not in page


def test_bad_completion_input_is_400_and_changes_nothing(people, api_for, clock):
    url, body, done = setup_action(people, clock)
    client = api_for(people["action_owner"])
    assert client.post(url, {"action": "complete"}, format="json").status_code == 400
    assert (
        client.post(url, {"action": "complete", "evidence": "x" * 10001}, format="json").status_code
        == 400
    )
    assert (
        client.post(url, {"action": "<script>", "evidence": "x"}, format="json").status_code == 409
    )
    assert not done()
    with pytest.raises(ValidationFailed):
        services.action_transition(
            CapaAction.objects.get(), "complete", actor=people["manager"], data={"evidence": " "}
        )
