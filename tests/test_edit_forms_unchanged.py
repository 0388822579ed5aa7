"""A form never changes a value the user did not change (issue 15, item 4).

Saving the complaint edit form without touching "Received at" changed 12:41:39 to 12:41:00
(the widget dropped the seconds) and the history showed it as the user's change. Here every
edit form of the product is loaded as a person would, submitted with the values it shows
(and a reason where it asks one), and no history row with a change may be written."""

from __future__ import annotations

import datetime
import io
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.db import transaction

from qms.audit.registry import historical_model_for
from qms.audit.selectors import record_history


class FormReader(HTMLParser):
    """The forms of a page, each as (action, method, [(name, value), ...]) as a browser would
    submit them unchanged: inputs, checked boxes, selected options and text areas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": (a.get("method") or "get").lower(),
                    "fields": [],
                    "selects": {},
                }
            )
            return
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                form["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self._select = a["name"]
            form["selects"][self._select] = {
                "multiple": "multiple" in a,
                "chosen": [],
                "first": None,
            }
        elif tag == "option" and self._select:
            entry = form["selects"][self._select]
            value = a.get("value")
            self._option = value
            if entry["first"] is None:
                entry["first"] = value
            if "selected" in a:
                entry["chosen"].append(value)
        elif tag == "textarea" and a.get("name") and "disabled" not in a:
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            value = self._textarea[1]
            # The HTML parser keeps the newline a browser drops after <textarea>.
            value = value[1:] if value.startswith("\n") else value
            # and sends its lines with CR LF (HTML's form submission normalises newlines).
            self.forms[-1]["fields"].append(
                (self._textarea[0], value.replace("\r\n", "\n").replace("\n", "\r\n"))
            )
            self._textarea = None

    def submitted(self, form) -> dict[str, list[str]]:
        data: dict[str, list[str]] = {}
        for name, value in form["fields"]:
            data.setdefault(name, []).append(value)
        for name, entry in form["selects"].items():
            chosen = entry["chosen"] or (
                [] if entry["multiple"] or entry["first"] is None else [entry["first"]]
            )
            data.setdefault(name, []).extend(v or "" for v in chosen)
        return data


def _complaint():
    from complaints.models import Complaint

    complaint = Complaint.objects.filter(status="investigating").order_by("pk").first()
    # The defect: a time with seconds (and microseconds), as the services write it.
    Complaint.objects.filter(pk=complaint.pk).update(
        received_at=complaint.received_at.replace(second=39, microsecond=250_000)
    )
    return Complaint.objects.get(pk=complaint.pk)


def _first(model_path: str, **filters):
    from django.apps import apps

    model = apps.get_model(model_path)
    return model.objects.filter(**filters).order_by("pk").first()


def _capa():
    from capa.models import Capa

    capa = (
        Capa.objects.exclude(status__in=["closed", "cancelled"])
        .filter(due_date__gte=datetime.date.today())
        .order_by("pk")
        .first()
    )
    Capa.objects.filter(pk=capa.pk).update(
        containment_at=datetime.datetime(2026, 3, 4, 12, 41, 39, 250_000, tzinfo=datetime.UTC)
    )
    return Capa.objects.get(pk=capa.pk)


def _draft_version():
    return _first("documents.DocumentVersion", status="draft")


# (id, the record, the URL of its edit form, the role that edits it)
EDIT_FORMS = [
    ("complaint", _complaint, lambda r: f"/complaints/{r.pk}/edit/", "manager"),
    (
        "customer",
        lambda: _first("complaints.Customer"),
        lambda r: f"/complaints/customers/{r.pk}/edit/",
        "manager",
    ),
    (
        "sla-policy",
        lambda: _first("complaints.SlaPolicy"),
        lambda r: f"/complaints/sla/{r.pk}/edit/",
        "manager",
    ),
    (
        "business-calendar",
        lambda: _first("complaints.BusinessCalendar"),
        lambda r: f"/complaints/sla/calendars/{r.pk}/edit/",
        "manager",
    ),
    ("capa", _capa, lambda r: f"/capa/{r.pk}/edit/", "manager"),
    (
        "root-cause",
        lambda: _first(
            "capa.RootCauseAnalysis", capa__status__in=["investigation", "action_planning"]
        ),
        lambda r: f"/capa/{r.capa_id}/root-cause/",
        "manager",
    ),
    (
        "capa-action",
        lambda: _first(
            "capa.CapaAction",
            status__in=["planned", "in_progress"],
            due_date__gte=datetime.date.today(),
        ),
        lambda r: f"/capa/actions/{r.pk}/edit/",
        "manager",
    ),
    (
        "document",
        lambda: _first("documents.Document"),
        lambda r: f"/documents/{r.pk}/edit/",
        "manager",
    ),
    (
        "document-version",
        _draft_version,
        lambda r: f"/documents/{r.document_id}/versions/{r.pk}/edit/",
        "manager",
    ),
    (
        "kpi-target",
        lambda: _first("metrics.KpiTarget"),
        lambda r: f"/metrics/targets/{r.pk}/",
        "manager",
    ),
    (
        "management-review",
        lambda: _first("metrics.ManagementReview", status__in=["planned", "held"]),
        lambda r: f"/metrics/reviews/{r.pk}/",
        "manager",
    ),
    (
        "training-requirement",
        lambda: _first("training.TrainingRequirement"),
        lambda r: f"/training/requirements/{r.pk}/",
        "manager",
    ),
    (
        "release-gate",
        lambda: _first("training.ReleaseGate"),
        lambda r: "/training/release-gates/",
        "manager",
    ),
]


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo data once for the module, rolled back at its end (each test runs in a
    savepoint inside this transaction)."""
    from django.conf import settings

    hashers = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)
    settings.PASSWORD_HASHERS = hashers


