"""Lists and the CAPA page cost a constant number of queries (docs/architecture.md rule 6)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from capa import services
from tests.capa.conftest import advance, make_capa, make_complaint, today

pytestmark = pytest.mark.django_db


def count_queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as context:
        response = call()
    return len(context), response


def capas(n, *, actor, verifier):
    for i in range(n):
        capa = make_capa(actor=actor, title=f"Problem {i}")
        capa.complaints.add(make_complaint(actor=actor, title=f"Complaint {i}"))
        if i % 3 == 0:
            services.capa_transition(capa, "start_investigation", actor=actor)


def test_list_page_and_api_cost_the_same_for_5_and_50_rows(client_for, api_for, staff, staff2, django_assert_max_num_queries):
    client, api = client_for(staff), api_for(staff)
    capas(5, actor=staff, verifier=staff2)
    small_page, response = count_queries(lambda: client.get("/capa/?page_size=50"))
    assert response.status_code == 200
    small_api, _ = count_queries(lambda: api.get("/api/v1/capas/", {"page_size": 50}))
    capas(45, actor=staff, verifier=staff2)
    large_page, response = count_queries(lambda: client.get("/capa/?page_size=50"))
    assert len(response.context["capas"]) == 25
    large_api, body = count_queries(lambda: api.get("/api/v1/capas/", {"page_size": 50}))
    assert len(body.json()["results"]) == 50
    assert small_page == large_page, (small_page, large_page)
    assert small_api == large_api, (small_api, large_api)
    with django_assert_max_num_queries(12):
        client.get("/capa/?status=open&risk_level=high&q=Problem")


def full_capa(*, actor, verifier, actions):
    complaint = make_complaint(actor=actor)
    capa = advance(services.capa_create_from_complaint(complaint=complaint, actor=actor), "action_planning", actor=actor, verifier=verifier)
    for i in range(actions):
        action = services.action_create(capa, actor=actor, action_type="fix", description=f"Step {i}", owner=verifier, due_date=today() + timedelta(days=i))
        services.action_add_evidence(action, actor=actor, upload=SimpleUploadedFile(f"e{i}.txt", b"evidence text"))
        services.check_create(capa, actor=actor, criteria=f"Criterion {i}", verifier=verifier)
    return capa


def test_detail_page_costs_the_same_for_2_and_12_actions(client_for, api_for, staff, staff2):
    client = client_for(staff)
    small = full_capa(actor=staff, verifier=staff2, actions=2)
    large = full_capa(actor=staff, verifier=staff2, actions=12)
    small_count, response = count_queries(lambda: client.get(small.get_absolute_url()))
    assert response.status_code == 200 and len(response.context["capa_actions"]) == 2
    large_count, response = count_queries(lambda: client.get(large.get_absolute_url()))
    assert len(response.context["capa_actions"]) == 12
    assert small_count == large_count, (small_count, large_count)
    assert large_count <= 40
    api = api_for(staff)
    small_api, _ = count_queries(lambda: api.get(f"/api/v1/capas/{small.pk}/actions/"))
    large_api, _ = count_queries(lambda: api.get(f"/api/v1/capas/{large.pk}/actions/"))
    assert small_api == large_api
