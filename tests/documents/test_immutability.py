"""An effective or superseded version never changes: not by the form, the API, the admin, nor
an UPDATE in SQL (the database trigger of migration 0002)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from documents import services
from documents.models import DocumentVersion
from qms.errors import IllegalTransition
from tests.documents.conftest import release

pytestmark = pytest.mark.django_db


@pytest.fixture
def effective(effective_document):
    return effective_document.effective_version


def snapshot(version):
    fresh = DocumentVersion.objects.get(pk=version.pk)
    return (fresh.content_text, fresh.change_summary, fresh.effective_from, fresh.file.name, fresh.version, fresh.status)


def test_form_refuses_to_edit_an_effective_version(client_for, staff, effective):
    before = snapshot(effective)
    url = reverse("documents:version-edit", args=[effective.document_id, effective.pk])
    client = client_for(staff)
    assert client.get(url).status_code == 302  # sent back to the version page with a message
    response = client.post(url, {"change_summary": "sneaky", "content_text": "changed", "version": effective.version,
                                 "effective_from": effective.effective_from.isoformat(), "reason": "typo"})
    assert response.status_code == 200
    assert "cannot be edited; start a new revision" in response.content.decode()
    assert snapshot(effective) == before


def test_api_refuses_to_edit_an_effective_version_with_409(api_for, staff, effective):
    before = snapshot(effective)
    url = reverse("api-document-version-detail", args=[effective.document_id, effective.pk])
    response = api_for(staff).patch(url, {"content_text": "changed", "version": effective.version}, format="json")
    assert response.status_code == 409
    assert "start a new revision" in response.json()["detail"]
    assert snapshot(effective) == before


def test_admin_cannot_change_a_version(client_for, administrator, effective):
    before = snapshot(effective)
    administrator.is_superuser = True
    administrator.save()
    client = client_for(administrator)
    url = reverse("admin:documents_documentversion_change", args=[effective.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="content_text"' not in page.content  # read-only view
    response = client.post(url, {"content_text": "changed", "change_summary": "x"})
    assert response.status_code == 403
    assert client.post(reverse("admin:documents_documentversion_delete", args=[effective.pk]), {"post": "yes"}).status_code == 403
    assert snapshot(effective) == before


def test_database_refuses_content_changes_of_released_versions(staff, manager, effective):
    for change in ({"content_text": "x"}, {"change_summary": "x"}, {"effective_from": None}, {"file": "other.pdf"}):
        with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
            DocumentVersion.objects.filter(pk=effective.pk).update(**change)
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM documents_documentversion WHERE id = %s", [effective.pk])
    # A superseded version cannot come back either.
    new = services.version_create(document=effective.document, actor=staff, change_summary="Step 3 added.",
                                  effective_from=effective.effective_from)
    release(new, author=staff, approver=manager)
    with pytest.raises(DatabaseError, match="cannot change state"), transaction.atomic():
        DocumentVersion.objects.filter(pk=effective.pk).update(status="effective")


def test_service_refuses_edits_past_draft(staff, manager, make_document):
    version = make_document().versions.get()
    from tests.documents.conftest import submit

    submit(version, actor=staff, approvers=[manager])
    with pytest.raises(IllegalTransition, match="reject it back to draft"):
        services.version_update(version, actor=staff, reason="Edited.", expected_version=version.version + 1, content_text="x")


def test_every_documents_history_table_is_append_only(effective_document):
    from qms.db import append_only_tables_missing

    assert [t for t in append_only_tables_missing(connection) if t.startswith("documents_")] == []
    history = effective_document.history.model
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        history.objects.filter(id=effective_document.pk).update(title="rewritten")
