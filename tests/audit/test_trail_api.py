"""GET /api/v1/audit-trail/ (docs/api.md): filters model, object_id, user, from, to; fields at,
user, action, reason, changes, model, object_id, object_repr. Nobody can write through it."""

import datetime

import pytest
from django.utils import timezone

from qms.models import SecurityEvent
from tests.conftest import PASSWORD

URL = "/api/v1/audit-trail/"


def test_entries_carry_the_api_fields(promoted, api_for, auditor):
    response = api_for(auditor).get(URL, {"model": "qms.user", "object_id": promoted.pk})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_is_estimate", "next", "previous", "results"}
    entry = body["results"][0]
    assert {
        "at",
        "user",
        "action",
        "reason",
        "changes",
        "model",
        "object_id",
        "object_repr",
    } <= set(entry)
    assert entry["model"] == "qms.user"
    assert entry["object_id"] == promoted.pk
    assert entry["object_repr"] == "Staff Tester"
    assert entry["user"] == "administrator"
    assert entry["action"] == "set_roles"
    assert entry["reason"] == "Promoted to Head of Quality"
    assert datetime.datetime.fromisoformat(entry["at"]).tzinfo is not None
    roles = [c for r in body["results"] for c in r["changes"] if c["field"] == "groups"]
    assert any(c["new_display"] == "Quality Manager" for c in roles)
    department = next(
        c for r in body["results"] for c in r["changes"] if c["field"] == "department"
    )
    assert department["label"] == "Department"
    assert department["new"] == promoted.department_id  # the code/id, as in the history API
    assert department["new_display"] == "Quality"  # and what a person reads


def test_filters_by_user_and_dates(promoted, api_for, auditor):
    client = api_for(auditor)
    assert {
        r["user"]
        for r in client.get(URL, {"user": "administrator", "model": "qms.user"}).json()["results"]
    } == {"administrator"}
    today = timezone.localdate().isoformat()
    assert client.get(URL, {"from": today, "to": today}).json()["count"] > 0
    later = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert client.get(URL, {"from": later}).json()["count"] == 0


def test_signatures_and_security_events_are_listed(signed_specimen, api_for, auditor, client):
    client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    api = api_for(auditor)
    signed = api.get(URL, {"model": "qms.signature"}).json()["results"]
    assert [(r["action"], r["model"], r["object_id"], r["user"]) for r in signed] == [
        ("signed", "kernel_app.specimen", signed_specimen.pk, "manager")
    ]
    logins = api.get(
        URL, {"model": "qms.securityevent", "action": "login", "user": "staff"}
    ).json()["results"]
    assert len(logins) == 1


def test_paging(promoted, api_for, auditor):
    api = api_for(auditor)
    body = api.get(URL, {"page_size": 2}).json()
    assert len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    assert body["count"] > 2 and body["count_is_estimate"] is True
    # Walk to the last page: there the count is exact.
    everything = api.get(URL, {"page_size": 200}).json()
    assert everything["next"] is None and everything["count_is_estimate"] is False
    assert everything["count"] == len(everything["results"])
    pages, url = [], URL + "?page_size=2"
    while url:
        page = api.get(url).json()
        pages.append(page)
        url = page["next"]
    walked = [(r["at"], r["action"], r["object_id"]) for p in pages for r in p["results"]]
    assert walked == [(r["at"], r["action"], r["object_id"]) for r in everything["results"]]
    assert pages[-1]["count"] == everything["count"] and pages[-1]["count_is_estimate"] is False


@pytest.mark.parametrize(
    "page,status",
    [("abc", 404), ("0", 404), ("-3", 404), ("9", 404), ("99999999999999999999", 400)],
)
def test_bad_or_huge_page_numbers_are_clear_errors(promoted, api_for, auditor, page, status):
    response = api_for(auditor).get(URL, {"page": page, "page_size": 50})
    assert response.status_code == status
    assert ("page" if status == 400 else "detail") in response.json()


def test_an_unknown_user_gives_an_empty_page(promoted, api_for, auditor):
    body = api_for(auditor).get(URL, {"user": "nobody-of-that-name"}).json()
    assert body["results"] == [] and body["count"] == 0


@pytest.mark.parametrize(
    "params,field",
    [
        ({"object_id": "abc"}, "object_id"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"model": "nope.nothing"}, "model"),
        ({"from": "2026-11-24", "to": "2026-11-01"}, "to"),
        ({"user": "u" * 500}, "user"),
    ],
)
def test_bad_filters_answer_400_with_the_field(db, api_for, auditor, params, field):
    response = api_for(auditor).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "persona,status",
    [
        ("auditor", 200),
        ("manager", 200),
        ("administrator", 200),
        ("staff", 403),
        ("employee", 403),
        ("outsider", 403),
    ],
)
def test_who_may_read(personas, api_for, persona, status):
    assert api_for(personas[persona]).get(URL).status_code == status


def test_anonymous_gets_401_or_403(db, api_for):
    assert api_for(None).get(URL).status_code in (401, 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("persona", ["auditor", "manager", "administrator", "staff"])
def test_nobody_can_write_the_trail(promoted, personas, api_for, method, persona):
    count_before = SecurityEvent.objects.count()
    response = getattr(api_for(personas[persona]), method)(
        URL, {"reason": "rewrite"}, format="json"
    )
    assert response.status_code in (403, 405)
    assert SecurityEvent.objects.count() >= count_before  # refusals are recorded, nothing removed
