"""Bad input to the list exports (issue 18 item 6, docs/decisions/0045): an unknown format, a
filter that does not validate and a role that may not read the list are refused with a clear
page and no file; hostile text that is a valid filter exports what it selects. No demo data:
the refusals need none, and one complaint shows the rest."""

import csv
import io

import pytest

from complaints import services
from complaints.models import Customer
from tests.complaints.conftest import ensure_policies

pytestmark = pytest.mark.django_db

LISTS = ["/complaints/", "/capa/", "/documents/", "/training/assignments/", "/metrics/alerts/"]
# A value each list's filter form refuses (a date, a choice).
INVALID_FILTERS = {
    "/complaints/": {"received_from": "'; drop table qms_user; --"},
    "/capa/": {"created_from": "2026-13-45"},
    "/documents/": {"doc_type": "<script>alert(1)</script>"},
    "/training/assignments/": {"due_before": "yesterday"},
    "/metrics/alerts/": {"status": "' OR 1=1 --"},
}


def test_an_unknown_format_is_refused_with_a_page_that_says_why(client_for, auditor):
    client = client_for(auditor)
    for url in LISTS:
        for fmt in ("pdf", "XLSX", "<script>x</script>"):
            response = client.get(url, {"export": fmt})
            assert response.status_code == 400, (url, fmt)
            assert "Content-Disposition" not in response, (url, fmt)
            page = response.content.decode()
            assert "There is no export as" in page and "ask for csv or xlsx" in page, (url, fmt)
            assert "<script>x" not in page, "the format is shown escaped"
    assert client.get("/complaints/", {"export": ""}).status_code == 200  # no format: the page


def test_filters_that_do_not_validate_export_nothing(client_for, auditor):
    client = client_for(auditor)
    for url, params in INVALID_FILTERS.items():
        for fmt in ("csv", "xlsx"):
            response = client.get(url, {**params, "export": fmt})
            assert response.status_code == 400, (url, fmt)
            assert "Content-Disposition" not in response, (url, fmt)
            page = response.content.decode()
            assert "Nothing was exported: the filters are not valid" in page, (url, fmt)
            assert "<script>alert" not in page


def test_hostile_text_in_a_valid_filter_exports_what_it_selects(client_for, manager, staff):
    ensure_policies()
    customer = Customer.objects.create(name="Jane Roe", organisation="St Mary's", email="jane@example.org")
    services.complaint_create(actor=staff, title="Pump 100% silent; drop", description="x", customer=customer)
    client = client_for(manager)
    for search, expected in (("'; drop table complaints_complaint; --", 0), ("100%", 1), ("\\", 0)):
        response = client.get("/complaints/", {"search": search, "export": "csv"})
        assert response.status_code == 200, search
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) - 1 == expected == int(response["X-Total-Count"]), search
    # NUL is refused before any view (qms/middleware.py)
    assert client.get("/complaints/", {"search": "a\x00b", "export": "xlsx"}).status_code == 400


def test_an_export_is_allowed_exactly_where_its_list_is(client_for, client, personas):
    for name, user in personas.items():
        reader = client_for(user)
        for url in LISTS:
            page = reader.get(url).status_code
            for fmt in ("csv", "xlsx"):
                response = reader.get(url, {"export": fmt})
                assert response.status_code == page, (name, url, fmt)
                assert ("Content-Disposition" in response) == (page == 200), (name, url, fmt)
    # who may not read a list gets no file: the employee and the complaint, CAPA and alert lists
    employee = client_for(personas["employee"])
    for url in ("/complaints/", "/capa/", "/metrics/alerts/"):
        assert employee.get(url, {"export": "csv"}).status_code == 403, url
    response = client.get("/complaints/", {"export": "csv"})  # not logged in
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
