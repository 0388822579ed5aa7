"""The audit trail as one list across every history table, the signatures and the security
events, newest first.

Cost (ARCHITECTURE.md rule 6): a page costs one COUNT and one UNION ALL of (source, key, at)
across the filtered tables, ordered and limited in SQL; then one query per table that has
rows on the page (the rows and the rows they are diffed against together), one per tracked
many-to-many field of those tables, and one per related model named in the page's changes.
None of these grows with the number of entries on the page or in the tables.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.utils.text import capfirst

from qms.audit import registry
from qms.audit.display import (
    RelatedResolver,
    TrailEntry,
    build_history_entries,
    load_m2m_sets,
    prepare_history_rows,
    record_url,
)
from qms.models import SecurityEvent, Signature
from qms.signatures import content_hash, signatures_for, signed_content

SIGNATURE_TYPE = "qms.signature"
SECURITY_TYPE = "qms.securityevent"
HISTORY_TYPE_FILTERS = {"created": Q(history_type="+"), "deleted": Q(history_type="-"), "changed": Q(history_type="~", history_action="")}


@dataclass(frozen=True)
class TrailFilter:
    """What the auditor asked for. Empty values do not filter."""

    model: str = ""  # a regulated model's label ("qms.user"), SIGNATURE_TYPE or SECURITY_TYPE
    record: str = ""  # an object id, or a record's key (reference, number, username ...)
    user: str = ""  # a username
    action: str = ""  # created, changed, deleted, a workflow action, signed, or a security event kind
    since: datetime.datetime | None = None  # inclusive
    until: datetime.datetime | None = None  # exclusive
    text: str = ""

    def describe(self) -> str:
        parts = []
        for label, value in (
            ("record type", record_type_label(self.model) if self.model else ""),
            ("record", self.record),
            ("user", self.user),
            ("action", self.action),
            ("from", self.since.isoformat() if self.since else ""),
            ("before", self.until.isoformat() if self.until else ""),
            ("text", self.text),
        ):
            if value:
                parts.append(f"{label}: {value}")
        return "; ".join(parts) or "none (the whole trail)"


def record_types() -> list[tuple[str, str]]:
    """(value, label) of the record-type filter: every regulated model, then signatures and
    security events."""
    types = [
        (h.instance_type._meta.label_lower, f"{capfirst(h.instance_type._meta.verbose_name)} ({h.instance_type._meta.app_config.verbose_name})")
        for h in registry.historical_models()
    ]
    types.sort(key=lambda pair: pair[1].lower())
    return [*types, (SIGNATURE_TYPE, "Electronic signatures"), (SECURITY_TYPE, "Security events (log-in, denied access)")]


def record_type_label(value: str) -> str:
    return dict(record_types()).get(value, value)


def _record_ids_q(model, record: str, *, field_prefix: str = "") -> Q | None:
    """Rows of `model` (or its history) that are the record named by `record`: an id, or a
    unique key such as a reference. None: this model has no such record."""
    if record.isdigit():
        return Q(**{f"{field_prefix}id": int(record)})
    keys = registry.unique_text_fields(model)
    if not keys:
        return None
    match = Q()
    for key in keys:
        match |= Q(**{f"{key}__iexact": record})
    return match


class HistorySource:
    kind = "history"

    def __init__(self, historical_model):
        self.model = historical_model
        self.live = historical_model.instance_type
        self.label = self.live._meta.label_lower

    def queryset(self, flt: TrailFilter):
        if flt.model and flt.model != self.label:
            return None
        qs = self.model._base_manager.all()
        if flt.record:
            match = _record_ids_q(self.live, flt.record)
            if match is None:
                return None
            if flt.record.isdigit():
                qs = qs.filter(match)
            else:
                qs = qs.filter(id__in=Subquery(self.model._base_manager.filter(match).values("id")))
        if flt.user:
            qs = qs.filter(history_user__username__iexact=flt.user)
        if flt.action:
            if flt.action in HISTORY_TYPE_FILTERS:
                qs = qs.filter(HISTORY_TYPE_FILTERS[flt.action])
            elif flt.action == "signed" or flt.action in SecurityEvent.Kind.values:
                return None
            else:
                qs = qs.filter(history_type="~", history_action=flt.action)
        if flt.since:
            qs = qs.filter(history_date__gte=flt.since)
        if flt.until:
            qs = qs.filter(history_date__lt=flt.until)
        if flt.text:
            text = Q(history_change_reason__icontains=flt.text) | Q(history_user__username__icontains=flt.text)
            for f in registry.tracked_fields(self.model):
                if isinstance(f, models.CharField | models.TextField) and not f.choices:
                    text |= Q(**{f"{f.name}__icontains": flt.text})
            qs = qs.filter(text)
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(trail_src=Value(index), trail_key=F("history_id"), trail_at=F("history_date")).values_list("trail_src", "trail_key", "trail_at")

    def load(self, history_ids, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        prepared = self.prepare(history_ids, resolver)
        resolver.resolve()
        return self.build(prepared, resolver)

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        return {entry.history_id: entry for entry in build_history_entries(prepared, resolver)}

    def prepare(self, history_ids, resolver: RelatedResolver) -> list:
        """The page's rows of this table, each with the id of the row it is diffed against
        (an index lookup per page row, inside one query), then those older rows in one more."""
        older = (
            self.model._base_manager.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
            .order_by("-history_id")
            .values("history_id")[:1]
        )
        page_rows = list(
            self.model._base_manager.filter(history_id__in=history_ids)
            .annotate(previous_history_id=Subquery(older))
            .select_related("history_user")
        )
        previous_ids = {row.previous_history_id for row in page_rows if row.previous_history_id}
        previous_rows = {row.history_id: row for row in self.model._base_manager.filter(history_id__in=previous_ids)} if previous_ids else {}
        m2m_sets = load_m2m_sets(self.model, [row.history_id for row in page_rows] + list(previous_rows))
        rows = {row.history_id: row for row in page_rows}
        pairs = [
            (self.model, rows[hid], previous_rows.get(rows[hid].previous_history_id), m2m_sets)
            for hid in history_ids
            if hid in rows
        ]
        return prepare_history_rows(pairs, resolver)


class SignatureSource:
    kind = "signature"

    def queryset(self, flt: TrailFilter):
        if flt.action and flt.action != "signed":
            return None
        qs = Signature.objects.all()
        if flt.model and flt.model != SIGNATURE_TYPE:
            historical = registry.historical_model_for(flt.model)
            if historical is None:
                return None
            qs = qs.filter(content_type=ContentType.objects.get_for_model(historical.instance_type))
        if flt.record:
            if flt.record.isdigit():
                qs = qs.filter(object_id=int(flt.record))
            else:
                match = Q(pk__in=[])
                for historical in registry.historical_models():
                    live = historical.instance_type
                    if flt.model not in ("", SIGNATURE_TYPE, live._meta.label_lower):
                        continue
                    key_q = _record_ids_q(live, flt.record)
                    if key_q is not None:
                        match |= Q(
                            content_type=ContentType.objects.get_for_model(live),
                            object_id__in=Subquery(live._base_manager.filter(key_q).values("pk")),
                        )
                qs = qs.filter(match)
        if flt.user:
            qs = qs.filter(signer__username__iexact=flt.user)
        if flt.since:
            qs = qs.filter(signed_at__gte=flt.since)
        if flt.until:
            qs = qs.filter(signed_at__lt=flt.until)
        if flt.text:
            qs = qs.filter(
                Q(record_repr__icontains=flt.text)
                | Q(meaning__icontains=flt.text)
                | Q(reason__icontains=flt.text)
                | Q(signer_name__icontains=flt.text)
                | Q(signer__username__icontains=flt.text)
            )
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(trail_src=Value(index), trail_key=F("id"), trail_at=F("signed_at")).values_list("trail_src", "trail_key", "trail_at")

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        return prepared

    def prepare(self, ids, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        entries = {}
        for sig in Signature.objects.filter(id__in=ids).select_related("signer"):
            model = ContentType.objects.get_for_id(sig.content_type_id).model_class()
            label = model._meta.label_lower if model else ""
            matches = sig.hash_matches
            entries[sig.id] = TrailEntry(
                kind="signature",
                at=sig.signed_at,
                username=sig.signer.get_username(),
                user_name=sig.signer_name,
                action="signed",
                label=f"Signed ({sig.meaning})",
                reason=sig.reason,
                model=label,
                model_label=capfirst(model._meta.verbose_name) if model else "",
                object_id=sig.object_id,
                object_repr=sig.record_repr,
                detail=f"Meaning: {sig.meaning}",
                hash_matches=matches,
                content_hash=sig.content_hash,
                url=record_url(label, sig.object_id) if model else "",
            )
        return entries


class SecuritySource:
    kind = "security"

    def queryset(self, flt: TrailFilter):
        if flt.model and flt.model != SECURITY_TYPE:
            return None
        if flt.record:
            return None
        qs = SecurityEvent.objects.all()
        if flt.action:
            if flt.action not in SecurityEvent.Kind.values:
                return None
            qs = qs.filter(kind=flt.action)
        if flt.user:
            qs = qs.filter(username__iexact=flt.user)
        if flt.since:
            qs = qs.filter(at__gte=flt.since)
        if flt.until:
            qs = qs.filter(at__lt=flt.until)
        if flt.text:
            qs = qs.filter(Q(username__icontains=flt.text) | Q(detail__icontains=flt.text) | Q(path__icontains=flt.text))
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(trail_src=Value(index), trail_key=F("id"), trail_at=F("at")).values_list("trail_src", "trail_key", "trail_at")

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        return prepared

    def prepare(self, ids, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        entries = {}
        for event in SecurityEvent.objects.filter(id__in=ids):
            where = " · ".join(part for part in (event.path, f"from {event.ip_address}" if event.ip_address else "") if part)
            entries[event.id] = TrailEntry(
                kind="security",
                at=event.at,
                username=event.username,
                user_name=event.username or "anonymous",
                action=event.kind,
                reason=event.detail,
                model=SECURITY_TYPE,
                model_label="Security event",
                object_id=None,
                object_repr=event.get_kind_display(),
                detail=where,
                label=event.get_kind_display(),
            )
        return entries


def trail_sources() -> list:
    return [*(HistorySource(h) for h in registry.historical_models()), SignatureSource(), SecuritySource()]


class AuditTrail:
    """The filtered trail as a lazy sequence: `count()` and slicing, so Django's Paginator and
    DRF's pagination page it without knowing it spans many tables."""

    def __init__(self, flt: TrailFilter):
        self.filter = flt
        self.sources = trail_sources()
        self._parts = []
        for index, source in enumerate(self.sources):
            qs = source.queryset(flt)
            if qs is not None:
                self._parts.append(source.keys(qs.order_by(), index))
        self._union = self._parts[0].union(*self._parts[1:], all=True) if self._parts else None
        self._count = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._union.count() if self._union is not None else 0
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        if isinstance(item, int):
            return self[item : item + 1][0]
        start, stop = item.start or 0, item.stop
        if self._union is None or (stop is not None and stop <= start):
            return []
        return self.load(self._page_keys(start, stop))

    def _page_keys(self, start: int, stop: int | None) -> list:
        """(source, key, at) of the page, newest first. Each table gives at most `stop` of its
        newest rows (an index scan on its date), so the merge sorts tables x stop rows, not
        every row of every table."""
        order = ("-trail_at", "-trail_src", "-trail_key")
        if stop is None:
            return list(self._union.order_by(*order)[start:])
        if len(self._parts) == 1:
            return list(self._parts[0].order_by(*order)[start:stop])
        branches = [part.order_by("-trail_at", "-trail_key")[:stop] for part in self._parts]
        return list(branches[0].union(*branches[1:], all=True).order_by(*order)[start:stop])

    def load(self, keys) -> list[TrailEntry]:
        wanted = defaultdict(list)
        for src, key, _at in keys:
            wanted[src].append(key)
        # Every table's rows first, then every related object of the page in one query per
        # related model, then the readable entries.
        resolver = RelatedResolver()
        prepared = {src: self.sources[src].prepare(ids, resolver) for src, ids in wanted.items()}
        resolver.resolve()
        loaded = {src: self.sources[src].build(prepared[src], resolver) for src in wanted}
        return [loaded[src][key] for src, key, _at in keys if key in loaded[src]]


