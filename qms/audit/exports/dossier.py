"""A record's dossier: its sections (fields, linked records, attachments and those the
record's app registers) and the dossier PDF with its history, signatures and transitions."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate

from qms.audit.display import EMPTY, RelatedResolver, display_value, format_datetime
from qms.audit.exports.pdf import (
    _changes_text,
    _data_table,
    _footer,
    _meta_table,
    _p,
    _styles,
    _verification_paragraph,
)
from qms.audit.exports.text import exporter_text
from qms.extensions import dossier_sections_for
from qms.signatures import content_hash, signed_content


@dataclass
class DossierSection:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    empty: str = "None."
    widths: list[float] | None = None  # shares of the page width per column (default: even)


def record_resolver(record) -> RelatedResolver:
    """The objects the record's foreign keys name, fetched together (one query, two when
    their names need their own foreign keys), with the record's caches filled from them."""
    resolver = RelatedResolver()
    resolver.add_known(record)
    for f in record._meta.concrete_fields:
        if f.is_relation:
            resolver.want(f.related_model, getattr(record, f.attname))
    resolver.resolve()
    return resolver


def record_fields_section(record, resolver: RelatedResolver | None = None) -> DossierSection:
    resolver = resolver or record_resolver(record)
    concrete = [f for f in record._meta.concrete_fields if f.name not in {"password"}]
    rows = [
        [capfirst(f.verbose_name), display_value(f, getattr(record, f.attname), resolver)]
        for f in concrete
    ]
    return DossierSection("Record", ["Field", "Value"], rows)


def linked_records_section(record, resolver: RelatedResolver | None = None) -> DossierSection:
    """What the record names: its foreign keys and many-to-many fields (the foreign keys from
    the resolver's objects, not one query each)."""
    resolver = resolver or record_resolver(record)
    rows = []
    for f in record._meta.get_fields():
        if f.many_to_many and not f.auto_created:
            for obj in getattr(record, f.name).all():
                rows.append([capfirst(f.verbose_name), capfirst(obj._meta.verbose_name), str(obj)])
        elif f.concrete and f.is_relation and getattr(record, f.attname) is not None:
            obj = resolver.get(f.related_model, getattr(record, f.attname))
            if obj is None:
                obj = getattr(record, f.name)
            rows.append([capfirst(f.verbose_name), capfirst(obj._meta.verbose_name), str(obj)])
    return DossierSection("Linked records", ["Link", "Record type", "Record"], rows)


def attachments_section(record) -> DossierSection:
    """Files of the record's file: held by records that point at this one (any reverse relation
    with a file field) or filed under it further down (a CAPA action's evidence,
    registry.trail_children), each with its size, SHA-256, uploader and time, so a reader can
    check a copy of the file against the dossier."""
    from qms.audit import registry

    sources = []
    for rel in record._meta.related_objects:
        if not rel.many_to_many and _file_fields(rel.related_model):
            sources.append((rel.related_model, rel.field.name))
    direct = {model for model, _lookup in sources}
    for child, lookup in registry.trail_children(record._meta.label_lower):
        if child not in direct and _file_fields(child):
            sources.append((child, lookup))
    # One query for every source's rows and the people who uploaded them (bulk_rows).
    from django.db.models import Q

    from qms.audit.rows import RowRequest, bulk_rows

    requests, people_match, user_model = [], Q(pk__in=[]), None
    uploaders = {}
    for index, (model, lookup) in enumerate(sources):
        queryset = model._base_manager.filter(**{lookup: record.pk})
        requests.append(RowRequest(index, queryset))
        uploader = next(
            (f for f in ("uploaded_by", "author", "created_by") if _has_field(model, f)), None
        )
        uploaders[index] = uploader
        if uploader:
            user_model = model._meta.get_field(uploader).related_model
            people_match |= Q(pk__in=queryset.values(f"{uploader}_id"))
    if user_model is not None:
        requests.append(RowRequest("people", user_model._base_manager.filter(people_match)))
    fetched = bulk_rows(requests)
    people = {person.pk: person for person, _extra in fetched.get("people", [])}
    rows = []
    for index, (model, _lookup) in enumerate(sources):
        file_fields = _file_fields(model)
        uploader = uploaders[index]
        for obj in sorted((row for row, _extra in fetched.get(index, [])), key=lambda o: o.pk):
            for f in file_fields:
                stored = getattr(obj, f.name)
                if not stored:
                    continue
                who = people.get(getattr(obj, f"{uploader}_id")) if uploader else None
                when = getattr(obj, "uploaded_at", None)
                rows.append(
                    [
                        capfirst(model._meta.verbose_name),
                        getattr(obj, "original_name", "") or Path(stored.name).name,
                        f"{obj.size:,} bytes" if getattr(obj, "size", None) is not None else EMPTY,
                        getattr(obj, "sha256", "") or EMPTY,
                        " ".join(
                            part
                            for part in (
                                who.full_name if who is not None else "",
                                format_datetime(when) if when else "",
                            )
                            if part
                        )
                        or EMPTY,
                    ]
                )
    return DossierSection(
        "Attachments",
        ["Kind", "File", "Size", "SHA-256", "Uploaded"],
        rows,
        empty="No files attached.",
        widths=[0.14, 0.22, 0.12, 0.3, 0.22],
    )


