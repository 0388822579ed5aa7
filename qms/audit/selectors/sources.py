"""The sources merged into the trail: every historical table, the signatures, the security events."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.utils.text import capfirst

from qms.audit import registry, search
from qms.audit.display import (
    RelatedResolver,
    TrailEntry,
    build_history_entries,
    prepare_history_rows,
    record_url,
)
from qms.audit.rows import RowRequest, bulk_rows
from qms.audit.selectors.filters import (
    HISTORY_TYPE_FILTERS,
    SECURITY_TYPE,
    SIGNATURE_TYPE,
    TrailFilter,
    record_match,
)
from qms.models import SecurityEvent, Signature


class HistorySource:
    kind = "history"
    date_field = "history_date"
    key_field = "history_id"

    def __init__(self, historical_model):
        self.model = historical_model
        self.live = historical_model.instance_type
        self.label = self.live._meta.label_lower

    def queryset(self, flt: TrailFilter, *, user_ids=None, record_ids=None, text_user_ids=None):
        if flt.model and flt.model != self.label:
            return None
        if flt.text and text_user_ids is None:
            text_user_ids = search.users_named(flt.text)
        qs = self.model._base_manager.all()
        if flt.record:
            if flt.record.isdigit():
                qs = qs.filter(id=int(flt.record))
            else:
                match = record_match(self.live, record_ids, own="id")
                if match is None:
                    return None
                qs = qs.filter(match)
        if user_ids is not None:
            qs = qs.filter(history_user_id__in=user_ids)
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
            # Indexed (qms.audit.search); the acting user's name through the users' table.
            qs = search.text_filter(
                qs,
                self.model,
                flt.text,
                or_match=Q(history_user_id__in=text_user_ids) if text_user_ids else None,
            )
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(
            trail_src=Value(index), trail_key=F("history_id"), trail_at=F("history_date")
        ).values_list("trail_src", "trail_key", "trail_at")

    def load(self, history_ids) -> dict[int, TrailEntry]:
        """The entries of these rows of this one table (three to five queries)."""
        fetched = bulk_rows(self.row_requests(0, history_ids))
        resolver = RelatedResolver()
        prepared = self.prepare(fetched, 0, history_ids, resolver)
        resolver.resolve()
        return self.build(prepared, resolver)

    def row_requests(self, src: int, history_ids) -> list[RowRequest]:
        """The page's rows, each with the id of the row it is diffed against (an index lookup
        per page row inside the same query), those older rows, and the many-to-many sets of
        both."""
        manager = self.model._base_manager
        older = Subquery(
            manager.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
            .order_by("-history_id")
            .values("history_id")[:1]
        )
        page = manager.filter(history_id__in=history_ids)
        previous_ids = Subquery(page.annotate(previous_id=older).values("previous_id"))
        requests = [
            RowRequest((src, "page"), page, extra=older),
            RowRequest((src, "previous"), manager.filter(history_id__in=previous_ids)),
        ]
        for m2m_field, through, _target in registry.m2m_history(self.model):
            rows = through._base_manager.filter(
                Q(history_id__in=history_ids) | Q(history_id__in=previous_ids)
            )
            requests.append(RowRequest((src, "m2m", m2m_field.name), rows))
        return requests

    def prepare(self, fetched, src: int, history_ids, resolver: RelatedResolver) -> list:
        rows = {
            row.history_id: (row, previous_id)
            for row, previous_id in fetched.get((src, "page"), [])
        }
        previous_rows = {row.history_id: row for row, _ in fetched.get((src, "previous"), [])}
        m2m_sets: dict = defaultdict(set)
        for m2m_field, through, target in registry.m2m_history(self.model):
            target_attname = through._meta.get_field(target).attname
            for row, _ in fetched.get((src, "m2m", m2m_field.name), []):
                m2m_sets[(m2m_field.name, row.history_id)].add(getattr(row, target_attname))
        user_model = self.model._meta.get_field("history_user").related_model
        root = registry.trail_root(self.live)
        pairs = []
        for hid in history_ids:
            if hid in rows:
                row, previous_id = rows[hid]
                resolver.want(user_model, row.history_user_id)
                if root is not None:
                    resolver.want_path(root[0], getattr(row, root[1][0].attname), root[1])
                pairs.append((self.model, row, previous_rows.get(previous_id), m2m_sets))
        return prepare_history_rows(pairs, resolver)

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        user_field = self.model._meta.get_field("history_user")
        for _model, row, _changes in prepared:
            user_field.set_cached_value(
                row, resolver.get(user_field.related_model, row.history_user_id)
            )
        entries = {entry.history_id: entry for entry in build_history_entries(prepared, resolver)}
        root = registry.trail_root(self.live)
        if root is not None:
            root_label = root[0]._meta.label_lower
            for _model, row, _changes in prepared:
                parent = resolver.get_path(getattr(row, root[1][0].attname), root[1])
                entry = entries[row.history_id]
                entry.parent_model = root_label
                if parent is not None:
                    entry.parent_id = parent.pk
                    entry.parent_repr = str(parent)
                    entry.parent_url = record_url(root_label, parent.pk)
        return entries


class SignatureSource:
    kind = "signature"
    date_field = "signed_at"
    key_field = "id"

    def queryset(self, flt: TrailFilter, *, user_ids=None, record_ids=None, text_user_ids=None):
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
                wanted = []  # (model, object ids: a list, or a subquery of a child's ids)
                for label, ids in (record_ids or {}).items():
                    live = registry.historical_model_for(label).instance_type
                    if flt.model in ("", SIGNATURE_TYPE, label):
                        wanted.append((live, ids))
                    # The signatures of the record's children (a version's approval under its
                    # document) are part of its file too.
                    for child, lookup in registry.trail_children(label):
                        if flt.model in ("", SIGNATURE_TYPE, child._meta.label_lower):
                            children = child._base_manager.filter(**{f"{lookup}__in": ids})
                            wanted.append((child, children.values("pk")))
                # One query for the content types not cached yet, not one per model.
                types = ContentType.objects.get_for_models(*{m for m, _ids in wanted})
                match = Q(pk__in=[])
                for model, ids in wanted:
                    match |= Q(content_type=types[model], object_id__in=ids)
                qs = qs.filter(match)
        if user_ids is not None:
            qs = qs.filter(signer_id__in=user_ids)
        if flt.since:
            qs = qs.filter(signed_at__gte=flt.since)
        if flt.until:
            qs = qs.filter(signed_at__lt=flt.until)
        if flt.text:
            # Indexed (qms.audit.search); the signer's user name through the users' table.
            if text_user_ids is None:
                text_user_ids = search.users_named(flt.text)
            qs = search.columns_filter(
                qs,
                search.SIGNATURE_COLUMNS,
                flt.text,
                or_match=Q(signer_id__in=text_user_ids) if text_user_ids else None,
            )
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(
            trail_src=Value(index), trail_key=F("id"), trail_at=F("signed_at")
        ).values_list("trail_src", "trail_key", "trail_at")

    def row_requests(self, src: int, ids) -> list[RowRequest]:
        return [RowRequest((src, "page"), Signature.objects.filter(id__in=ids))]

    def prepare(self, fetched, src: int, ids, resolver: RelatedResolver) -> list:
        signatures = [sig for sig, _ in fetched.get((src, "page"), [])]
        user_model = Signature._meta.get_field("signer").related_model
        for sig in signatures:
            resolver.want(user_model, sig.signer_id)
        return signatures

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        entries = {}
        signer_field = Signature._meta.get_field("signer")
        for sig in prepared:
            signer_field.set_cached_value(
                sig, resolver.get(signer_field.related_model, sig.signer_id)
            )
            model = ContentType.objects.get_for_id(sig.content_type_id).model_class()
            label = model._meta.label_lower if model else ""
            matches = sig.hash_matches
            entries[sig.id] = TrailEntry(
                kind="signature",
                at=sig.signed_at,
                username=sig.signer.get_username() if sig.signer else "",
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
    date_field = "at"
    key_field = "id"

    def queryset(self, flt: TrailFilter, *, user_ids=None, record_ids=None):
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
            qs = search.columns_filter(qs, search.SECURITY_COLUMNS, flt.text)
        return qs

    def keys(self, qs, index: int):
        return qs.annotate(trail_src=Value(index), trail_key=F("id"), trail_at=F("at")).values_list(
            "trail_src", "trail_key", "trail_at"
        )

    def row_requests(self, src: int, ids) -> list[RowRequest]:
        return [RowRequest((src, "page"), SecurityEvent.objects.filter(id__in=ids))]

    def prepare(self, fetched, src: int, ids, resolver: RelatedResolver) -> list:
        return [event for event, _ in fetched.get((src, "page"), [])]

    def build(self, prepared, resolver: RelatedResolver) -> dict[int, TrailEntry]:
        entries = {}
        for event in prepared:
            where = " · ".join(
                part
                for part in (event.path, f"from {event.ip_address}" if event.ip_address else "")
                if part
            )
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
    return [
        *(HistorySource(h) for h in registry.historical_models()),
        SignatureSource(),
        SecuritySource(),
    ]
