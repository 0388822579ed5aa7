"""Free-text search of the CAPA list and the document register (issue 18 item 7, decision 0042)."""

from datetime import timedelta

import pytest

from capa import services as capa_services
from documents import services as document_services
from tests.capa.conftest import conclude, make_capa, today

pytestmark = pytest.mark.django_db


def capa_refs(response):
    assert response.status_code == 200
    return [c.reference for c in response.context["capas"]]


def api_refs(response, key="reference"):
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_capas_are_found_by_problem_root_cause_and_action_text(client_for, api_for, staff):
    seals = make_capa(actor=staff, title="Pump seals leak", problem_statement="Customers report fluid under the housing.")
    labels = make_capa(actor=staff, title="Labels smudge", problem_statement="Ink rubs off the carton label.")
    capa_services.capa_transition(seals, "start_investigation", actor=staff)
    conclude(seals, actor=staff, conclusion="The supplier changed the elastomer compound without notice.")
    capa_services.capa_transition(seals, "plan_actions", actor=staff)
    capa_services.action_create(
        seals, actor=staff, action_type="fix", description="Quarantine the gasket stock", owner=staff, due_date=today() + timedelta(days=9)
    )
    page, api = client_for(staff), api_for(staff)
    for text, wanted in [("fluid", seals), ("elastomer", seals), ("quarantine", seals), ("carton", labels), (labels.reference, labels)]:
        assert capa_refs(page.get("/capa/", {"q": text})) == [wanted.reference], text
        assert api_refs(api.get("/api/v1/capas/", {"search": text})) == [wanted.reference], text
    # ranked: a title match ("Carton damaged") before a problem-statement match (labels: "carton label")
    both = make_capa(actor=staff, title="Carton damaged", problem_statement="Corners crushed.")
    assert capa_refs(page.get("/capa/", {"q": "carton"})) == [both.reference, labels.reference]
    assert api.get("/api/v1/capas/", {"search": "x" * 10_000}).status_code == 400
    refused = page.get("/capa/", {"q": "x" * 10_000})
    assert capa_refs(refused) == [] and "at most 200 characters" in refused.content.decode()
    for text in ['"', "a & b | !c:*", "-", "the"]:
        assert page.get("/capa/", {"q": text}).status_code == 200
        assert api.get("/api/v1/capas/", {"search": text}).status_code == 200


def test_documents_are_found_by_their_current_text_and_drafts_stay_hidden_from_employees(
    client_for, api_for, make_document, staff, manager, employee
):
    from tests.documents.conftest import release

    released = make_document("Line clearance", text="Remove every label of the previous batch before the run.")
    release(released.versions.get(), author=staff, approver=manager)
    draft_only = make_document("Torque settings", text="Tighten the housing screws to 2.5 Nm.")
    document_services.version_create(
        document=released, actor=staff, content_text="Also sweep the conveyor.", change_summary="Conveyor sweep added"
    )
    quality, reader = client_for(manager), client_for(employee)

    def titles(client, text):
        response = client.get("/documents/", {"search": text})
        assert response.status_code == 200
        return [d.title for d in response.context["documents"]]

    assert titles(quality, "previous batch") == ["Line clearance"]  # the effective version's text
    assert titles(quality, "clear") == ["Line clearance"]  # a word's beginning
    assert titles(quality, "conveyor") == ["Line clearance"]  # the revision in progress, for quality
    assert titles(quality, "screws") == ["Torque settings"]
    assert titles(reader, "previous batch") == ["Line clearance"]
    assert titles(reader, "conveyor") == [] and titles(reader, "screws") == []  # drafts say nothing to employees
    assert api_refs(api_for(manager).get("/api/v1/documents/", {"search": "screws"}), "number") == [draft_only.number]
    assert api_refs(api_for(employee).get("/api/v1/documents/", {"search": "conveyor"}), "number") == []
    assert api_refs(api_for(manager).get("/api/v1/documents/", {"search": released.number}), "number") == [released.number]
    assert api_for(manager).get("/api/v1/documents/", {"search": "x" * 10_000}).status_code == 400


@pytest.mark.parametrize("n", [2, 10])
def test_searched_capa_and_document_lists_keep_their_query_budget(client_for, api_for, make_document, staff, manager, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(n):
        make_capa(actor=staff, title=f"Seal leak {i}", problem_statement=f"Fluid seen at port {i}.")
        make_document(f"Seal inspection {i}", text=f"Check every seal of batch {i} for fluid.")
    for client, url, key, wanted in [
        (client_for(manager), "/capa/?q=fluid", "capas", n),
        (client_for(manager), "/documents/?search=fluid", "documents", n),
        (api_for(manager), "/api/v1/capas/?search=fluid", None, n),
        (api_for(manager), "/api/v1/documents/?search=fluid", None, n),
    ]:
        client.get(url)  # the session and per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        found = len(response.context[key]) if key else response.json()["count"]
        assert response.status_code == 200 and found == wanted, url
        assert len(queries.captured_queries) <= 12, (url, [q["sql"] for q in queries.captured_queries])


def test_exports_of_searched_capa_and_document_lists_hold_the_matches_only(client_for, make_document, staff, manager):
    import csv
    import io

    wanted = make_capa(actor=staff, title="Seal leak", problem_statement="Fluid seen at the port.")
    make_capa(actor=staff, title="Labels smudge", problem_statement="Ink rubs off.")
    document = make_document("Seal inspection", text="Check every seal for fluid.")
    make_document("Line clearance", text="Remove every label.")
    client = client_for(manager)
    for url, wanted_first_cell in [("/capa/?q=fluid&export=csv", wanted.reference), ("/documents/?search=fluid&export=csv", document.number)]:
        response = client.get(url)
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [row[0] for row in rows[1:]] == [wanted_first_cell], url