def _file_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def dossier_sections(record) -> list[DossierSection]:
    resolver = record_resolver(record)
    sections = [
        record_fields_section(record, resolver),
        linked_records_section(record, resolver),
        attachments_section(record),
    ]
    for section in dossier_sections_for(record):
        sections.append(
            section if isinstance(section, DossierSection) else DossierSection(**section)
        )
    return sections


def file_history(record, *, limit: int = 10_000):
    """The history entries of the records filed under `record` (its attachments,
    communications ...: registry.trail_children), newest first; None for a record type that has
    no children or no human key. Read through the audit trail's record filter, so they are the
    trail's own entries and diffs."""
    from qms.audit import registry
    from qms.audit.selectors import AuditTrail, TrailFilter

    label = record._meta.label_lower
    keys = registry.unique_text_fields(type(record))
    if not registry.trail_children(label) or not keys:
        return None
    trail = AuditTrail(TrailFilter(record=getattr(record, keys[0])))
    return [
        entry
        for entry in trail.iter_entries(limit=limit)
        if entry.kind == "history" and entry.parent_model == label and entry.parent_id == record.pk
    ]


def dossier_pdf(record, *, user, verification) -> bytes:
    from qms.audit.selectors import record_history, signatures_and_transitions

    styles = _styles()
    buffer = io.BytesIO()
    page = A4
    title = f"Dossier: {record._meta.verbose_name} {record}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=exporter_text(user),
    )
    width = page[0] - doc.leftMargin - doc.rightMargin
    story = [
        _p(f"Record dossier: {capfirst(record._meta.verbose_name)} {record}", styles["title"]),
        _meta_table(
            [
                ("Organisation", settings.QMS_ORGANISATION_NAME),
                (
                    "Record",
                    f"{capfirst(record._meta.verbose_name)} #{record.pk} ({record._meta.label_lower})",
                ),
                ("Exported at", format_datetime(timezone.now())),
                ("Exported by", exporter_text(user)),
                ("Verification", _verification_paragraph(verification, styles)),
            ],
            styles,
            width,
        ),
    ]
    for section in dossier_sections(record):
        story.append(_p(section.title, styles["h2"]))
        if section.rows:
            share = width / len(section.columns)
            if section.widths:
                widths = [width * f for f in section.widths]
            elif len(section.columns) == 2:
                widths = [width * 0.3, width * 0.7]
            else:
                widths = [share] * len(section.columns)
            story.append(_data_table(section.columns, section.rows, widths, styles))
        else:
            story.append(_p(section.empty, styles["body"]))

    story.append(_p("History", styles["h2"]))
    history = record_history(record, limit=10_000)
    if history:
        rows = [
            [
                format_datetime(e.at),
                e.user_name,
                e.action_label,
                _changes_text(e) or EMPTY,
                e.reason,
            ]
            for e in history
        ]
        story.append(
            _data_table(
                ["When", "Who", "Action", "What changed", "Why"],
                rows,
                [width * f for f in (0.17, 0.13, 0.11, 0.37, 0.22)],
                styles,
            )
        )
    else:
        story.append(_p("No history.", styles["body"]))

    children = file_history(record)
    if children is not None:
        story.append(_p("History of the records filed under it", styles["h2"]))
        if children:
            rows = [
                [
                    format_datetime(e.at),
                    e.user_name,
                    e.action_label,
                    f"{e.model_label}: {e.object_repr}",
                    _changes_text(e) or EMPTY,
                    e.reason,
                ]
                for e in children
            ]
            story.append(
                _data_table(
                    ["When", "Who", "Action", "Record", "What changed", "Why"],
                    rows,
                    [width * f for f in (0.15, 0.12, 0.1, 0.17, 0.28, 0.18)],
                    styles,
                )
            )
        else:
            story.append(_p("None.", styles["body"]))

    story.append(_p("Electronic signatures", styles["h2"]))
    # The signatures, workflow steps and their people in one query.
    signatures, transitions = signatures_and_transitions(record)
    if signatures:
        current = content_hash(signed_content(record))
        rows = [
            [
                format_datetime(s.signed_at),
                f"{s.signer_name}\n{s.signer.get_username()}",
                s.meaning,
                s.reason,
                f"SHA-256 {s.content_hash}\n"
                + ("hash still matches the signed content" if s.hash_matches else "HASH MISMATCH")
                + (
                    "; record unchanged since signing"
                    if s.content_hash == current
                    else "; record changed since signing"
                ),
            ]
            for s in signatures
        ]
        story.append(
            _data_table(
                ["Signed at", "Signer", "Meaning", "Reason", "Content hash"],
                rows,
                [width * f for f in (0.16, 0.15, 0.14, 0.2, 0.35)],
                styles,
            )
        )
    else:
        story.append(_p("No electronic signatures.", styles["body"]))

    story.append(_p("Workflow transitions", styles["h2"]))
    if transitions:
        rows = [
            [
                format_datetime(t.at),
                t.actor.full_name,
                t.action.replace("_", " "),
                f"{t.from_state} -> {t.to_state}",
                t.reason,
                "yes" if t.signature_id else "",
            ]
            for t in transitions
        ]
        story.append(
            _data_table(
                ["At", "By", "Action", "State", "Reason", "Signed"],
                rows,
                [width * f for f in (0.17, 0.15, 0.13, 0.2, 0.27, 0.08)],
                styles,
            )
        )
    else:
        story.append(_p("No workflow transitions.", styles["body"]))
    doc.build(story, onFirstPage=_footer(title), onLaterPages=_footer(title))
    return buffer.getvalue()
