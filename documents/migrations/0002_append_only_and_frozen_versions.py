"""History tables are append-only (docs/architecture.md rule 2), and the database refuses any change
to the content of a released version (ISO 9001 7.5.3.2: a change means a new revision), whatever
path the UPDATE comes from: a form, the API, the admin, a shell or a bug."""

from django.db import migrations

import qms.db

FROZEN_FUNCTION = """
CREATE OR REPLACE FUNCTION documents_refuse_released_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('effective', 'superseded', 'obsolete') AND (
        NEW.content_text IS DISTINCT FROM OLD.content_text OR
        NEW.file IS DISTINCT FROM OLD.file OR
        NEW.file_sha256 IS DISTINCT FROM OLD.file_sha256 OR
        NEW.change_summary IS DISTINCT FROM OLD.change_summary OR
        NEW.effective_from IS DISTINCT FROM OLD.effective_from OR
        NEW.revision IS DISTINCT FROM OLD.revision OR
        NEW.revision_index IS DISTINCT FROM OLD.revision_index OR
        NEW.document_id IS DISTINCT FROM OLD.document_id OR
        NEW.author_id IS DISTINCT FROM OLD.author_id
    ) THEN
        RAISE EXCEPTION 'documents: the content of released version % is frozen', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status IN ('superseded', 'obsolete') AND NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION 'documents: version % is % and cannot change state', OLD.id, OLD.status
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER documents_released_version_frozen BEFORE UPDATE ON documents_documentversion
    FOR EACH ROW EXECUTE FUNCTION documents_refuse_released_change();
CREATE OR REPLACE FUNCTION documents_refuse_version_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'documents: versions are never deleted' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER documents_version_no_delete BEFORE DELETE ON documents_documentversion
    FOR EACH ROW EXECUTE FUNCTION documents_refuse_version_delete();
"""

DROP_FROZEN = """
DROP TRIGGER IF EXISTS documents_released_version_frozen ON documents_documentversion;
DROP TRIGGER IF EXISTS documents_version_no_delete ON documents_documentversion;
DROP FUNCTION IF EXISTS documents_refuse_released_change();
DROP FUNCTION IF EXISTS documents_refuse_version_delete();
"""


def freeze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FROZEN_FUNCTION, params=None)


def unfreeze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FROZEN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
    ]

    operations = [
        qms.db.MakeAppendOnly("documents_historicaldocument"),
        qms.db.MakeAppendOnly("documents_historicaldocumentversion"),
        qms.db.MakeAppendOnly("documents_historicalversionsignoff"),
        qms.db.MakeAppendOnly("documents_historicalperiodicreview"),
        migrations.RunPython(freeze, unfreeze),
    ]
