"""Small rules: revision labels, cleaned file names, the release gate extension point, demo data."""

import pytest
from django.db import transaction

from documents import services
from documents.models import Document, VersionStatus
from documents.uploads import clean_file_name
from documents.workflow import RELEASE_CHECKS
from qms.errors import IllegalTransition
from tests.documents.conftest import approve, submit


def test_revision_labels_numeric_and_alpha(settings):
    assert [services.revision_label(n) for n in (1, 2, 10)] == ["1", "2", "10"]
    settings.QMS_DOCUMENT_REVISION_SCHEME = "alpha"
    assert [services.revision_label(n) for n in (1, 2, 26, 27, 28)] == ["A", "B", "Z", "AA", "AB"]


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\eve\\SOP 14 (final).PDF", "SOP_14_final.pdf"),
    ("...hidden.md", "hidden.md"),
    ("Prüfanweisung.docx", "Prufanweisung.docx"),
    ("", "document"),
    ("<script>.txt", "script.txt"),
])
def test_file_names_are_cleaned(raw, clean):
    assert clean_file_name(raw) == clean


@pytest.mark.django_db
def test_a_release_gate_added_by_another_app_blocks_make_effective(make_document, staff, manager):
    version = make_document().versions.get()
    submit(version, actor=staff, approvers=[manager])
    approve(version, manager)

    def training_gate(ctx):
        raise IllegalTransition("3 people have not been trained yet.")

    RELEASE_CHECKS.append(training_gate)
    try:
        with pytest.raises(IllegalTransition, match="not been trained"):
            services.version_transition(version, "make_effective", actor=staff)
    finally:
        RELEASE_CHECKS.remove(training_gate)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    services.version_transition(version, "make_effective", actor=staff)


@pytest.mark.django_db
def test_demo_register_covers_every_state_and_is_idempotent():
    import documents.demo
    import qms.demo

    with transaction.atomic():
        qms.demo.seed(log=lambda *a: None)
    lines = []
    for _ in range(2):
        with transaction.atomic():
            documents.demo.seed(log=lines.append)
    assert lines == ["  20 documents created (20 in the register)", "  0 documents created (20 in the register)"]
    statuses = set(Document.objects.values_list("versions__status", flat=True))
    assert statuses == {s.value for s in VersionStatus}


@pytest.mark.django_db
def test_versions_load_with_their_document_for_naming(effective_document, django_assert_num_queries):
    from documents.models import DocumentVersion

    ids = list(effective_document.versions.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        names = [str(v) for v in DocumentVersion._base_manager.in_bulk(ids).values()]
    assert names == ["SOP-001 rev 1"]
    version = DocumentVersion.objects.get(pk=ids[0])
    version.refresh_from_db(fields=["status"])  # a partial reload still works
    deferred = DocumentVersion.objects.only("status").get(pk=ids[0])
    assert deferred.content_text == version.content_text
