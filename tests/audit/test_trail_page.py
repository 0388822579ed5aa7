"""The audit trail page: who, when (with time zone), what (readable field-level changes) and
why, for every regulated record, signatures and security events; filters; read-only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from qms.models import SecurityEvent
from tests.conftest import PASSWORD

TRAIL = "/audit/"


def test_the_navigation_url_name_is_the_trail():
    assert reverse("audit-trail") == TRAIL


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
def test_only_auditors_managers_and_administrators_read_the_trail(
    personas, client_for, persona, status
):
    response = client_for(personas[persona]).get(TRAIL)
    assert response.status_code == status
    if status == 403:
        assert SecurityEvent.objects.filter(
            kind="permission_denied", user=personas[persona], path=TRAIL
        ).exists()


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(TRAIL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_role_change_shows_who_when_what_and_why_readably(promoted, auditor, client_for):
    response = client_for(auditor).get(TRAIL, {"model": "qms.user", "record": "staff"})
    page = response.content.decode()
    assert response.status_code == 200
    # who and why
    assert "Administrator Tester" in page
    assert "Promoted to Head of Quality" in page
    assert "Joined the quality team" in page
    # what: labels and names, not column names and ids
    assert "Department" in page and "Quality" in page
    assert "department_id" not in page
    assert "Groups" in page and "Quality Manager" in page
    # when, with the time zone
    assert timezone.localtime().strftime("%Z") in page


def test_entries_are_newest_first(promoted, auditor, client_for):
    entries = client_for(auditor).get(TRAIL).context["entries"]
    times = [entry.at for entry in entries]
    assert times == sorted(times, reverse=True)
    assert len(entries) > 3


def test_signatures_and_workflow_steps_of_a_record_are_in_the_trail(
    signed_specimen, auditor, client_for
):
    response = client_for(auditor).get(TRAIL, {"record": signed_specimen.reference})
    entries = response.context["entries"]
    kinds = {entry.kind for entry in entries}
    assert kinds == {"history", "signature"}
    actions = [entry.action for entry in entries]
    assert actions[:3] == ["signed", "approve", "submit"] or set(actions[:3]) == {
        "signed",
        "approve",
        "submit",
    }
    assert "created" in actions and "changed" in actions
    page = response.content.decode()
    assert "hash still matches" in page
    assert "In review" in page  # the status choice label, not the code
    changed = next(e for e in entries if e.action == "changed")
    assert [(c.label, c.old_display, c.new_display) for c in changed.changes] == [
        ("Summary", "First draft.", "Checked against the reference set.")
    ]
    assert changed.reason == "Clarified the summary"


def test_log_in_events_and_refused_access_are_in_the_trail(client, auditor, staff, client_for):
    client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    client.post(reverse("login"), {"username": "staff", "password": PASSWORD})
    client.get(TRAIL)  # staff may not read the trail: permission denied
    client.post(reverse("logout"))
    entries = (
        client_for(auditor)
        .get(TRAIL, {"model": "qms.securityevent", "user": "staff"})
        .context["entries"]
    )
    assert [e.action for e in entries] == ["logout", "permission_denied", "login", "login_failed"]
    assert all(e.kind == "security" for e in entries)


@pytest.mark.parametrize(
    "params,expected_actions",
    [
        ({"action": "set_roles"}, {"set_roles"}),
        ({"action": "created", "model": "qms.department"}, {"created"}),
        (
            {"user": "administrator", "model": "qms.user", "record": "staff"},
            {"changed", "set_roles"},
        ),
        ({"q": "head of quality"}, {"set_roles"}),
    ],
)
def test_filters(promoted, auditor, client_for, params, expected_actions):
    entries = client_for(auditor).get(TRAIL, params).context["entries"]
    assert entries
    assert {e.action for e in entries} == expected_actions


def test_record_filter_by_id_and_by_key_agree(promoted, auditor, client_for):
    client = client_for(auditor)
    by_name = client.get(TRAIL, {"model": "qms.user", "record": "staff"}).context["entries"]
    by_id = client.get(TRAIL, {"model": "qms.user", "record": str(promoted.pk)}).context["entries"]
    assert [e.history_id for e in by_name] == [e.history_id for e in by_id]
    assert {e.object_id for e in by_id} == {promoted.pk}


def test_date_range_filter(promoted, auditor, client_for):
    today = timezone.localdate()
    client = client_for(auditor)
    assert client.get(
        TRAIL, {"date_from": today.isoformat(), "date_to": today.isoformat()}
    ).context["entries"]
    tomorrow = today + datetime.timedelta(days=1)
    response = client.get(TRAIL, {"date_from": tomorrow.isoformat()})
    assert response.context["entries"] == [] and response.context["estimate"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "yesterday"},
        {"date_to": "2026-13-45"},
        {"date_from": "2026-11-24", "date_to": "2026-11-01"},
        {"model": "nope.nothing"},
        {"record": "x" * 5000},
        {"q": "<script>alert(1)</script>' OR 1=1 --"},
        {"page": "abc", "page_size": "-5"},
        {"record": "\x00"},
        {"user": "'; DROP TABLE qms_user; --"},
        {"action": "approve' OR '1'='1"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_from": "2026-11-23T25:99:00+00:00"},
        {"page": "99999999999", "page_size": "200000"},
        {"before": "0-0-0", "after": "x"},
    ],
)
def test_bad_filter_input_is_a_form_error_never_a_500(promoted, auditor, client_for, params):
    response = client_for(auditor).get(TRAIL, params)
    if any("\x00" in value for value in params.values()):
        # A NUL byte never reaches a form: CleanTextInputMiddleware answers 400 with a message.
        assert response.status_code == 400 and b"NUL" in response.content.upper()
    else:
        assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


def test_bad_dates_are_reported(auditor, client_for):
    response = client_for(auditor).get(TRAIL, {"date_from": "yesterday"})
    assert "Enter a date" in response.content.decode()


def test_paging_by_cursor_walks_the_whole_trail_once_in_both_directions(
    promoted, signed_specimen, auditor, client_for
):
    client = client_for(auditor)
    everything = client.get(TRAIL, {"page_size": 200}).context["entries"]
    assert 8 < len(everything) < 200
    seen, pages, params = [], [], {"page_size": 25}
    # 25 is the smallest page size: make pages of 25 over a longer trail.
    for i in range(30):
        SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, username=f"visitor{i}")
    everything = client.get(TRAIL, {"page_size": 200}).context["entries"]
    while True:
        context = client.get(TRAIL, params).context
        pages.append(context)
        seen.extend(context["entries"])
        if not context["page"].has_older:
            break
        params = {"page_size": 25, "before": context["page"].older_cursor}
    key = lambda e: (e.kind, e.history_id or e.at, e.action, e.object_id)  # noqa: E731
    assert [key(e) for e in seen] == [key(e) for e in everything]
    assert len(pages) == -(-len(everything) // 25)
    assert pages[0]["page"].has_newer is False and pages[-1]["page"].has_newer is True
    # Back again: "newer" than the first entry of the last page is the page before it.
    back = client.get(TRAIL, {"page_size": 25, "after": pages[-1]["page"].newer_cursor}).context[
        "entries"
    ]
    assert [key(e) for e in back] == [key(e) for e in pages[-2]["entries"]]
    assert not pages[0]["estimate_is_exact"] and pages[0]["estimate"] >= 26


@pytest.mark.parametrize(
    "cursor", ["abc", "1-2", "99999-1-1", "0-1-999999999999999999", "' OR 1=1 --", "1-1-1" * 300]
)
def test_a_bad_page_link_shows_the_newest_entries_and_says_so(
    promoted, auditor, client_for, cursor
):
    client = client_for(auditor)
    newest = [e.history_id for e in client.get(TRAIL).context["entries"]]
    for name in ("before", "after"):
        response = client.get(TRAIL, {name: cursor})
        assert response.status_code == 200
        assert [e.history_id for e in response.context["entries"]] == newest
        assert "That page link is not valid" in response.content.decode()


def test_a_huge_page_number_is_ignored(promoted, auditor, client_for):
    response = client_for(auditor).get(TRAIL, {"page": "99999999999999999999"})
    assert response.status_code == 200
    assert response.context["entries"]


def test_an_unknown_user_has_an_empty_trail(promoted, auditor, client_for):
    response = client_for(auditor).get(TRAIL, {"user": "nobody-of-that-name"})
    assert response.status_code == 200
    assert response.context["entries"] == []
    assert "No entries" in response.content.decode()


def test_the_action_filter_lists_every_workflow_action_without_a_query(db):
    from qms.audit.selectors import actions_for_filter

    codes = [code for code, _label in actions_for_filter()]
    assert {
        "created",
        "changed",
        "signed",
        "set_roles",
        "approve",
        "submit",
        "close",
        "login",
    } <= set(codes)
    assert len(codes) == len(set(codes))


def test_the_trail_shows_the_last_verification(promoted, auditor, client_for):
    from qms.audit.verify import verify_audit_trail

    client = client_for(auditor)
    assert "Not verified yet" in client.get(TRAIL).content.decode()
    verify_audit_trail()
    page = client.get(TRAIL).content.decode()
    assert "Intact" in page and "no break" in page


def test_the_trail_has_no_way_to_change_anything(
    promoted, auditor, manager, administrator, client_for
):
    for user in (auditor, manager, administrator):
        client = client_for(user)
        for url in (
            TRAIL,
            reverse("audit-trail-csv"),
            reverse("audit-trail-pdf"),
            reverse("audit-record", args=["qms.user", promoted.pk]),
        ):
            for method in ("post", "put", "patch", "delete"):
                assert getattr(client, method)(url).status_code in (403, 405), (user, url, method)
    page = client_for(auditor).get(TRAIL).content.decode()
    assert 'method="post"' not in page.split("<main>")[1]
