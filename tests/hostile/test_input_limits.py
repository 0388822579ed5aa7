"""Hostile input (issue 20 item 3): deep JSON, NUL characters, lone surrogates and bytes that are
not UTF-8 answer 400 on every endpoint; ids beyond int64 answer 404 or 400; never a 500."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from complaints.models import Complaint, Customer, SlaPolicy

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
JUST_TOO_DEEP = '{"title": ' + "[" * 32 + "]" * 32 + "}"
NUL_VALUE = '{"title": "a\\u0000b", "description": "d", "action": "acknowledge", "reason": "r"}'
NUL_KEY = '{"action": "acknowledge", "reason": "r", "note\\u0000": "b"}'
LONE_SURROGATE = '{"title": "\\ud800", "description": "d", "action": "acknowledge", "reason": "r"}'
NOT_UTF8 = b'{"title": "\xff\xfe", "description": "d", "action": "acknowledge"}'

HOSTILE_BODIES = {
    "deep array": DEEP_ARRAY,
    "deep object": DEEP_OBJECT,
    "33 levels": JUST_TOO_DEEP,
    "NUL in a value": NUL_VALUE,
    "NUL in a key": NUL_KEY,
    "lone surrogate": LONE_SURROGATE,
    "not UTF-8": NOT_UTF8,
}
INT64_PLUS = "9223372036854775808"  # 2**63
HUGE = "9" * 40


def write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in {"post", "put", "patch"}:
                yield method.upper(), path


WRITE_OPERATIONS = sorted(set(write_operations()))


def concrete(path: str, record_id: int) -> str:
    for name in ("{id}", "{capa_pk}", "{document_pk}"):
        path = path.replace(name, str(record_id))
    return path


def test_the_schema_lists_the_write_operations():
    assert ("POST", "/api/v1/complaints/") in WRITE_OPERATIONS
    assert ("POST", "/api/v1/complaints/{id}/transitions/") in WRITE_OPERATIONS
    assert len(WRITE_OPERATIONS) > 20


@pytest.mark.parametrize(
    ("method", "path"), WRITE_OPERATIONS, ids=[f"{m} {p}" for m, p in WRITE_OPERATIONS]
)
def test_no_write_operation_answers_500_to_hostile_json(api_for, manager, complaint, method, path):
    client = api_for(manager)
    for name, body in HOSTILE_BODIES.items():
        response = client.generic(
            method, concrete(path, complaint.pk), body, content_type="application/json"
        )
        assert response.status_code < 500, (name, response.status_code)
        assert response.status_code in {400, 403, 404, 405, 415}, (
            name,
            response.status_code,
            response.content[:200],
        )


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/complaints/",
        "/api/v1/complaints/{id}/transitions/",
        "/api/v1/customers/",
        "/api/v1/capas/",
        "/api/v1/auth/token/",
        "/api/v1/complaints/{id}/communications/",
    ],
)
def test_hostile_json_answers_400_with_a_message_and_writes_nothing(
    api_for, manager, complaint, path, body
):
    before = (Complaint.objects.count(), Customer.objects.count())
    response = api_for(manager).generic(
        "POST", concrete(path, complaint.pk), body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"]
    complaint.refresh_from_db()
    assert (
        complaint.status == "new"
        and (Complaint.objects.count(), Customer.objects.count()) == before
    )


def test_json_32_levels_deep_is_still_parsed(api_for, manager):
    body = '{"name": "Deep Ltd", "email": "d@example.org", "extra": ' + "[" * 31 + "]" * 31 + "}"
    response = api_for(manager).generic(
        "POST", "/api/v1/customers/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content


def test_the_depth_message_names_the_limit(api_for, manager):
    response = api_for(manager).generic(
        "POST", "/api/v1/customers/", DEEP_OBJECT, content_type="application/json"
    )
    assert response.status_code == 400 and "32" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "name=a%00b&email=x%40example.org"),
        ("application/x-www-form-urlencoded", "name=%FF%FE&email=x%40example.org"),
        ("application/x-www-form-urlencoded", "name%00=x"),
    ],
)
def test_hostile_api_forms_answer_400(api_for, manager, content_type, body):
    response = api_for(manager).generic(
        "POST", "/api/v1/customers/", body, content_type=content_type
    )
    assert response.status_code == 400, response.content
    assert not Customer.objects.filter(email="x@example.org").exists()


def test_nul_in_a_multipart_api_field_answers_400(api_for, manager, complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_for(manager).post(
        f"/api/v1/complaints/{complaint.pk}/attachments/",
        {
            "file": SimpleUploadedFile("note.txt", b"plain words", content_type="text/plain"),
            "description": "a\x00b",
        },
        format="multipart",
    )
    assert response.status_code == 400 and not complaint.attachments.exists()


@pytest.mark.parametrize(
    "query",
    [
        "?search=%00",
        "?title=a%00",
        "?search=%FF%FE",
        "?status=%ED%A0%80",
        "?ordering=%00",
        "?page=%00",
        "?x%00=1",
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/complaints/", "/api/v1/customers/", "/api/v1/capas/", "/api/v1/audit-trail/"]
)
def test_hostile_query_strings_answer_400_in_the_api(api_for, manager, path, query):
    response = api_for(manager).get(path + query)
    assert response.status_code == 400 and response.json()["detail"]


@pytest.mark.parametrize("path", ["/complaints/", "/capa/", "/documents/", "/audit/"])
def test_hostile_query_strings_answer_400_on_pages(client_for, manager, path):
    for query in ["?q=%00", "?q=%FF", "?q=%ED%A0%80"]:
        response = client_for(manager).get(path + query)
        assert response.status_code == 400, (query, response.status_code)


@pytest.mark.parametrize(
    "path", ["/complaints/survey/a%00b/", "/api/v1/complaints/a%00/", "/api/v1/customers/%00/"]
)
def test_hostile_paths_answer_400(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("path", ["/complaints/survey/%FF%FE/", "/complaints/survey/%ED%A0%80/"])
def test_a_path_that_is_not_utf8_answers_404(client, path):
    # Django keeps the bad bytes %-escaped in the path, so they match no survey token.
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/complaints/{INT64_PLUS}/",
        f"/api/v1/complaints/{HUGE}/",
        f"/api/v1/complaints/-{HUGE}/",
        f"/api/v1/complaints/{HUGE}/transitions/",
        f"/api/v1/complaints/{HUGE}/history/",
        f"/api/v1/capas/{HUGE}/",
        f"/api/v1/capas/{HUGE}/actions/",
        f"/api/v1/capas/1/actions/{HUGE}/",
        f"/api/v1/documents/{HUGE}/",
        f"/api/v1/documents/{HUGE}/versions/",
        f"/api/v1/customers/{INT64_PLUS}/",
        f"/api/v1/training/assignments/{HUGE}/",
        f"/api/v1/metrics/targets/{HUGE}/",
        f"/api/v1/surveys/{HUGE}/",
        f"/complaints/{HUGE}/",
        f"/complaints/attachments/{INT64_PLUS}/",
        f"/capa/{HUGE}/",
        f"/documents/{HUGE}/",
    ],
)
def test_ids_beyond_int64_answer_404(client_for, manager, path):
    assert client_for(manager).get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        f"?customer={HUGE}",
        f"?assignee={INT64_PLUS}",
        f"?page={HUGE}",
        f"?page_size={HUGE}",
        f"?product=-{HUGE}",
    ],
)
def test_ids_beyond_int64_in_filters_never_answer_500(api_for, manager, complaint, query):
    response = api_for(manager).get("/api/v1/complaints/" + query)
    assert response.status_code in {200, 400, 404}, response.content[:300]


@pytest.mark.parametrize("field", ["customer", "product", "category", "assignee"])
def test_ids_beyond_int64_in_a_body_answer_400(api_for, manager, field):
    body = {"title": "t", "description": "d", "customer": 1, field: int(HUGE)}
    response = api_for(manager).post("/api/v1/complaints/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_a_huge_version_answers_400_or_409(api_for, manager, complaint):
    response = api_for(manager).patch(
        f"/api/v1/complaints/{complaint.pk}/", {"title": "New", "version": int(HUGE)}, format="json"
    )
    assert response.status_code in {400, 409}
    complaint.refresh_from_db()
    assert complaint.title != "New"


def test_nul_in_a_page_form_answers_400(client_for, manager, customer):
    response = client_for(manager).post(
        f"/complaints/customers/{customer.pk}/edit/", {"name": "a\x00b"}
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Jane Roe"


def test_bad_utf8_in_a_page_form_answers_400(client_for, manager, customer):
    response = client_for(manager).generic(
        "POST",
        f"/complaints/customers/{customer.pk}/edit/",
        "name=%FF%FE",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "steps",
    [
        DEEP_ARRAY,
        DEEP_OBJECT,
        '[{"level": 1, "percent": 75, "notify": ' + "[" * 40 + "]" * 40 + "}]",
    ],
)
def test_the_sla_policy_form_refuses_deep_json_with_a_field_error(
    client_for, manager, policies, steps
):
    policy = SlaPolicy.objects.get(severity="high")
    response = client_for(manager).post(
        f"/complaints/sla/{policy.pk}/edit/",
        {
            "first_response_hours": "4",
            "resolution_hours": "24",
            "calendar": policy.calendar_id,
            "escalation_steps": steps,
            "reason": "Hostile input",
            "version": policy.version,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert b"32 levels" in response.content
    policy.refresh_from_db()
    assert policy.escalation_steps[0]["level"] == 1