def audit_trail(flt: TrailFilter) -> AuditTrail:
    return AuditTrail(flt)


def record_history(record, *, limit: int = 200) -> list[TrailEntry]:
    """One record's history entries, newest first, with readable diffs (fixed queries)."""
    historical = registry.historical_model_for(record._meta.label_lower)
    if historical is None:
        return []
    ids = list(historical._base_manager.filter(id=record.pk).order_by("-history_id").values_list("history_id", flat=True)[:limit])
    entries = HistorySource(historical).load(ids, RelatedResolver())
    return [entries[hid] for hid in ids if hid in entries]


def signatures_with_checks(record) -> list:
    """The record's signatures, each told whether its hash still matches the content that was
    signed (integrity) and whether the record still has that content today."""
    current = content_hash(signed_content(record))
    signatures = list(signatures_for(record))
    for sig in signatures:
        sig.matches_record_now = sig.content_hash == current
    return signatures


def actions_for_filter() -> list[tuple[str, str]]:
    """(value, label) of the action filter: record actions, workflow actions seen so far,
    signatures and security events."""
    from qms.models import Transition

    workflow_actions = sorted(set(Transition.objects.values_list("action", flat=True).distinct()) | {"set_roles"})
    return [
        ("created", "Created"),
        ("changed", "Changed (edit)"),
        ("deleted", "Deleted"),
        *((code, capfirst(code.replace("_", " "))) for code in workflow_actions),
        ("signed", "Signed (electronic signature)"),
        *((code, str(label)) for code, label in SecurityEvent.Kind.choices),
    ]
