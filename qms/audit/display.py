"""Readable field-level changes of history rows, for many rows at once.

An auditor reads "Department: Quality -> Production", not "department_id: 3 -> 7". Field
labels are the models' verbose names, choices show their labels, foreign keys and role sets
show the related objects' names. Related objects are fetched in bulk: one query per related
model for a whole page of entries, never one per entry (docs/architecture.md rule 6).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst

from qms.audit.registry import historical_model_for, m2m_history, tracked_fields

EMPTY = "—"
DATETIME_FORMAT = "j M Y, H:i:s T"
HISTORY_TYPE_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class Change:
    field: str
    label: str
    old: Any
    new: Any
    old_display: str = ""
    new_display: str = ""


@dataclass
class TrailEntry:
    """One line of the audit trail: a history row, a signature or a security event."""

    kind: str  # "history", "signature" or "security"
    at: datetime.datetime
    username: str
    user_name: str
    action: str
    reason: str
    model: str  # the record's model label, "complaints.complaint"
    model_label: str
    object_id: int | None
    object_repr: str = ""
    changes: list[Change] = field(default_factory=list)
    url: str = ""
    detail: str = ""
    hash_matches: bool | None = None
    content_hash: str = ""
    history_id: int | None = None
    label: str = ""  # how the action reads, when not derived from its code
    # The record whose file this one belongs to (an attachment's complaint), if any.
    parent_model: str = ""
    parent_id: int | None = None
    parent_repr: str = ""
    parent_url: str = ""

    @property
    def user(self) -> str:
        return self.user_name

    @property
    def action_label(self) -> str:
        return self.label or capfirst(self.action.replace("_", " "))

    @property
    def at_display(self) -> str:
        return format_datetime(self.at)

    def as_api_data(self) -> dict:
        return {
            "at": self.at,
            "user": self.username or None,
            "user_name": self.user_name,
            "action": self.action,
            "reason": self.reason,
            "changes": [
                {
                    "field": c.field,
                    "label": c.label,
                    "old": c.old,
                    "new": c.new,
                    "old_display": c.old_display,
                    "new_display": c.new_display,
                }
                for c in self.changes
            ],
            "model": self.model,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "kind": self.kind,
            "detail": self.detail,
            "parent_model": self.parent_model,
            "parent_id": self.parent_id,
            "parent_repr": self.parent_repr,
        }


def format_datetime(value) -> str:
    if value is None:
        return EMPTY
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATETIME_FORMAT)


def plain(value):
    """A JSON-safe raw value (codes and ids), as the history API gives it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def record_url(model_label: str, object_id) -> str:
    """The record's audit page: history, signatures, transitions and its dossier export."""
    # Only records that keep a history have that page (a signed AuditVerification does not).
    if object_id is None or historical_model_for(model_label) is None:
        return ""
    try:
        return reverse("audit-record", args=[model_label, object_id])
    except NoReverseMatch:
        return ""


