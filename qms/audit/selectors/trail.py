"""The merged trail, newest first, paged by cursor (exact counts up to a bound, decision 0007)."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from qms.audit import search
from qms.audit.display import (
    RelatedResolver,
    TrailEntry,
)
from qms.audit.rows import bulk_rows
from qms.audit.selectors.filters import TrailFilter, resolve_names
from qms.audit.selectors.sources import trail_sources
from qms.pagination import planner_estimate

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
            if source.kind in ("history", "signature"):
                qs = source.queryset(
                    flt, user_ids=user_ids, record_ids=record_ids, text_user_ids=text_user_ids
                )
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
            rows = sorted(
                (row for qs in arms for row in qs),
                key=lambda r: (r[2], r[0], r[1]),
                reverse=not newer,
            )
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
