"""The audit trail as one list across every history table, the signatures and the security
events, newest first.

Cost (docs/architecture.md rule 6): a page costs one UNION ALL of (source, key, at) across the
filtered tables, each arm ordered by its date index and limited to the page (no COUNT of the
trail); then one query for the rows of every table on the page (with the rows they are
diffed against and their many-to-many sets, see qms.audit.rows), and at most three for the
objects their changes name. None of these grows with the number of entries on the page, the
number of tables it spans, or the size of the tables.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
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
from qms.audit.rows import RowRequest, bulk_rows, link_related
from qms.models import SecurityEvent, Signature, Transition
from qms.pagination import planner_estimate
from qms.signatures import content_hash, signatures_for, signed_content

SIGNATURE_TYPE = "qms.signature"
SECURITY_TYPE = "qms.securityevent"
HISTORY_TYPE_FILTERS = {
    "created": Q(history_type="+"),
    "deleted": Q(history_type="-"),
    "changed": Q(history_type="~", history_action=""),
}


@dataclass(frozen=True)
class TrailFilter:
    """What the auditor asked for. Empty values do not filter."""

    model: str = ""  # a regulated model's label ("qms.user"), SIGNATURE_TYPE or SECURITY_TYPE
    record: str = ""  # an object id, or a record's key (reference, number, username ...)
    user: str = ""  # a username
    action: str = (
        ""  # created, changed, deleted, a workflow action, signed, or a security event kind
    )
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
        (
            h.instance_type._meta.label_lower,
            f"{capfirst(h.instance_type._meta.verbose_name)} ({h.instance_type._meta.app_config.verbose_name})",
        )
        for h in registry.historical_models()
    ]
    types.sort(key=lambda pair: pair[1].lower())
    return [
        *types,
        (SIGNATURE_TYPE, "Electronic signatures"),
        (SECURITY_TYPE, "Security events (log-in, denied access)"),
    ]


def record_type_label(value: str) -> str:
    return dict(record_types()).get(value, value)


def resolve_names(
    *, username: str = "", key: str = ""
) -> tuple[list | None, dict[str, list] | None]:
    """(ids of the user named `username`, {model label: ids} of the records whose human key
    (reference, number, username ...) is `key`), in one query on the live tables' unique
    indexes, so that every history table is then filtered on an indexed id column. A key
    matches as typed, upper-cased or lower-cased. None where that filter is not given."""
    user_model = get_user_model()
    arms = []  # (label or None for the user filter, queryset of (arm index, pk))
    if username:
        arms.append((None, user_model._base_manager.filter(username__iexact=username)))
    if key:
        spellings = sorted({key, key.upper(), key.lower()})
        for historical in registry.historical_models():
            live = historical.instance_type
            fields = registry.unique_text_fields(live)
            if fields:
                match = Q()
                for name in fields:
                    match |= Q(**{f"{name}__in": spellings})
                arms.append((live._meta.label_lower, live._base_manager.filter(match)))
    if not arms:
        return None, None
    parts = [
        qs.annotate(trail_arm=Value(index)).values_list("trail_arm", "pk").order_by()
        for index, (_label, qs) in enumerate(arms)
    ]
    user_ids = [] if username else None
    record_ids: dict[str, list] | None = {} if key else None
    for index, pk in parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]:
        label = arms[index][0]
        if label is None:
            user_ids.append(pk)
        else:
            record_ids.setdefault(label, []).append(pk)
    return user_ids, record_ids


def record_match(live, record_ids, *, own: str) -> Q | None:
    """The rows of `live`'s history (or `live` itself) that belong to the records named by
    the record filter: those records themselves (`own` is the id column), and the children
    filed under them (an attachment under its complaint, registry.trail_root). None when the
    filter names nothing of this table."""
    record_ids = record_ids or {}
    match = None
    ids = record_ids.get(live._meta.label_lower)
    if ids:
        match = Q(**{f"{own}__in": ids})
    root = registry.trail_root(live)
    if root is not None:
        root_ids = record_ids.get(root[0]._meta.label_lower)
        if root_ids:
            names = [f.name for f in root[1]]
            lookup = "__".join([*names[:-1], root[1][-1].attname])
            child = Q(**{f"{lookup}__in": root_ids})
            match = child if match is None else match | child
    return match


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
                qs, self.model, flt.text,
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

    def queryset(self, flt: TrailFilter, *, user_ids=None, record_ids=None):
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
            qs = qs.filter(
                Q(record_repr__icontains=flt.text)
                | Q(meaning__icontains=flt.text)
                | Q(reason__icontains=flt.text)
                | Q(signer_name__icontains=flt.text)
                | Q(signer__username__icontains=flt.text)
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
            qs = qs.filter(
                Q(username__icontains=flt.text)
                | Q(detail__icontains=flt.text)
                | Q(path__icontains=flt.text)
            )
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


# ---------------------------------------------------------------- paging

# Rows of the merged trail are ordered newest first by (at, source index, key): the source
# index breaks ties between tables, the row's id ties inside one table.
_CURSOR = re.compile(r"^(\d{1,4})-(\d{1,19})-(-?\d{1,19})$")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def encode_cursor(key) -> str:
    """An opaque, URL-safe position in the trail: `<source>-<row id>-<microseconds>`."""
    src, row_key, at = key
    delta = at - _EPOCH
    return (
        f"{src}-{row_key}-{(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds}"
    )


def decode_cursor(text: str, sources: int):
    """(source, key, at) of a cursor made by encode_cursor, or None when it is not one."""
    match = _CURSOR.match(text or "")
    if not match:
        return None
    src, key, micros = (int(part) for part in match.groups())
    if src >= sources:
        return None
    try:
        at = _EPOCH + datetime.timedelta(microseconds=micros)
    except OverflowError:
        return None
    return src, key, at


@dataclass
class TrailPage:
    """One page of the trail read with a cursor (no total count: see AuditTrail)."""

    entries: list
    has_older: bool
    has_newer: bool
    older_cursor: str = ""  # pass as `before` for the next (older) page
    newer_cursor: str = ""  # pass as `after` for the previous (newer) page

    @property
    def first(self):
        return self.entries[0] if self.entries else None

    @property
    def last(self):
        return self.entries[-1] if self.entries else None


class AuditTrail:
    """The filtered trail, newest first, across every history table, the signatures and the
    security events.

    Cost at any size of the tables: every read is one UNION ALL whose arms are each
    `ORDER BY <date> DESC LIMIT n` on that table's date index (an index scan that stops after
    n rows), merged and cut to n. No read counts the whole trail: pages are read by cursor
    (`page()`), or by offset for the API (`keys()`, bounded by the caller); `estimated_count()`
    is the planner's estimate, labelled as such wherever it is shown."""

    def __init__(self, flt: TrailFilter):
        self.filter = flt
        self.sources = trail_sources()
        self._arms = []  # (source index, filtered queryset of (trail_src, trail_key, trail_at))
        user_ids, record_ids = resolve_names(
            username=flt.user, key=flt.record if not flt.record.isdigit() else ""
        )
        # The users whose name holds the free text, read once for every history table (a list,
        # so each table's text condition stays an index condition).
        text_user_ids = search.users_named(flt.text) if flt.text else None
        for index, source in enumerate(self.sources):
            if user_ids is not None and not user_ids and source.kind != "security":
                continue
            if source.kind == "history":
                qs = source.queryset(flt, user_ids=user_ids, record_ids=record_ids, text_user_ids=text_user_ids)
            else:
                qs = source.queryset(flt, user_ids=user_ids, record_ids=record_ids)
            if qs is not None:
                self._arms.append((index, source.keys(qs.order_by(), index)))

    @property
    def is_empty(self) -> bool:
        return not self._arms

    # -- reads

    def keys(self, start: int, stop: int, *, cursor=None, newer: bool = False) -> list:
        """(source, key, at) of rows start..stop, newest first (oldest first when `newer`),
        after `cursor` in that direction. Each table gives at most `stop` rows."""
        if not self._arms or stop <= start:
            return []
        sign = "" if newer else "-"
        arms = []
        for index, qs in self._arms:
            source = self.sources[index]
            if cursor is not None:
                qs = qs.filter(self._beyond(source, index, cursor, newer))
            qs = qs.order_by(f"{sign}trail_at", f"{sign}trail_key")[:stop]
            arms.append(qs)
        order = (f"{sign}trail_at", f"{sign}trail_src", f"{sign}trail_key")
        if len(arms) == 1:
            return list(arms[0][start:stop])
        if not connection.features.supports_slicing_ordering_in_compound:
            # SQLite (make run) refuses LIMIT inside a UNION's arms: merge the arms here.
            rows = sorted((row for qs in arms for row in qs), key=lambda r: (r[2], r[0], r[1]), reverse=not newer)
            return rows[start:stop]
        return list(arms[0].union(*arms[1:], all=True).order_by(*order)[start:stop])

    @staticmethod
    def _beyond(source, index: int, cursor, newer: bool) -> Q:
        """Rows of this source past `cursor` in the trail's order. Written as a range on the
        date (the index condition) minus the cursor's own instant where ties are decided by
        the source and the key."""
        src, key, at = cursor
        date, pk = source.date_field, source.key_field
        if not newer:
            if index < src:
                return Q(**{f"{date}__lte": at})
            if index > src:
                return Q(**{f"{date}__lt": at})
            return Q(**{f"{date}__lte": at}) & ~Q(**{date: at, f"{pk}__gte": key})
        if index > src:
            return Q(**{f"{date}__gte": at})
        if index < src:
            return Q(**{f"{date}__gt": at})
        return Q(**{f"{date}__gte": at}) & ~Q(**{date: at, f"{pk}__lte": key})

    def page(self, size: int, *, before=None, after=None) -> TrailPage:
        """`size` entries: the newest, those older than `before`, or those newer than `after`
        (cursors from decode_cursor). One read of size + 1 keys tells whether more exist."""
        if after is not None:
            keys = self.keys(0, size + 1, cursor=after, newer=True)
            has_newer = len(keys) > size
            keys = list(reversed(keys[:size]))
            has_older = True
        else:
            keys = self.keys(0, size + 1, cursor=before)
            has_older = len(keys) > size
            keys = keys[:size]
            has_newer = before is not None
        if after is not None and not has_newer and len(keys) < size:
            # Fewer than a page newer than `after`: show the newest page instead.
            return self.page(size)
        entries = self.load(keys)
        return TrailPage(
            entries=entries,
            has_older=has_older,
            has_newer=has_newer and bool(keys),
            older_cursor=encode_cursor(keys[-1]) if keys and has_older else "",
            newer_cursor=encode_cursor(keys[0]) if keys and has_newer else "",
        )

    def iter_entries(self, *, chunk: int = 500, limit: int | None = None):
        """Every entry, newest first, read `chunk` at a time by cursor (each chunk costs the
        same however deep it is): for the exports."""
        cursor, produced = None, 0
        while limit is None or produced < limit:
            size = chunk if limit is None else min(chunk, limit - produced)
            keys = self.keys(0, size, cursor=cursor)
            if not keys:
                return
            yield from self.load(keys)
            produced += len(keys)
            if len(keys) < size:
                return
            cursor = keys[-1]

    def __getitem__(self, item):
        """Offset slices, for callers that page by number (the cost grows with the offset:
        bound it, as the API does)."""
        if isinstance(item, int):
            return self[item : item + 1][0]
        start, stop = item.start or 0, item.stop
        if stop is None:
            return list(self.iter_entries())[start:]
        return self.load(self.keys(start, stop))

    def estimated_count(self) -> int:
        """The planner's estimate of how many entries match (EXPLAIN, one query, no rows
        read). Only ever shown as "about"."""
        if not self._arms:
            return 0
        arms = [qs for _index, qs in self._arms]
        union = arms[0].union(*arms[1:], all=True) if len(arms) > 1 else arms[0]
        return planner_estimate(union)  # on make run's SQLite an exact count: small data

    def load(self, keys) -> list[TrailEntry]:
        """The readable entries of `keys`, in that order: one query for the rows of every table
        on the page (with the rows they are diffed against and their many-to-many sets), then
        the related objects they name (users, customers, ...) in one or two more."""
        wanted = defaultdict(list)
        for src, key, _at in keys:
            wanted[src].append(key)
        if not wanted:
            return []
        requests = []
        for src, ids in wanted.items():
            requests.extend(self.sources[src].row_requests(src, ids))
        fetched = bulk_rows(requests)
        resolver = RelatedResolver()
        prepared = {
            src: self.sources[src].prepare(fetched, src, ids, resolver)
            for src, ids in wanted.items()
        }
        resolver.resolve()
        loaded = {src: self.sources[src].build(prepared[src], resolver) for src in wanted}
        return [loaded[src][key] for src, key, _at in keys if key in loaded[src]]


