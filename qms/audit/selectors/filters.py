"""The audit trail's filter and what it is matched on: record types, names, a record and its
children (decision 0016)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, Value
from django.utils.text import capfirst

from qms.audit import registry

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
