"""Every CAPA page and form endpoint through the same checks: anonymous -> login, no role or
the wrong role -> 403, the right role -> 200; garbage input -> a message or 400, never 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from capa import services
from capa.models import Capa
from tests.capa.conftest import advance, make_capa, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(staff, manager):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=manager)
    action = services.action_create(capa, actor=staff, action_type="fix", description="Fix it", owner=staff, due_date=today())
    evidence = services.action_add_evidence(action, actor=staff, upload=SimpleUploadedFile("proof.txt", b"done"))
    check = services.check_create(capa, actor=staff, criteria="Works", verifier=manager)
    return {"capa": capa, "action": action, "evidence": evidence, "check": check}


def pages(records):
    capa, action = records["capa"], records["action"]
    return {
        # url: roles that may GET it
        reverse("capa:list"): "readers",
        reverse("capa:detail", args=[capa.pk]): "readers",
        reverse("capa:evidence-download", args=[records["evidence"].pk]): "readers",
        reverse("capa:create"): "quality",
        reverse("capa:edit", args=[capa.pk]): "quality",
        reverse("capa:root-cause", args=[capa.pk]): "quality",
        reverse("capa:action-create", args=[capa.pk]): "quality",
        reverse("capa:check-create", args=[capa.pk]): "quality",
        reverse("capa:action-edit", args=[action.pk]): "quality",
    }


def posts(records):
    capa, action, check = records["capa"], records["action"], records["check"]
    return [
        reverse("capa:create"),
        reverse("capa:edit", args=[capa.pk]),
        reverse("capa:transition", args=[capa.pk]),
        reverse("capa:root-cause", args=[capa.pk]),
        reverse("capa:action-create", args=[capa.pk]),
        reverse("capa:check-create", args=[capa.pk]),
        reverse("capa:action-edit", args=[action.pk]),
        reverse("capa:action-transition", args=[action.pk]),
        reverse("capa:evidence-upload", args=[action.pk]),
        reverse("capa:check-result", args=[check.pk]),
    ]


GROUPS = {"readers": {"staff", "manager", "auditor"}, "quality": {"staff", "manager"}}


def test_every_page_checks_the_role(client, client_for, personas, records):
    for url, group in pages(records).items():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        for name, user in personas.items():
            expected = 200 if name in GROUPS[group] else 403
            assert client_for(user).get(url).status_code == expected, (url, name)


def test_every_post_refuses_readers_and_outsiders(client_for, personas, records):
    for url in posts(records):
        for name in ("auditor", "employee", "outsider", "administrator"):
            assert client_for(personas[name]).post(url, {"action": "start"}).status_code == 403, (url, name)
    assert Capa.objects.get().status == "action_planning"


GARBAGE = [
    {},
    {"action": "x" * 5000, "reason": "\x00", "version": "-1"},
    {"action": "<script>alert(1)</script>", "evidence": ["a", "b"], "owner": "'; DROP TABLE capa_capa;--"},
    {"due_date": "31/02/2026", "severity": "1e9", "whys-TOTAL_FORMS": "-5", "criteria": "x" * 20000},
]


def test_garbage_never_gives_a_500(client_for, staff, records):
    client = client_for(staff)
    for url in posts(records):
        for data in GARBAGE:
            response = client.post(url, data)
            assert response.status_code in (200, 302, 400), (url, data, response.status_code)
    assert Capa.objects.get().status == "action_planning" and Capa.objects.get().version == records["capa"].version


def test_unknown_ids_are_404(client_for, staff):
    client = client_for(staff)
    for name in ("capa:detail", "capa:edit", "capa:root-cause", "capa:action-create", "capa:check-create", "capa:action-edit", "capa:evidence-download"):
        assert client.get(reverse(name, args=[999999])).status_code == 404, name
    for name in ("capa:transition", "capa:action-transition", "capa:evidence-upload", "capa:check-result"):
        assert client.post(reverse(name, args=[999999]), {"action": "start"}).status_code == 404, name