def audit_trail(flt: TrailFilter) -> AuditTrail:
    return AuditTrail(flt)


def record_history(record, *, limit: int = 200, known=()) -> list[TrailEntry]:
    """One record's history entries, newest first, with readable diffs: one query for the
    newest `limit` rows (with the rows they are diffed against and their many-to-many sets),
    and one or two for the objects their changes name. The record, the objects it holds in
    its select_related caches and `known` (other rows the page has loaded) are used as they
    are, not fetched again."""
    historical = registry.historical_model_for(record._meta.label_lower)
    if historical is None:
        return []
    source = HistorySource(historical)
    newest = (
        historical._base_manager.filter(id=record.pk)
        .order_by("-history_id")
        .values("history_id")[:limit]
    )
    fetched = bulk_rows(source.row_requests(0, newest))
    ids = sorted((row.history_id for row, _ in fetched.get((0, "page"), [])), reverse=True)
    resolver = RelatedResolver()
    resolver.add_known(record, *known)
    prepared = source.prepare(fetched, 0, ids, resolver)
    resolver.resolve()
    entries = source.build(prepared, resolver)
    return [entries[hid] for hid in ids if hid in entries]


def signatures_with_checks(record) -> list:
    """The record's signatures, each told whether its hash still matches the content that was
    signed (integrity) and whether the record still has that content today."""
    return mark_signatures(record, list(signatures_for(record)))