def _changed_entries(record, since_id):
    historical = historical_model_for(record._meta.label_lower)
    new = historical._base_manager.filter(id=record.pk, history_id__gt=since_id)
    ids = set(new.values_list("history_id", flat=True))
    return [e for e in record_history(record, limit=20) if e.history_id in ids and e.changes]


@pytest.mark.parametrize(
    ("name", "get_record", "url_of", "role"), EDIT_FORMS, ids=[row[0] for row in EDIT_FORMS]
)
def test_saving_an_edit_form_unchanged_writes_no_change(
    demo_data, db, client, name, get_record, url_of, role
):
    from django.contrib.auth import get_user_model

    # Given a record and its edit form as the person sees it
    record = get_record()
    assert record is not None, f"no demo record for the {name} form"
    url = url_of(record)
    client.force_login(get_user_model().objects.get(username=role))
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    reader = FormReader()
    reader.feed(page.content.decode())
    forms = [
        f
        for f in reader.forms
        if f["method"] == "post"
        and any(n == "version" for n, _ in f["fields"])
        or f["method"] == "post"
        and "reason" in reader.submitted(f)
    ]
    assert forms, f"no edit form on {url}"
    # The edit form (a record page may also hold transition or other forms).
    form = next((f for f in forms if f["action"].rstrip("/").endswith("edit")), forms[0])
    data = reader.submitted(form)
    if "reason" in data:
        data["reason"] = ["Saved without changes (test)"]
    historical = historical_model_for(record._meta.label_lower)
    since = (
        historical._base_manager.filter(id=record.pk)
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
        or 0
    )

    # When it is submitted with the values it shows
    response = client.post(form["action"] or url, data)

    # Then it is accepted and no history row says something changed
    assert response.status_code in (200, 302), (url, response.status_code)
    if response.status_code == 200 and b"errorlist" in response.content:
        pytest.fail(
            f"{url}: the unchanged form was refused: {response.content.decode()[:0]}{_errors(response.content.decode())}"
        )
    record.refresh_from_db()
    changed = _changed_entries(record, since)
    assert not changed, [(e.action, [(c.field, c.old, c.new) for c in e.changes]) for e in changed]


def _errors(html: str) -> str:
    import re

    return " | ".join(
        re.sub(r"<[^>]+>", "", m)
        for m in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    )
