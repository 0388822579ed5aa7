"""CSV and XLSX of every filtered list (issue 18 item 6): complaints, CAPAs, documents, training
assignments and KPI alerts answer ?export=csv|xlsx with every row their filters select (not one
page), formula-like text quoted, in a fixed number of queries, and only to those who may read
the list."""

import csv
import datetime
import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

LISTS = {
    "/complaints/": "complaints.Complaint",
    "/capa/": "capa.Capa",
    "/documents/": "documents.Document",
    "/training/assignments/": "training.TrainingAssignment",
    "/metrics/alerts/": "metrics.KpiAlert",
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {
        name: get_user_model().objects.get(username=name)
        for name in ("staff", "manager", "auditor", "employee")
    }


def body(response) -> bytes:
    assert response.streaming, "exports stream (docs/decisions/0045)"
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode())))


def test_every_list_exports_all_its_rows_as_csv_and_xlsx(
    client_for, demo, django_assert_max_num_queries
):
    from django.apps import apps

    client = client_for(demo["auditor"])
    for url, model_label in LISTS.items():
        expected = apps.get_model(model_label).objects.count()
        with django_assert_max_num_queries(12):
            response = client.get(url, {"export": "csv", "page": "2"})
            rows = csv_rows(response)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), url
        assert response["Content-Disposition"].startswith("attachment; filename="), url
        assert len(rows) - 1 == expected, f"{url}: {len(rows) - 1} rows, {expected} records"
        assert response["X-Total-Count"] == str(expected), url
        xlsx = client.get(url, {"export": "xlsx"})
        assert xlsx.status_code == 200 and xlsx["X-Total-Count"] == str(expected), url
        sheet_rows = list(
            load_workbook(io.BytesIO(body(xlsx)), read_only=True).active.iter_rows(
                values_only=True
            )
        )
        assert len(sheet_rows) - 1 == expected, url
        assert list(sheet_rows[0]) == rows[0], url
        page = client.get(url).content.decode()
        assert "export=csv" in page and "export=xlsx" in page, f"{url}: no export link"


def test_the_export_is_the_filtered_list(client_for, demo):
    from complaints.models import Complaint

    client = client_for(demo["manager"])
    rows = csv_rows(client.get("/complaints/", {"status": "new", "export": "csv"}))
    assert {r[2] for r in rows[1:]} == {"New"}
    assert len(rows) - 1 == Complaint.objects.filter(status="new").count() > 0
    rows = csv_rows(
        client.get("/complaints/", {"search": "no such complaint anywhere", "export": "csv"})
    )
    assert len(rows) == 1  # the header only
    # a filter that does not validate exports nothing (tests/qms/test_list_export_input.py)
    assert client.get(
        "/complaints/", {"received_from": "'; drop table", "export": "csv"}
    ).status_code == 400


def test_formula_like_text_is_quoted(client_for, demo):
    from complaints.models import Complaint

    first = Complaint.objects.order_by("pk").first()
    Complaint.objects.filter(pk=first.pk).update(
        title='=HYPERLINK("http://evil.example","x")', lot_number="@SUM(A1)"
    )
    client = client_for(demo["manager"])
    row = next(
        r
        for r in csv_rows(client.get("/complaints/", {"export": "csv"}))
        if r[0] == first.reference
    )
    assert row[1].startswith("'=HYPERLINK") and row[9] == "'@SUM(A1)"
    sheet = load_workbook(io.BytesIO(body(client.get("/complaints/", {"export": "xlsx"})))).active
    cells = [c.value for r in sheet.iter_rows() for c in r if c.value]
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    # numbers stay numbers and times stay times
    header = [c.value for c in next(sheet.iter_rows())]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == first.reference)
    assert isinstance(row[header.index("Received")], datetime.datetime)
    assert isinstance(row[header.index("Escalation level")], int)


def test_only_readers_of_a_list_may_export_it(client_for, demo):
    employee = client_for(demo["employee"])
    assert employee.get("/complaints/", {"export": "csv"}).status_code == 403
    assert employee.get("/capa/", {"export": "xlsx"}).status_code == 403
    assert employee.get("/metrics/alerts/", {"export": "csv"}).status_code == 403
