"""Every page and endpoint through the same checks: anonymous -> login or 401, wrong role ->
403, right role -> 200 (docs/style.md "Tests")."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(complaint, customer):
    return {
        "list": reverse("complaints:list"),
        "detail": complaint.get_absolute_url(),
        "create": reverse("complaints:create"),
        "edit": reverse("complaints:edit", args=[complaint.pk]),
        "customers": reverse("complaints:customers"),
        "customer": reverse("complaints:customer", args=[customer.pk]),
        "customer-create": reverse("complaints:customer-create"),
        "products": reverse("complaints:products"),
        "sla": reverse("complaints:sla-policies"),
    }


READ_PAGES = {"list", "detail", "customers", "customer", "products", "sla"}
WRITE_PAGES = {"create", "edit", "customer-create"}


def test_anonymous_is_sent_to_login(client, urls):
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


@pytest.mark.parametrize("persona,readable,writable", [
    ("staff", True, True), ("manager", True, True), ("auditor", True, False),
    ("employee", False, False), ("administrator", False, False), ("outsider", False, False),
])
def test_pages_by_role(client_for, personas, urls, persona, readable, writable):
    client = client_for(personas[persona])
    for name, url in urls.items():
        expected = 200 if (writable if name in WRITE_PAGES else readable) else 403
        assert client.get(url).status_code == expected, (persona, name)


@pytest.mark.parametrize("persona", ["auditor", "employee", "outsider"])
def test_writes_are_refused_to_readers_and_others(client_for, personas, complaint, persona):
    client = client_for(personas[persona])
    assert client.post(reverse("complaints:transition", args=[complaint.pk]), {"action": "acknowledge"}).status_code == 403
    assert client.post(reverse("complaints:communication-add", args=[complaint.pk]), {"direction": "inbound", "channel": "email", "summary": "x"}).status_code == 403
    assert client.post(reverse("complaints:create"), {"title": "x"}).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "new" and not complaint.communications.exists()


API_READ = ["/api/v1/complaints/", "/api/v1/customers/", "/api/v1/products/", "/api/v1/sla-policies/", "/api/v1/surveys/",
            "/api/v1/complaint-categories/"]


def test_api_anonymous_is_401(api_for, complaint):
    for url in [*API_READ, f"/api/v1/complaints/{complaint.pk}/"]:
        assert api_for(None).get(url).status_code in (401, 403), url


@pytest.mark.parametrize("persona,status", [("staff", 200), ("manager", 200), ("auditor", 200), ("employee", 403), ("outsider", 403)])
def test_api_reads_by_role(api_for, personas, complaint, persona, status):
    client = api_for(personas[persona])
    for url in [*API_READ, f"/api/v1/complaints/{complaint.pk}/", f"/api/v1/complaints/{complaint.pk}/history/"]:
        assert client.get(url).status_code == status, (persona, url)


@pytest.mark.parametrize("persona", ["auditor", "employee", "outsider"])
def test_api_writes_refused(api_for, personas, complaint, customer, persona):
    client = api_for(personas[persona])
    assert client.post("/api/v1/complaints/", {"title": "t", "description": "d", "customer": customer.pk}, format="json").status_code == 403
    assert client.post(f"/api/v1/complaints/{complaint.pk}/transitions/", {"action": "acknowledge"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/complaints/{complaint.pk}/", {"title": "x", "version": 1, "reason": "r"}, format="json").status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "new" and complaint.version == 1


def test_auditor_sees_no_actions_on_the_detail_page(client_for, auditor, complaint):
    page = client_for(auditor).get(complaint.get_absolute_url())
    assert page.context["actions"] == []
    assert "Log a message" not in page.content.decode()
