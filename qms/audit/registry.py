"""Which tables the audit trail reads, discovered generically.

Every regulated model declares `history = regulated_history()`, so simple-history creates a
`Historical<Model>` with `history_id`; a new app's history is covered without any edit here.
"""

from functools import cache

from django.apps import apps
from django.db import models


def is_historical(model) -> bool:
    if not model.__name__.startswith("Historical") or not hasattr(model, "instance_type"):
        return False
    return any(field.name == "history_id" for field in model._meta.concrete_fields)


@cache
def historical_models() -> tuple[type[models.Model], ...]:
    """The historical models of every regulated model, in a stable order."""
    # Cached: the model registry does not change once the apps are loaded.
    return tuple(
        sorted(
            (m for m in apps.get_models() if is_historical(m)), key=lambda m: m._meta.label_lower
        )
    )


@cache
def historical_model_for(label: str):
    """The historical model of the regulated model labelled `label` ("qms.user"), or None."""
    for model in historical_models():
        if model.instance_type._meta.label_lower == label:
            return model
    return None


@cache
def chained_models() -> tuple[type[models.Model], ...]:
    """Every table whose rows carry a hash chain (prev_hash, entry_hash): all historical
    tables and the signatures, and any append-only table that adopts the same two columns."""
    found = []
    for model in apps.get_models():
        names = {field.name for field in model._meta.concrete_fields}
        if {"prev_hash", "entry_hash"} <= names:
            found.append(model)
    return tuple(sorted(found, key=lambda m: m._meta.db_table))


@cache
def tracked_fields(historical_model) -> tuple[models.Field, ...]:
    """The fields of the regulated model that its history records (not history_* bookkeeping,
    not the chain columns, not the optimistic-locking version)."""
    live = historical_model.instance_type
    live_names = {field.name for field in live._meta.concrete_fields}
    return tuple(
        live._meta.get_field(field.name)
        for field in historical_model._meta.concrete_fields
        if field.name in live_names and field.name != "version"
    )


@cache
def unique_text_fields(model) -> tuple[str, ...]:
    """The record's human keys: unique text fields such as reference, number or username."""
    return tuple(
        field.name
        for field in model._meta.concrete_fields
        if field.unique and not field.primary_key and isinstance(field, models.CharField)
    )


@cache
def m2m_history(
    historical_model,
) -> tuple[tuple[models.ManyToManyField, type[models.Model], str], ...]:
    """(m2m field, its historical through model, the through field naming the target) for
    each tracked many-to-many field (e.g. a user's roles)."""
    result = []
    m2m_fields = getattr(historical_model, "_history_m2m_fields", []) or []
    throughs = {
        rel.related_model.__name__: rel.related_model
        for rel in historical_model._meta.related_objects
    }
    for field in m2m_fields:
        # simple-history names the historical through model "<HistoricalModel>_<field>".
        through = throughs.get(f"{historical_model.__name__}_{field.name}")
        if through is not None:
            result.append((field, through, field.m2m_reverse_field_name()))
    return tuple(result)


# Actions recorded on history rows outside a workflow table (qms.services.user_set_roles).
EXTRA_ACTIONS = ("set_roles",)


@cache
def workflow_action_names() -> tuple[str, ...]:
    """Every action of every workflow (module-level `Workflow` objects in each app's
    workflow.py), sorted: the action filter's choices, with no query."""
    import importlib

    from qms.workflow import Workflow

    names = set(EXTRA_ACTIONS)
    for app in apps.get_app_configs():
        module_name = f"{app.name}.workflow"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for value in vars(module).values():
            if isinstance(value, Workflow):
                names.update(value.actions)
    return tuple(sorted(names))


@cache
def trail_root(model) -> tuple[type[models.Model], tuple[models.ForeignKey, ...]] | None:
    """(the record whose file `model` belongs to, the foreign keys leading there) for a child
    record: a model that names its parent with `trail_parent = "<foreign key>"` (an attachment
    -> its complaint; evidence -> its action -> its CAPA). Followed up to the first model that
    names no parent, so a child's entries appear under the complaint, CAPA or document whose
    reference the auditor knows (issue 15). None for a record that is its own file."""
    path = []
    current = model
    while getattr(current, "trail_parent", ""):
        field = current._meta.get_field(current.trail_parent)
        path.append(field)
        current = field.related_model
        if len(path) > 5:
            raise ValueError(f"{model._meta.label}: trail_parent chain too long (a loop?)")
    return (current, tuple(path)) if path else None


@cache
def trail_children(root_label: str) -> tuple[tuple[type[models.Model], str], ...]:
    """(child model, ORM lookup from the child to the root's id) of every regulated model
    filed under the record type `root_label`, e.g. (Attachment, "complaint_id")."""
    found = []
    for historical in historical_models():
        root = trail_root(historical.instance_type)
        if root is not None and root[0]._meta.label_lower == root_label:
            names = [field.name for field in root[1]]
            found.append((historical.instance_type, "__".join([*names[:-1], root[1][-1].attname])))
    return tuple(found)