class RelatedResolver:
    """Collects (model, pk) pairs, then fetches them all in one query (qms.audit.rows), and the
    objects their foreign keys point to in at most two more, with the caches filled, so that
    str() of a training record ("SOP-001 rev 2 for Ann Lee") costs no query of its own."""

    DEPTH = 3  # rounds: the objects named, their foreign keys, and those objects' keys

    def __init__(self):
        self.wanted: dict[type[models.Model], set] = defaultdict(set)
        self.found: dict[type[models.Model], dict] = {}
        self.missing: set = set()
        self.known: list = []
        self.follow: dict[type[models.Model], set[str]] = defaultdict(set)

    def want_path(self, model, pk, fields) -> None:
        """`model` #pk and the objects its foreign keys `fields` lead to, one after the other
        (an evidence file's action, then that action's CAPA), each fetched in the next round."""
        if not fields:
            return
        self.want(fields[0].related_model, pk)
        previous = fields[0].related_model
        for f in fields[1:]:
            self.follow[previous].add(f.attname)
            previous = f.related_model

    def get_path(self, pk, fields):
        """The object at the end of `fields` from #pk (see want_path), or None."""
        obj = self.get(fields[0].related_model, pk) if fields else None
        for f in fields[1:]:
            if obj is None:
                return None
            obj = self.get(f.related_model, getattr(obj, f.attname))
        return obj

    def add_known(self, *objects) -> None:
        """Objects the caller has loaded already (the record, its select_related rows): used
        as they are instead of fetched again. resolve() fills their foreign-key caches and
        fetches what their str() still needs, like for the objects it fetches itself."""
        for obj in objects:
            if obj is None or obj.pk is None:
                continue
            found = self.found.setdefault(type(obj), {})
            if obj.pk in found:
                continue
            found[obj.pk] = obj
            self.known.append(obj)
            for f in obj._meta.concrete_fields:
                if f.is_relation and f.related_model is not None and f.is_cached(obj):
                    self.add_known(f.get_cached_value(obj))

    def want(self, model, pk) -> None:
        if pk is not None and pk != "":
            self.wanted[model].add(pk)

    def resolve(self) -> None:
        """Everything wanted and not fetched before: one query per round, at most DEPTH. After
        a round, the objects whose str() would still run a query (it reads a foreign key not
        fetched yet) have their foreign keys fetched in the next round; the others do not."""
        from qms.audit.rows import RowRequest, bulk_rows

        fetched = list(self.known)
        for obj in fetched:
            self.fill_caches(obj)
        pending = [obj for obj in fetched if _str_needs_a_query(obj)]
        self._want_foreign_keys(pending)
        for _round in range(self.DEPTH):
            requests = []
            for model, pks in self.wanted.items():
                found = self.found.setdefault(model, {})
                missing = sorted(
                    (pk for pk in pks if pk not in found and (model, pk) not in self.missing),
                    key=str,
                )
                if missing:
                    requests.append(RowRequest(model, model._base_manager.filter(pk__in=missing)))
                    self.missing.update((model, pk) for pk in missing)
            if not requests:
                break
            new = []
            for model, rows in bulk_rows(requests).items():
                for obj, _extra in rows:
                    self.found[model][obj.pk] = obj
                    self.missing.discard((model, obj.pk))
                    new.append(obj)
            fetched.extend(new)
            for obj in fetched:
                self.fill_caches(obj)
            pending = [obj for obj in (*pending, *new) if _str_needs_a_query(obj)]
            self._want_foreign_keys(pending)

    def _want_foreign_keys(self, objects) -> None:
        for model, attnames in self.follow.items():
            for obj in self.found.get(model, {}).values():
                for attname in attnames:
                    related = obj._meta.get_field(attname.removesuffix("_id")).related_model
                    self.want(related, getattr(obj, attname))
        for obj in objects:
            for f in obj._meta.concrete_fields:
                if f.is_relation and f.related_model is not None:
                    self.want(f.related_model, getattr(obj, f.attname))

    def fill_caches(self, obj) -> None:
        """Set obj's foreign-key caches to the fetched objects (no query when they are read)."""
        for f in obj._meta.concrete_fields:
            if f.is_relation and f.related_model is not None and not f.is_cached(obj):
                related = self.get(f.related_model, getattr(obj, f.attname))
                if related is not None:
                    f.set_cached_value(obj, related)

    def get(self, model, pk):
        return self.found.get(model, {}).get(pk)

    def label(self, model, pk) -> str:
        if pk is None or pk == "":
            return EMPTY
        obj = self.get(model, pk)
        return str(obj) if obj is not None else f"{model._meta.verbose_name} #{pk} (not found)"


class _QueryAttempted(Exception):
    pass


class _NotLoaded(Exception):
    pass


class _NotLoadedObject:
    """Stands in for a related object that is not fetched yet while str() is tried: any use
    of it raises _NotLoaded."""

    def __getattribute__(self, name):
        raise _NotLoaded

    def __str__(self):
        raise _NotLoaded

    __repr__ = __str__

    def __format__(self, spec):
        raise _NotLoaded


_NOT_LOADED = _NotLoadedObject()


def _refuse_queries(execute, sql, params, many, context):
    raise _QueryAttempted


def _str_needs_a_query(obj) -> bool:
    """Whether str(obj) reads a related object that is not loaded. Tried with a stand-in in
    each foreign key not loaded yet, so the test opens no cursor (a refused query would still
    be logged as one); queries are refused as well, for a str() that reads anything else."""
    unloaded = [
        f
        for f in obj._meta.concrete_fields
        if f.is_relation
        and f.related_model is not None
        and getattr(obj, f.attname) is not None
        and not f.is_cached(obj)
    ]
    if not unloaded:
        return False
    for f in unloaded:
        f.set_cached_value(obj, _NOT_LOADED)
    try:
        with connection.execute_wrapper(_refuse_queries):
            str(obj)
    except (_NotLoaded, _QueryAttempted):
        return True
    except Exception:  # noqa: BLE001 - a __str__ that fails for other reasons: nothing to fetch
        return False
    finally:
        for f in unloaded:
            f.delete_cached_value(obj)
    return False


