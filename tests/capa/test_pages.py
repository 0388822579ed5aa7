"""The CAPA pages: permissions, forms with good and bad input, and what the pages show."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from capa import services
from capa.models import ActionEvidence, Capa, CapaAction, EffectivenessCheck
from tests.capa.conftest import AFTER_WINDOW, advance, conclude, make_capa, make_complaint, today
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def capa_form_data(owner_user, **overrides):
    data = {
        "title": "Labels peel off",
        "kind": "corrective",
        "source": "nonconformance",
        "problem_statement": "Labels peel off after sterilisation.",
        "severity": "3",
        "occurrence": "4",
        "owner": str(owner_user.pk),
        "due_date": (today() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_pages_need_login(client, staff):
    capa = make_capa(actor=staff)
    for url in (reverse("capa:list"), reverse("capa:detail", args=[capa.pk]), reverse("capa:create")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_roles_on_pages(client_for, personas):
    staff = personas["staff"]
    capa = make_capa(actor=staff)
    detail = reverse("capa:detail", args=[capa.pk])
    expectations = {
        "staff": (200, 200, 200),
        "manager": (200, 200, 200),
        "auditor": (200, 200, 403),
        "employee": (403, 403, 403),
        "outsider": (403, 403, 403),
        "administrator": (403, 403, 403),
    }
    for name, (list_code, detail_code, create_code) in expectations.items():
        client = client_for(personas[name])
        assert client.get(reverse("capa:list")).status_code == list_code, name
        assert client.get(detail).status_code == detail_code, name
        assert client.get(reverse("capa:create")).status_code == create_code, name


def test_auditor_cannot_post_anything(client_for, staff, auditor):
    capa = make_capa(actor=staff)
    client = client_for(auditor)
    posts = [
        (reverse("capa:create"), capa_form_data(staff)),
        (reverse("capa:transition", args=[capa.pk]), {"action": "start_investigation"}),
        (reverse("capa:root-cause", args=[capa.pk]), {"conclusion": "x"}),
        (reverse("capa:action-create", args=[capa.pk]), {"description": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    capa.refresh_from_db()
    assert capa.status == "open" and Capa.objects.count() == 1


def test_create_through_the_form(client_for, staff, staff2):
    response = client_for(staff).post(reverse("capa:create"), capa_form_data(staff2))
    capa = Capa.objects.get()
    assert response.status_code == 302 and response["Location"] == capa.get_absolute_url()
    assert capa.owner == staff2 and capa.risk_level == "high" and capa.created_by == staff


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "9"}, "severity"),
        ({"occurrence": "often"}, "occurrence"),
        ({"due_date": "2001-01-01"}, "due_date"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"owner": "999999"}, "owner"),
        ({"kind": "<script>alert(1)</script>"}, "kind"),
        ({"problem_statement": "x" * 10001}, "problem_statement"),
        ({"containment_by": "", "containment_at": "2020-01-01T10:00", "containment_action": ""}, "containment_action"),
    ],
)
def test_bad_create_input_shows_errors_and_creates_nothing(client_for, staff, overrides, field):
    response = client_for(staff).post(reverse("capa:create"), capa_form_data(staff, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Capa.objects.count() == 0


def test_owner_must_be_on_the_quality_team(client_for, staff, employee):
    response = client_for(staff).post(reverse("capa:create"), capa_form_data(employee))
    assert response.status_code == 400 and "owner" in response.context["form"].errors


def test_raise_capa_from_a_complaint_prefills_and_links(client_for, staff):
    complaint = make_complaint(actor=staff)
    client = client_for(staff)
    page = client.get(reverse("capa:create") + f"?complaint={complaint.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["source"] == "complaint" and form.initial["complaints"] == [complaint.pk]
    assert complaint.reference in page.content.decode()
    data = capa_form_data(staff, source="complaint", complaints=[str(complaint.pk)], from_complaint=str(complaint.pk))
    response = client.post(reverse("capa:create"), data)
    assert response.status_code == 302
    assert list(Capa.objects.get().complaints.all()) == [complaint]


def test_unknown_or_malformed_complaint_is_404(client_for, staff):
    client = client_for(staff)
    assert client.get(reverse("capa:create") + "?complaint=abc").status_code == 404
    assert client.get(reverse("capa:create") + "?complaint=999999").status_code == 404


def test_edit_needs_reason_and_current_version(client_for, staff):
    capa = make_capa(actor=staff)
    client = client_for(staff)
    url = reverse("capa:edit", args=[capa.pk])
    data = capa_form_data(staff, title="Labels peel", version=str(capa.version))
    assert client.post(url, data).status_code == 400  # no reason
    data["reason"] = "Clearer title"
    assert client.post(url, {**data, "version": str(capa.version + 5)}).status_code == 400  # stale
    assert client.post(url, data).status_code == 302
    capa.refresh_from_db()
    assert capa.title == "Labels peel" and capa.version == 2
    assert capa.history.first().history_change_reason == "Clearer title"


def test_root_cause_form_saves_whys_and_fishbone(client_for, staff):
    capa = make_capa(actor=staff)
    client = client_for(staff)
    url = reverse("capa:root-cause", args=[capa.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["formset"].total_form_count() == 5
    data = {
        "method": "both",
        "version": "1",
        "conclusion": "Adhesive not qualified for autoclave",
        "whys-TOTAL_FORMS": "3",
        "whys-INITIAL_FORMS": "0",
        "whys-MIN_NUM_FORMS": "0",
        "whys-MAX_NUM_FORMS": "10",
        "whys-0-why": "Why do labels peel?",
        "whys-0-because": "The adhesive softens at 134 °C",
        "whys-1-why": "Why does it soften?",
        "whys-1-because": "It is rated for 80 °C only",
        "whys-2-why": "",
        "whys-2-because": "",
        "fishbone_material": "Adhesive rated 80 °C\n\n  Label stock changed  ",
        "fishbone_method": "No autoclave test in qualification",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    analysis = Capa.objects.get(pk=capa.pk).root_cause
    assert [w["because"] for w in analysis.whys] == ["The adhesive softens at 134 °C", "It is rated for 80 °C only"]
    assert analysis.fishbone == {"material": ["Adhesive rated 80 °C", "Label stock changed"], "method": ["No autoclave test in qualification"]}
    assert analysis.analysed_by == staff
    detail = client.get(capa.get_absolute_url()).content.decode()
    assert '<svg class="fishbone"' in detail and "Adhesive rated 80 °C" in detail and "Why do labels peel?" in detail


def test_root_cause_form_rejects_bad_input(client_for, staff):
    capa = make_capa(actor=staff)
    client = client_for(staff)
    url = reverse("capa:root-cause", args=[capa.pk])
    base = {"method": "both", "version": "1", "whys-INITIAL_FORMS": "0", "whys-MIN_NUM_FORMS": "0", "whys-MAX_NUM_FORMS": "10"}
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "1000"}).status_code == 400
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "x"}).status_code == 400
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "1", "whys-0-why": "Why?", "whys-0-because": ""}).status_code == 400
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "0", "method": "tarot"}).status_code == 400
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "0", "fishbone_people": "\n".join(["cause"] * 13)}).status_code == 400
    assert client.post(url, {**base, "whys-TOTAL_FORMS": "0", "version": "7"}).status_code == 400
    capa.root_cause.refresh_from_db()
    assert capa.root_cause.version == 1 and capa.root_cause.whys == []


def test_plan_actions_guard_shows_a_message_in_the_browser(client_for, staff):
    capa = make_capa(actor=staff)
    services.capa_transition(capa, "start_investigation", actor=staff)
    client = client_for(staff)
    response = client.post(reverse("capa:transition", args=[capa.pk]), {"action": "plan_actions"}, follow=True)
    assert "root-cause conclusion" in response.content.decode()
    capa.refresh_from_db()
    assert capa.status == "investigation"


def test_actions_evidence_and_download(client_for, staff, staff2):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    client = client_for(staff)
    response = client.post(
        reverse("capa:action-create", args=[capa.pk]),
        {"action_type": "fix", "description": "Replace the adhesive", "owner": str(staff2.pk), "due_date": today().isoformat()},
    )
    assert response.status_code == 302
    action = CapaAction.objects.get(capa=capa)
    assert action.number == 1 and action.owner == staff2
    upload = reverse("capa:evidence-upload", args=[action.pk])
    client.post(upload, {"file": SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")})
    client.post(upload, {"file": SimpleUploadedFile("evil.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")})
    client.post(upload, {"file": SimpleUploadedFile("x.txt", b"<html><script>alert(1)</script>", content_type="text/plain")})
    client.post(upload, {"file": SimpleUploadedFile("empty.txt", b"", content_type="text/plain")})
    client.post(upload, {"file": SimpleUploadedFile("../../etc/passwd.txt", b"root:x:0:0", content_type="text/plain")})
    names = sorted(ActionEvidence.objects.values_list("original_name", flat=True))
    assert names == ["passwd.txt", "report.pdf"]
    evidence = ActionEvidence.objects.get(original_name="report.pdf")
    download = client.get(reverse("capa:evidence-download", args=[evidence.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF
    assert client_for(make_employee()).get(reverse("capa:evidence-download", args=[evidence.pk])).status_code == 403


def make_employee():
    from qms import roles as qms_roles
    from tests.conftest import make_user

    return make_user("employee-x", qms_roles.EMPLOYEE)


def test_oversized_evidence_is_refused(client_for, staff, staff2, settings):
    settings.QMS_UPLOAD_MAX_BYTES = 1024
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    action = services.action_create(capa, actor=staff, action_type="fix", description="x", owner=staff, due_date=today())
    response = client_for(staff).post(
        reverse("capa:evidence-upload", args=[action.pk]), {"file": SimpleUploadedFile("big.txt", b"a" * 2048)}, follow=True
    )
    assert "larger than" in response.content.decode()
    assert not ActionEvidence.objects.exists()


def test_action_form_bad_input(client_for, staff, staff2):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    url = reverse("capa:action-create", args=[capa.pk])
    client = client_for(staff)
    good = {"action_type": "fix", "description": "Replace", "owner": str(staff.pk), "due_date": today().isoformat()}
    for bad in ({"description": ""}, {"action_type": "magic"}, {"due_date": "2001-01-01"}, {"action_type": "document_revision"}, {"action_type": "retraining"}):
        assert client.post(url, {**good, **bad}).status_code == 400, bad
    assert not CapaAction.objects.exists()


def test_check_form_refuses_the_owner_as_verifier(client_for, staff, staff2):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    client = client_for(staff)
    url = reverse("capa:check-create", args=[capa.pk])
    response = client.post(url, {"criteria": "No leaks", "verifier": str(staff.pk)})
    assert response.status_code == 400 and "verifier" in response.context["form"].errors
    assert client.post(url, {"criteria": "No leaks", "verifier": str(staff2.pk)}).status_code == 302
    assert EffectivenessCheck.objects.get().verifier == staff2


def test_owner_cannot_record_the_result_in_the_browser(client_for, staff, staff2, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    check = capa.checks.get()
    clock.move_to(AFTER_WINDOW)
    page = client_for(staff).get(capa.get_absolute_url()).content.decode()
    assert "someone else verifies it" in page
    response = client_for(staff).post(reverse("capa:check-result", args=[check.pk]), {"action": "mark_effective", "evidence": "fine"}, follow=True)
    assert "cannot verify" in response.content.decode()
    check.refresh_from_db()
    assert check.result == "pending"
    client_for(staff2).post(reverse("capa:check-result", args=[check.pk]), {"action": "mark_effective", "evidence": "No leak in 90 days"})
    check.refresh_from_db()
    assert check.result == "effective" and check.verified_by == staff2


def test_close_in_the_browser_needs_the_right_password(client_for, staff, staff2, manager, clock):
    capa = advance(make_capa(actor=staff), "effectiveness_check", actor=staff, verifier=staff2)
    clock.move_to(AFTER_WINDOW)
    services.check_record_result(capa.checks.get(), "mark_effective", actor=staff2, evidence="ok")
    client = client_for(manager)
    url = reverse("capa:transition", args=[capa.pk])
    response = client.post(url, {"action": "close", "password": "wrong", "meaning": "Approved for closure"}, follow=True)
    assert "password is not correct" in response.content.decode()
    assert Capa.objects.get(pk=capa.pk).status == "effectiveness_check"
    client.post(url, {"action": "close", "password": PASSWORD, "meaning": "Approved for closure"})
    assert Capa.objects.get(pk=capa.pk).status == "closed"
    page = client.get(capa.get_absolute_url()).content.decode()
    assert "Approved for closure" in page and manager.full_name in page


def test_list_filters(client_for, staff, staff2):
    a = make_capa(actor=staff, title="Alpha leak", severity=5, occurrence=5)
    b = make_capa(actor=staff, title="Beta label", owner=staff2, severity=1, occurrence=1, kind="preventive")
    services.capa_transition(b, "start_investigation", actor=staff)
    client = client_for(staff)

    def refs(query):
        return [c.reference for c in client.get(reverse("capa:list") + query).context["capas"]]

    assert refs("?q=alpha") == [a.reference]
    assert refs("?status=investigation") == [b.reference]
    assert refs("?risk_level=critical") == [a.reference]
    assert refs(f"?owner={staff2.pk}") == [b.reference]
    assert refs("?kind=preventive") == [b.reference]
    assert set(refs("?open=true")) == {a.reference, b.reference}
    assert refs("?overdue=true") == []
    # Bad filter values are ignored with a message, never a 500.
    assert client.get(reverse("capa:list") + "?status=bogus&owner=abc&page=zz").status_code == 200


def test_my_work_shows_my_actions_checks_and_capas(client_for, staff, staff2):
    capa = advance(make_capa(actor=staff, title="Mine to own"), "action_planning", actor=staff, verifier=staff2)
    conclude(capa, actor=staff)
    services.action_create(capa, actor=staff, action_type="fix", description="Swap the gasket supplier", owner=staff2, due_date=today())
    from django.template.loader import render_to_string

    from capa.selectors import my_work

    def rendered(user):
        return {s.title: render_to_string(s.template, {"items": s.items}) for s in my_work(user)}

    assert "Swap the gasket supplier" in rendered(staff2)["My CAPA actions"]
    assert "Mine to own" in rendered(staff)["CAPAs I own"]
    assert my_work(make_employee()) == []


def test_cancel_in_the_browser_needs_reason_and_signature(client_for, staff, manager):
    capa = make_capa(actor=staff)
    client = client_for(manager)
    url = reverse("capa:transition", args=[capa.pk])
    page = client.post(url, {"action": "cancel", "password": PASSWORD, "meaning": "Cancelled"}, follow=True).content.decode()
    assert "reason is required" in page
    page = client.post(url, {"action": "cancel", "reason": "Duplicate", "password": "guess", "meaning": "Cancelled"}, follow=True).content.decode()
    assert "password is not correct" in page
    assert client_for(staff).post(url, {"action": "cancel", "reason": "Duplicate", "password": PASSWORD}, follow=True).status_code == 200
    assert Capa.objects.get(pk=capa.pk).status == "open"
    client.post(url, {"action": "cancel", "reason": "Duplicate of CAPA-2026-0009", "password": PASSWORD, "meaning": "Cancelled"})
    capa.refresh_from_db()
    assert capa.status == "cancelled"
    assert "Cancelled" in client.get(capa.get_absolute_url()).content.decode()


def test_completing_an_action_in_the_browser_needs_evidence(client_for, staff, staff2):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    action = services.action_create(capa, actor=staff, action_type="fix", description="Fix", owner=staff, due_date=today())
    client = client_for(staff)
    url = reverse("capa:action-transition", args=[action.pk])
    page = client.post(url, {"action": "complete", "evidence": "  "}, follow=True).content.decode()
    assert "evidence" in page.lower() and CapaAction.objects.get(pk=action.pk).status == "planned"
    client.post(url, {"action": "complete", "evidence": "Replaced and tested"})
    action.refresh_from_db()
    assert action.status == "done" and action.evidence == "Replaced and tested" and action.completed_at
