"""Each record page has its PDF (the dossier) and its audit trail one click away (issue 18
item 6), for the roles that may read the audit trail, and the link works; other roles see no
link they could not follow."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {
        name: get_user_model().objects.get(username=name)
        for name in ("staff", "manager", "auditor", "employee")
    }


def record_pages():
    from capa.models import Capa
    from complaints.models import Complaint
    from documents.models import Document, DocumentVersion
    from training.models import TrainingAssignment

    return [
        model.objects.order_by("pk").first()
        for model in (Complaint, Capa, Document, DocumentVersion, TrainingAssignment)
    ]


def test_record_pages_link_their_dossier_pdf_for_audit_readers(client_for, demo):
    auditor, staff = client_for(demo["auditor"]), client_for(demo["staff"])
    for record in record_pages():
        page = auditor.get(record.get_absolute_url())
        assert page.status_code == 200, record
        html = page.content.decode()
        label = record._meta.label_lower
        link = f"/audit/records/{label}/{record.pk}/dossier.pdf"
        assert f'href="{link}"' in html, f"{label}: no dossier link"
        assert f'href="/audit/records/{label}/{record.pk}/"' in html
        pdf = auditor.get(link)
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf", label
        assert pdf.content.startswith(b"%PDF")
        # staff may not read the audit trail: no link to a 403
        staff_page = staff.get(record.get_absolute_url())
        if staff_page.status_code == 200:
            assert "dossier.pdf" not in staff_page.content.decode(), label
