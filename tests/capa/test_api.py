"""The CAPA REST API (docs/api.md): permissions, bad input, transitions, nested resources."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from capa import services
from capa.models import Capa, CapaAction, EffectivenessCheck
from tests.capa.conftest import AFTER_WINDOW, advance, make_capa, make_complaint, today
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/api/v1/capas/"


def payload(owner_user, **overrides):
    data = {
        "title": "Seals leak",
        "kind": "corrective",
        "source": "other",
        "problem_statement": "Seals leak after a week.",
        "severity": 4,
        "occurrence": 2,
        "owner": owner_user.pk,
        "due_date": (today() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_anonymous_is_401_and_roles_are_checked(api_for, personas):
    staff = personas["staff"]
    capa = make_capa(actor=staff)
    assert api_for().get(BASE).status_code == 401
    for name, read, write in (
        ("staff", 200, 201),
        ("manager", 200, 201),
        ("auditor", 200, 403),
        ("employee", 403, 403),
        ("outsider", 403, 403),
        ("administrator", 403, 403),
    ):
        client = api_for(personas[name])
        assert client.get(BASE).status_code == read, name
        assert client.get(f"{BASE}{capa.pk}/").status_code == (read if read == 200 else 403), name
        assert client.post(BASE, payload(staff), format="json").status_code == write, name


def test_list_has_api_fields_and_filters(api_for, staff):
    complaint = make_complaint(actor=staff)
    capa = services.capa_create_from_complaint(complaint=complaint, actor=staff)
    make_capa(actor=staff, severity=1, occurrence=1)
    client = api_for(staff)
    body = client.get(BASE, {"risk_level": "medium"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    for field in ("id", "reference", "title", "kind", "source", "complaints", "problem_statement", "risk_level", "owner", "status", "due_date", "closed_at", "version"):
        assert field in row
    assert row["complaints"] == [complaint.pk] and row["reference"] == capa.reference
    assert client.get(BASE, {"complaint": complaint.pk}).json()["count"] == 1
    assert client.get(BASE, {"search": "zzz"}).json()["count"] == 0
    assert client.get(BASE, {"ordering": "-due_date", "page_size": 500}).status_code == 200
    assert client.get(BASE, {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"severity": 0},
        {"severity": "high"},
        {"occurrence": 6},
        {"kind": "curative"},
        {"source": "rumour"},
        {"owner": 999999},
        {"owner": "abc"},
        {"due_date": "2001-01-01"},
        {"due_date": "soon"},
        {"complaints": [999999]},
        {"complaints": "all"},
        {"problem_statement": None},
        {"status": "closed", "title": ""},
    ],
)
def test_bad_input_is_400_and_creates_nothing(api_for, staff, bad):
    response = api_for(staff).post(BASE, payload(staff, **bad), format="json")
    assert response.status_code == 400, response.content
    assert Capa.objects.count() == 0


def test_status_is_never_writable_and_updates_need_version_and_reason(api_for, staff):
    capa = make_capa(actor=staff)
    client = api_for(staff)
    url = f"{BASE}{capa.pk}/"
    assert client.patch(url, {"title": "New"}, format="json").status_code == 400  # no version
    assert client.patch(url, {"title": "New", "version": 1}, format="json").status_code == 400  # no reason
    assert client.patch(url, {"title": "New", "version": 9, "reason": "r"}, format="json").status_code == 409
    response = client.patch(url, {"title": "New", "status": "closed", "version": 1, "reason": "Clearer"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "open" and response.json()["title"] == "New" and response.json()["version"] == 2
    history = client.get(f"{url}history/").json()
    assert history[0]["reason"] == "Clearer"
    assert [(c["field"], c["old"], c["new"]) for c in history[0]["changes"]] == [("title", "Pump seals leak", "New")]


def test_transitions_guards_and_signature(api_for, staff, staff2, manager):
    capa = make_capa(actor=staff)
    client = api_for(staff)
    url = f"{BASE}{capa.pk}/transitions/"
    assert [a["action"] for a in client.get(url).json()] == ["start_investigation"]
    assert client.post(url, {"action": "fly"}, format="json").status_code == 409
    assert client.post(url, {"action": "plan_actions"}, format="json").status_code == 409
    assert client.post(url, {"action": "start_investigation"}, format="json").json()["status"] == "investigation"
    response = client.post(url, {"action": "plan_actions"}, format="json")
    assert response.status_code == 409 and "conclusion" in response.json()["detail"]
    rc = client.put(
        f"{BASE}{capa.pk}/root-cause/",
        {"whys": [{"why": "Why?", "because": "Soft compound"}], "fishbone": {"material": ["Soft compound"]}, "conclusion": "Supplier change"},
        format="json",
    )
    assert rc.status_code == 200 and rc.json()["analysed_by"] == "staff"
    assert client.post(url, {"action": "plan_actions"}, format="json").json()["status"] == "action_planning"
    # cancel: managers only, reason and password
    manager_client = api_for(manager)
    assert client.post(url, {"action": "cancel", "reason": "dup", "password": PASSWORD}, format="json").status_code == 403
    assert manager_client.post(url, {"action": "cancel", "password": PASSWORD}, format="json").status_code == 400
    assert manager_client.post(url, {"action": "cancel", "reason": "dup", "password": "bad"}, format="json").status_code == 403
    assert Capa.objects.get(pk=capa.pk).status == "action_planning"
    response = manager_client.post(url, {"action": "cancel", "reason": "dup", "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    signatures = client.get(f"{BASE}{capa.pk}/signatures/").json()
    assert signatures[0]["meaning"] == "Cancelled" and signatures[0]["signer"] == "manager"


def test_root_cause_bad_input(api_for, staff):
    capa = make_capa(actor=staff)
    client = api_for(staff)
    url = f"{BASE}{capa.pk}/root-cause/"
    for bad in (
        {"whys": "many"},
        {"whys": [{"why": "only"}]},
        {"fishbone": {"weather": ["rain"]}},
        {"fishbone": {"people": "tired"}},
        {"fishbone": ["people"]},
        {"method": "astrology"},
        {"conclusion": "x" * 10001},
        {"whys": [{"why": "w", "because": "b"}] * 11},
    ):
        assert client.put(url, bad, format="json").status_code == 400, bad
    assert client.get(url).json()["whys"] == []
    assert api_for().get(url).status_code == 401


def test_actions_and_checks_end_to_end_over_the_api(api_for, staff, staff2, manager, clock):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    client = api_for(staff)
    actions_url = f"{BASE}{capa.pk}/actions/"
    assert client.post(actions_url, {"description": "x", "owner": staff.pk, "due_date": "nope"}, format="json").status_code == 400
    assert client.post(actions_url, {"description": "x", "owner": staff.pk, "due_date": today().isoformat(), "action_type": "document_revision"}, format="json").status_code == 400
    created = client.post(actions_url, {"description": "Replace seals", "owner": staff.pk, "due_date": today().isoformat()}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "planned" and created.json()["number"] == 1
    action_id = created.json()["id"]
    patched = client.patch(f"{actions_url}{action_id}/", {"description": "Replace all seals", "version": 1, "reason": "Scope"}, format="json")
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert client.patch(f"{actions_url}{action_id}/", {"status": "done", "version": 2, "reason": "x"}, format="json").json()["status"] == "planned"
    evidence = client.post(f"{actions_url}{action_id}/evidence/", {"file": SimpleUploadedFile("r.txt", b"all replaced")}, format="multipart")
    assert evidence.status_code == 201 and evidence.json()["original_name"] == "r.txt"
    bad_file = client.post(f"{actions_url}{action_id}/evidence/", {"file": SimpleUploadedFile("r.exe", b"MZ\x90\x00\x03" + b"\x00" * 100)}, format="multipart")
    assert bad_file.status_code == 400 and "file" in bad_file.json()
    assert client.post(f"{actions_url}{action_id}/evidence/", {}, format="multipart").status_code == 400

    checks_url = f"{BASE}{capa.pk}/effectiveness-checks/"
    refused = client.post(checks_url, {"criteria": "No leaks", "verifier": staff.pk}, format="json")
    assert refused.status_code == 400 and "verifier" in refused.json()
    check = client.post(checks_url, {"criteria": "No leaks for 90 days", "verifier": staff2.pk}, format="json")
    assert check.status_code == 201 and check.json()["result"] == "pending"
    check_id = check.json()["id"]

    capa_url = f"{BASE}{capa.pk}/transitions/"
    assert client.post(capa_url, {"action": "implement"}, format="json").status_code == 200
    assert client.post(capa_url, {"action": "verify"}, format="json").status_code == 409
    done = client.post(f"{actions_url}{action_id}/transitions/", {"action": "complete", "evidence": "All replaced"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert client.post(capa_url, {"action": "verify"}, format="json").json()["status"] == "effectiveness_check"

    result_url = f"{checks_url}{check_id}/transitions/"
    clock.move_to(AFTER_WINDOW)
    assert client.post(result_url, {"action": "mark_effective", "evidence": "mine"}, format="json").status_code == 403  # owner
    assert api_for(staff2).post(result_url, {"action": "mark_effective"}, format="json").status_code == 400  # no evidence
    assert api_for(staff2).post(result_url, {"action": "mark_effective", "evidence": ["x"]}, format="json").status_code == 400
    ok = api_for(staff2).post(result_url, {"action": "mark_effective", "evidence": "No complaint in 90 days"}, format="json")
    assert ok.status_code == 200 and ok.json()["result"] == "effective" and ok.json()["verified_by"] == "staff2"
    assert api_for(manager).post(capa_url, {"action": "close"}, format="json").status_code == 403  # no password
    closed = api_for(manager).post(capa_url, {"action": "close", "password": PASSWORD}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert CapaAction.objects.get().status == "done" and EffectivenessCheck.objects.get().verified_by == staff2


def test_nested_resources_of_unknown_capa_are_404(api_for, staff):
    client = api_for(staff)
    assert client.get(f"{BASE}999999/actions/").status_code == 404
    assert client.post(f"{BASE}999999/effectiveness-checks/", {"criteria": "x", "verifier": staff.pk}, format="json").status_code == 404
    assert client.get(f"{BASE}999999/root-cause/").status_code == 404


def test_openapi_schema_documents_the_capa_endpoints(api_for, staff):
    response = api_for(staff).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/capas/",
        "/api/v1/capas/{id}/",
        "/api/v1/capas/{id}/root-cause/",
        "/api/v1/capas/{id}/transitions/",
        "/api/v1/capas/{id}/history/",
        "/api/v1/capas/{capa_pk}/actions/",
        "/api/v1/capas/{capa_pk}/actions/{id}/transitions/",
        "/api/v1/capas/{capa_pk}/effectiveness-checks/",
    ):
        assert path in paths, path