def mark_signatures(record, signatures: list) -> list:
    """Tell each of the record's signatures whether the record still has the content signed."""
    current = content_hash(signed_content(record))
    for sig in signatures:
        sig.matches_record_now = sig.content_hash == current
    return signatures


def signatures_and_transitions(record) -> tuple[list, list]:
    """The record's signatures (marked as signatures_with_checks marks them) and workflow steps,
    oldest first, with the people who signed or acted: all in one UNION ALL query."""
    own = {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}
    signatures = Signature.objects.filter(**own)
    transitions = Transition.objects.filter(**own)
    people = get_user_model()._base_manager.filter(
        Q(pk__in=signatures.values("signer_id")) | Q(pk__in=transitions.values("actor_id"))
    )
    fetched = bulk_rows([RowRequest("signatures", signatures), RowRequest("transitions", transitions), RowRequest("people", people)])
    people_by_id = {person.pk: person for person, _extra in fetched.get("people", [])}
    signature_list = sorted((row for row, _extra in fetched.get("signatures", [])), key=lambda s: (s.signed_at, s.pk))
    transition_list = sorted((row for row, _extra in fetched.get("transitions", [])), key=lambda t: (t.at, t.pk))
    link_related(signature_list, "signer", people_by_id)
    link_related(transition_list, "actor", people_by_id)
    link_related(transition_list, "signature", {sig.pk: sig for sig in signature_list})
    return mark_signatures(record, signature_list), transition_list


def actions_for_filter() -> list[tuple[str, str]]:
    """(value, label) of the action filter: record actions, every workflow's actions (a fixed
    list: no query), signatures and security events."""
    return [
        ("created", "Created"),
        ("changed", "Changed (edit)"),
        ("deleted", "Deleted"),
        *((code, capfirst(code.replace("_", " "))) for code in registry.workflow_action_names()),
        ("signed", "Signed (electronic signature)"),
        *((code, str(label)) for code, label in SecurityEvent.Kind.choices),
    ]
