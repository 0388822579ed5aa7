"""Exports for auditors: the filtered trail as CSV and PDF (with the filter, the export time,
the exporting user and the verification status), and a record's dossier as one PDF."""

import csv
import io

import pytest
from pypdf import PdfReader

from qms.audit.verify import verify_audit_trail
from qms.models import Transition


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_csv_export_is_the_filtered_trail_with_its_context(promoted, auditor, client_for):
    verify_audit_trail()
    response = client_for(auditor).get("/audit/export.csv", {"model": "qms.user", "record": "staff"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    meta = {row[0]: row[1] for row in rows[1:5]}
    assert "record: staff" in meta["Filter"]
    assert meta["Exported by"] == "Auditor Tester (auditor)"
    assert meta["Verification"].startswith("Intact")
    header_index = rows.index(next(r for r in rows if r and r[0] == "at"))
    data = [dict(zip(rows[header_index], r, strict=True)) for r in rows[header_index + 1 :]]
    assert {d["record_type"] for d in data} == {"qms.user"}
    assert {d["record_id"] for d in data} == {str(promoted.pk)}
    role_change = [d for d in data if d["field"] == "Groups" and d["new"] == "Quality Manager"]
    assert role_change and role_change[0]["reason"] == "Promoted to Head of Quality"
    assert role_change[0]["user"] == "administrator"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(administrator, auditor, client_for, quality):
    from qms.history import set_history

    quality.name = "=HYPERLINK(\"http://evil\")"
    set_history(quality, user=administrator, reason="+SUM(A1)")
    quality.save()
    body = b"".join(client_for(auditor).get("/audit/export.csv", {"model": "qms.department"}).streaming_content).decode()
    assert "'=HYPERLINK" in body and "'+SUM(A1)" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_pdf_export_prints_filter_time_exporter_and_verification(signed_specimen, auditor, client_for):
    verify_audit_trail()
    response = client_for(auditor).get("/audit/export.pdf", {"record": signed_specimen.reference})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Audit trail" in text
    assert f"record: {signed_specimen.reference}" in text
    assert "Exported at" in text
    assert "GMT" in text or "BST" in text  # times carry their zone
    assert "Auditor Tester (auditor)" in text
    assert "Intact" in text
    assert "Signed" in text and "hash still matches" in text
    assert "Summary: First draft. -> Checked against the reference set." in text.replace("\n", " ")
    assert "Clarified the summary" in text


def test_pdf_export_says_when_the_trail_is_broken(promoted, auditor, client_for):
    from tests.audit.test_verify import as_database_owner

    as_database_owner("qms_historicaluser", "UPDATE qms_historicaluser SET first_name = 'Mallory' WHERE history_id = (SELECT min(history_id) FROM qms_historicaluser)")
    verify_audit_trail()
    text = pdf_text(client_for(auditor).get("/audit/export.pdf").content)
    assert "BROKEN" in text and "qms_historicaluser" in text


def test_pdf_of_an_empty_filter_says_so(promoted, auditor, client_for):
    text = pdf_text(client_for(auditor).get("/audit/export.pdf", {"q": "no such text anywhere"}).content)
    assert "No entries match this filter." in text
    assert "Not verified yet" in text


def test_dossier_pdf_holds_record_history_signatures_and_transitions(signed_specimen, auditor, client_for):
    response = client_for(auditor).get(f"/audit/records/kernel_app.specimen/{signed_specimen.pk}/dossier.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content).replace("\n", " ")
    assert f"Record dossier: Specimen {signed_specimen}" in text
    assert "Torque wrench calibration" in text
    assert "Owner" in text and "Staff Tester" in text  # linked record by name
    assert "Clarified the summary" in text  # history with reasons
    assert "Manager Tester" in text and "Approved" in text and "hash still matches" in text
    assert "in_review -> approved" in text  # workflow transitions
    assert Transition.objects.filter(object_id=signed_specimen.pk).count() == 2


def test_dossier_of_a_user_covers_roles_and_department(promoted, auditor, client_for):
    text = pdf_text(client_for(auditor).get(f"/audit/records/qms.user/{promoted.pk}/dossier.pdf").content).replace("\n", " ")
    assert "Promoted to Head of Quality" in text
    assert "Groups" in text and "Quality Manager" in text
    assert "Department" in text and "Quality" in text
    assert promoted.password not in text and "md5$" not in text  # never the password hash


def test_an_app_can_add_dossier_sections(signed_specimen, auditor, client_for, monkeypatch):
    from qms import extensions
    from qms.audit.exports import DossierSection
    from tests.kernel_app.models import Specimen

    monkeypatch.setitem(extensions._DOSSIER_SECTIONS, Specimen, [lambda record: [DossierSection("Customer communications", ["At", "Summary"], [["1 Nov", "Called the customer"]])]])
    text = pdf_text(client_for(auditor).get(f"/audit/records/kernel_app.specimen/{signed_specimen.pk}/dossier.pdf").content)
    assert "Customer communications" in text and "Called the customer" in text


@pytest.mark.parametrize("persona", ["staff", "employee", "outsider"])
def test_exports_are_for_audit_readers_only(signed_specimen, personas, client_for, persona):
    client = client_for(personas[persona])
    for url in ("/audit/export.csv", "/audit/export.pdf", f"/audit/records/kernel_app.specimen/{signed_specimen.pk}/dossier.pdf"):
        assert client.get(url).status_code == 403


def test_unknown_records_are_404(auditor, client_for):
    client = client_for(auditor)
    assert client.get("/audit/records/qms.user/999999/dossier.pdf").status_code == 404
    assert client.get("/audit/records/qms.notification/1/").status_code == 404
    assert client.get("/audit/records/nothing/1/").status_code == 404
