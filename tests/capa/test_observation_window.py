"""Effectiveness is verified after the observation window, not declared on day 0 (issue 16
item 4; ISO 13485 8.5.2): the result "effective" is recorded once the check's due date has
come; before that only a Quality Manager who is the named verifier may declare it, with a
written justification signed "Early verification", shown as such on the CAPA, in the trail and
in the dossier. All at fixed instants (time-machine)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from capa import services
from capa.models import Capa, EffectivenessCheck
from qms.errors import IllegalTransition, NotAllowed, SignatureRejected, ValidationFailed
from qms.models import Signature, Transition
from tests.capa.conftest import AFTER_WINDOW, PLANNED_AT, advance, make_capa
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/api/v1/capas/"
WINDOW_ENDS = (PLANNED_AT + timedelta(days=90)).date()  # 31 May 2026, a day of British Summer Time
JUSTIFICATION = "Field action complete on all 37 pumps and the faulty sensor lot scrapped; notified body audit on 20 March."


def in_effectiveness_check(owner, verifier, **fields):
    capa = advance(
        make_capa(actor=owner, **fields), "effectiveness_check", actor=owner, verifier=verifier
    )
    return capa, capa.checks.get()


def result_url(check):
    return f"{BASE}{check.capa_id}/effectiveness-checks/{check.pk}/transitions/"


def offered(client, check):
    return [a["action"] for a in client.get(result_url(check)).json()]


# ------------------------------------------------------------------ the window


def test_a_90_day_window_starts_at_implementation(staff, staff2, clock):
    capa, check = in_effectiveness_check(staff, staff2)
    assert check.due_date == WINDOW_ENDS
    assert capa.implemented_at.date() == PLANNED_AT.date()


def test_effective_on_the_day_it_was_planned_is_refused_in_the_api(
    staff, staff2, manager, api_for, clock
):
    # Given a critical (5 x 5) CAPA taken to its effectiveness check this morning
    capa, check = in_effectiveness_check(staff, staff2, severity=5, occurrence=5)
    assert capa.risk_level == "critical"
    verifier = api_for(staff2)

    # When the verifier declares it effective at once
    assert "mark_effective" not in offered(verifier, check)
    response = verifier.post(
        result_url(check), {"action": "mark_effective", "evidence": "Looks fixed"}, format="json"
    )

    # Then it is refused with the date the window ends, and nothing changed
    assert response.status_code == 409
    assert (
        "31 May 2026" in response.json()["detail"]
        and "Early verification" in response.json()["detail"]
    )
    check.refresh_from_db()
    assert check.result == "pending" and check.verified_at is None
    assert (
        api_for(manager)
        .post(
            f"{BASE}{capa.pk}/transitions/",
            {"action": "close", "password": PASSWORD},
            format="json",
        )
        .status_code
        == 409
    )
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"


def test_the_window_ends_at_local_midnight_of_the_due_date(staff, staff2, api_for, clock):
    capa, check = in_effectiveness_check(staff, staff2)
    verifier = api_for(staff2)
    # 23:30 in London on 30 May (22:30 UTC): still in the window
    clock.move_to(datetime(2026, 5, 30, 22, 30, tzinfo=UTC))
    assert (
        verifier.post(
            result_url(check), {"action": "mark_effective", "evidence": "ok"}, format="json"
        ).status_code
        == 409
    )
    # 00:30 in London on 31 May (23:30 UTC on the 30th): the window is over
    clock.move_to(datetime(2026, 5, 30, 23, 30, tzinfo=UTC))
    assert "mark_effective" in offered(verifier, check)
    response = verifier.post(
        result_url(check),
        {"action": "mark_effective", "evidence": "No leak complaint in 90 days"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["result"] == "effective"
    assert (
        response.json()["is_early_verification"] is False
        and response.json()["early_justification"] is None
    )


def test_effective_during_the_window_is_refused_in_the_browser(staff, staff2, client_for, clock):
    capa, check = in_effectiveness_check(staff, staff2)
    client = client_for(staff2)
    page = client.get(capa.get_absolute_url()).content.decode()
    assert "Observation window until 31 May 2026" in page and 'value="mark_effective"' not in page
    response = client.post(
        reverse("capa:check-result", args=[check.pk]),
        {"action": "mark_effective", "evidence": "fine"},
        follow=True,
    )
    assert "The observation window ends on 31 May 2026" in response.content.decode()
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"
    clock.move_to(AFTER_WINDOW)
    page = (
        client_for(staff2).get(capa.get_absolute_url()).content.decode()
    )  # a new session: 8 h sessions
    assert "Observation window until" not in page and 'value="mark_effective"' in page


def test_not_effective_may_be_recorded_as_soon_as_it_is_seen(staff, staff2, api_for, clock):
    """A failure seen during the window reopens the CAPA at once (as the recurrence sweep does)."""
    capa, check = in_effectiveness_check(staff, staff2)
    body = {
        "action": "mark_not_effective",
        "reason": "Two new leaks",
        "evidence": "CMP-2026-00012, CMP-2026-00013",
    }
    assert api_for(staff2).post(result_url(check), body, format="json").status_code == 200
    assert Capa.objects.get(pk=capa.pk).status == "action_planning"


# ------------------------------------------------------------------ early verification


def test_early_verification_needs_the_named_manager_a_justification_and_a_signature(
    staff, manager, manager2, auditor, api_for, clock
):
    capa, check = in_effectiveness_check(staff, manager2)
    url = result_url(check)
    body = {
        "action": "mark_effective_early",
        "evidence": "All pumps re-tested",
        "reason": JUSTIFICATION,
        "password": PASSWORD,
    }

    # Only the named verifier, a Quality Manager, is offered it
    assert offered(api_for(manager2), check) == ["mark_effective_early", "mark_not_effective"]
    assert "mark_effective_early" not in offered(api_for(manager), check)
    assert "mark_effective_early" not in offered(api_for(staff), check)

    # Bad or missing parts are refused and change nothing
    assert api_for(manager2).post(url, {**body, "reason": "  "}, format="json").status_code == 400
    assert api_for(manager2).post(url, {**body, "password": ""}, format="json").status_code == 403
    assert (
        api_for(manager2).post(url, {**body, "password": "wrong"}, format="json").status_code == 403
    )
    assert api_for(manager2).post(url, {**body, "evidence": ""}, format="json").status_code == 400
    assert api_for(manager).post(url, body, format="json").status_code == 403  # another manager
    assert (
        api_for(staff).post(url, body, format="json").status_code == 403
    )  # the owner, Quality Staff
    assert (
        api_for(manager2).post(url, {**body, "action": "mark_effective"}, format="json").status_code
        == 409
    )
    check.refresh_from_db()
    assert (
        check.result == "pending"
        and not Signature.objects.filter(meaning="Early verification").exists()
    )

    # A meaning other than the step's is refused (decision 0049) and changes nothing
    refused = api_for(manager2).post(url, {**body, "meaning": "Approved"}, format="json")
    assert refused.status_code == 400 and "Early verification" in refused.json()["meaning"][0]
    check.refresh_from_db()
    assert check.result == "pending" and not Signature.objects.exists()

    # When the verifier signs an early verification
    response = api_for(manager2).post(url, body, format="json")

    # Then the check is effective, shown as early, with the justification
    assert response.status_code == 200
    data = response.json()
    assert data["result"] == "effective" and data["verified_by"] == "manager2"
    assert data["is_early_verification"] is True and data["early_justification"] == JUSTIFICATION
    signature = Signature.objects.get(object_id=check.pk, content_type__model="effectivenesscheck")
    assert (
        signature.signer == manager2
        and signature.meaning == "Early verification"
        and signature.reason == JUSTIFICATION
    )
    step = Transition.objects.get(object_id=check.pk, content_type__model="effectivenesscheck")
    assert (
        step.action == "mark_effective_early"
        and step.signature == signature
        and step.reason == JUSTIFICATION
    )
    assert api_for(staff).get(f"{BASE}{capa.pk}/").json()["is_verified_early"] is True
    listed = api_for(staff).get(f"{BASE}?page_size=5").json()["results"]
    assert [c["is_verified_early"] for c in listed] == [True]

    # And the trail has the step with its reason, and its signature
    history = api_for(staff).get(f"{BASE}{capa.pk}/effectiveness-checks/{check.pk}/").json()
    assert history["is_early_verification"] is True
    trail = api_for(auditor).get(
        "/api/v1/audit-trail/", {"model": "capa.effectivenesscheck", "object_id": check.pk}
    )
    assert trail.status_code == 200, trail.content
    assert any(
        e["action"] == "mark_effective_early" and e["reason"] == JUSTIFICATION
        for e in trail.json()["results"]
    )

    # And the CAPA closes (the closer is a manager who is not the owner)
    closed = api_for(manager).post(
        f"{BASE}{capa.pk}/transitions/", {"action": "close", "password": PASSWORD}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_quality_staff_verifier_cannot_verify_early(staff, staff2, clock):
    capa, check = in_effectiveness_check(staff, staff2)
    with pytest.raises(NotAllowed, match="Your role may not verify early"):
        services.check_record_result(
            check,
            "mark_effective_early",
            actor=staff2,
            reason=JUSTIFICATION,
            evidence="x",
            password=PASSWORD,
        )
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"
    assert not Signature.objects.filter(
        object_id=check.pk, content_type__model="effectivenesscheck"
    ).exists()


def test_a_manager_verifier_without_justification_or_password_is_refused(staff, manager2, clock):
    capa, check = in_effectiveness_check(staff, manager2)
    with pytest.raises(SignatureRejected):
        services.check_record_result(
            check, "mark_effective_early", actor=manager2, reason=JUSTIFICATION, evidence="x"
        )
    with pytest.raises(ValidationFailed):
        services.check_record_result(
            check, "mark_effective_early", actor=manager2, evidence="x", password=PASSWORD
        )
    with pytest.raises(ValidationFailed):
        services.check_record_result(
            check,
            "mark_effective_early",
            actor=manager2,
            reason=JUSTIFICATION,
            evidence="x" * 10001,
            password=PASSWORD,
        )
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"


def test_early_verification_is_not_offered_once_the_window_is_over(staff, manager2, api_for, clock):
    capa, check = in_effectiveness_check(staff, manager2)
    clock.move_to(AFTER_WINDOW)
    assert offered(api_for(manager2), check) == ["mark_effective", "mark_not_effective"]
    with pytest.raises(IllegalTransition, match="window is over"):
        services.check_record_result(
            check,
            "mark_effective_early",
            actor=manager2,
            reason=JUSTIFICATION,
            evidence="x",
            password=PASSWORD,
        )


def test_early_verification_in_the_browser_is_shown_on_the_capa_and_in_the_dossier(
    staff, manager, manager2, auditor, client_for, clock
):
    capa, check = in_effectiveness_check(staff, manager2)
    client = client_for(manager2)
    page = client.get(capa.get_absolute_url()).content.decode()
    assert (
        'value="mark_effective_early"' in page
        and "Justification for verifying before 31 May 2026" in page
    )
    url = reverse("capa:check-result", args=[check.pk])
    form = {
        "action": "mark_effective_early",
        "evidence": "All pumps re-tested",
        "reason": JUSTIFICATION,
        "meaning": "Early verification",
    }

    # Without the password: refused
    refused = client.post(url, form, follow=True)
    assert "password" in refused.content.decode().lower()
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "pending"

    # With it: effective, early
    client.post(url, {**form, "password": PASSWORD})
    assert EffectivenessCheck.objects.get(pk=check.pk).result == "effective"
    page = client_for(staff).get(capa.get_absolute_url()).content.decode()
    assert page.count("Early verification") >= 2  # the CAPA's badge and the check's
    assert (
        "declared effective before the observation window ended (31 May 2026), signed by Manager2 Tester"
        in page
    )
    assert JUSTIFICATION in page

    # The dossier of the CAPA says so, with the justification
    services.capa_transition(
        capa, "close", actor=manager, password=PASSWORD, reason="Verified early"
    )
    record_page = client_for(auditor).get(f"/audit/records/capa.capa/{capa.pk}/").content.decode()
    assert (
        "Effectiveness checks" in record_page
        and "Early verification (signed by Manager2 Tester)" in record_page
    )
    pdf = client_for(auditor).get(f"/audit/records/capa.capa/{capa.pk}/dossier.pdf")
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages
    ).replace("\n", " ")
    assert "Early verification (signed by Manager2 Tester)" in text
    # and the check's own dossier has the signature with its meaning and the step
    check_pdf = client_for(auditor).get(
        f"/audit/records/capa.effectivenesscheck/{check.pk}/dossier.pdf"
    )
    check_text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(check_pdf.content)).pages
    ).replace("\n", " ")
    assert "Early verification" in check_text and "mark effective early" in check_text


def test_a_result_after_the_window_is_shown_as_such_in_the_dossier(staff, staff2, manager, clock):
    from qms.audit.exports import dossier_sections

    capa, check = in_effectiveness_check(staff, staff2)
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(
        check, "mark_effective", actor=staff2, evidence="No leak in 90 days"
    )
    section = next(
        s
        for s in dossier_sections(Capa.objects.get(pk=capa.pk))
        if s.title == "Effectiveness checks"
    )
    assert section.rows[0][3:] == ["Effective", section.rows[0][4], "After the observation window"]
    assert section.rows[0][2] == "31 May 2026" and section.rows[0][4].startswith("Staff2 Tester, ")