def display_value(model_field, value, resolver: RelatedResolver) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(model_field, models.ManyToManyField):
        names = sorted(resolver.label(model_field.related_model, pk) for pk in value)
        return ", ".join(names) if names else EMPTY
    if model_field.is_relation:
        return resolver.label(model_field.related_model, value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _row_values(historical_model, row, m2m_sets) -> dict:
    values = {f.name: getattr(row, f.attname) for f in tracked_fields(historical_model)}
    for m2m_field, _through, _target in m2m_history(historical_model):
        values[m2m_field.name] = sorted(m2m_sets.get((m2m_field.name, row.history_id), set()))
    return values


def raw_changes(historical_model, row, previous, m2m_sets) -> list[tuple[models.Field, Any, Any]]:
    live = historical_model.instance_type
    new_values = _row_values(historical_model, row, m2m_sets)
    old_values = _row_values(historical_model, previous, m2m_sets) if previous is not None else None
    changes = []
    for name, new in new_values.items():
        model_field = live._meta.get_field(name)
        if old_values is None:
            if model_field.primary_key or new in (None, "", []):
                continue
            changes.append((model_field, None, new))
        elif old_values[name] != new:
            changes.append((model_field, old_values[name], new))
    return changes


def load_m2m_sets(historical_model, history_ids) -> dict:
    """{(m2m field name, history_id): set of related pks}, one query per m2m field."""
    sets: dict = defaultdict(set)
    for m2m_field, through, target in m2m_history(historical_model):
        target_attname = through._meta.get_field(target).attname
        for history_id, pk in through.objects.filter(history_id__in=history_ids).values_list(
            "history_id", target_attname
        ):
            sets[(m2m_field.name, history_id)].add(pk)
    return sets


def prepare_history_rows(pairs, resolver: RelatedResolver) -> list:
    """First phase for [(historical_model, row, previous_row_or_None, m2m_sets)]: compute the
    raw changes and tell the resolver which related objects they name."""
    prepared = []
    for historical_model, row, previous, m2m_sets in pairs:
        changes = raw_changes(historical_model, row, previous, m2m_sets)
        for model_field, old, new in changes:
            if isinstance(model_field, models.ManyToManyField):
                for pk in [*(old or []), *(new or [])]:
                    resolver.want(model_field.related_model, pk)
            elif model_field.is_relation:
                resolver.want(model_field.related_model, old)
                resolver.want(model_field.related_model, new)
        # The record's own foreign keys, so that str(record) needs no query of its own.
        for f in tracked_fields(historical_model):
            if f.is_relation:
                resolver.want(f.related_model, getattr(row, f.attname))
        prepared.append((historical_model, row, changes))
    return prepared


def build_history_entries(prepared, resolver: RelatedResolver) -> list[TrailEntry]:
    """Second phase, after resolver.resolve(): the readable entries. The rows' history_user
    must be select_related."""
    entries = []
    for historical_model, row, changes in prepared:
        live = historical_model.instance_type
        user = row.history_user
        entries.append(
            TrailEntry(
                kind="history",
                at=row.history_date,
                username=user.get_username() if user else "",
                user_name=user.full_name if user else "system",
                action=history_action(row),
                reason=row.history_change_reason or "",
                model=live._meta.label_lower,
                model_label=capfirst(live._meta.verbose_name),
                object_id=row.id,
                object_repr=record_repr(historical_model, row, resolver),
                changes=[
                    Change(
                        field=f.name,
                        label=capfirst(f.verbose_name),
                        old=plain(old),
                        new=plain(new),
                        old_display=display_value(f, old, resolver) if old is not None else "",
                        new_display=display_value(f, new, resolver),
                    )
                    for f, old, new in changes
                ],
                url=record_url(live._meta.label_lower, row.id),
                history_id=row.history_id,
            )
        )
    return entries


def history_action(row) -> str:
    if row.history_type in ("+", "-"):
        return HISTORY_TYPE_ACTIONS[row.history_type]
    return row.history_action or "changed"


def record_repr(historical_model, row, resolver: RelatedResolver) -> str:
    """str() of the record as it was at this row, with its foreign keys taken from the
    resolver (no query per row)."""
    live = historical_model.instance_type
    instance = live(
        **{f.attname: getattr(row, f.attname) for f in tracked_fields(historical_model)}
    )
    for f in tracked_fields(historical_model):
        if f.is_relation and not f.many_to_many:
            related = resolver.get(f.related_model, getattr(row, f.attname))
            if related is not None:
                f.set_cached_value(instance, related)
    try:
        text = str(instance)
    except Exception:  # noqa: BLE001 - a __str__ that needs what a past row lacks
        text = ""
    return text[:200] or f"{live._meta.verbose_name} #{row.id}"
