"""Extension points of the kernel: registries that the apps fill from their AppConfig.ready.

The kernel knows no app, and an app does not import the apps above it (docs/architecture.md
"The apps and their layers"; import-linter's contracts in pyproject.toml keep it so). Where a
lower part must show or ask something that an upper app owns, the lower part reads a registry
here and the upper app registers into it:

- dossier sections: the parts of a record's audit dossier beyond its fields, history and
  signatures (qms.audit.exports), registered per model by the app that reads them.
- roles changed: what follows when a user's roles or job function change (qms.services,
  the user admin); training assigns what the new role requires (ISO 9001 7.2).
- record badges: small marks shown beside a person or a record on another app's page,
  `{% record_badges "person" complaint.assignee %}` (qms_tags); training shows "training
  overdue" beside a person and the release gate's progress on a document version.
- release checks: what must hold before a document version becomes effective, beyond its
  date (documents.workflow's make_effective); training's release gate (decision 0026).
"""

from __future__ import annotations

from collections.abc import Callable

# model class -> functions(record) -> list of sections (DossierSection or its keyword dict)
_DOSSIER_SECTIONS: dict[type, list[Callable]] = {}


def register_dossier_sections(model: type, function: Callable) -> None:
    """`function(record)` returns the record's own dossier sections, after the kernel's."""
    providers = _DOSSIER_SECTIONS.setdefault(model, [])
    if function not in providers:
        providers.append(function)


def dossier_sections_for(record) -> list:
    sections = []
    for function in _DOSSIER_SECTIONS.get(type(record)._meta.concrete_model, []):
        sections.extend(function(record) or [])
    return sections


# functions(*, user, actor) called after a user's roles or job function changed
_ROLES_CHANGED: list[Callable] = []


def register_roles_changed(function: Callable) -> None:
    if function not in _ROLES_CHANGED:
        _ROLES_CHANGED.append(function)


def roles_changed(*, user, actor=None) -> None:
    for function in _ROLES_CHANGED:
        function(user=user, actor=actor)


# kind ("person", "document_version") -> functions(context, obj) -> HTML (safe) or ""
_RECORD_BADGES: dict[str, list[Callable]] = {}


def register_record_badge(kind: str, function: Callable) -> None:
    badges = _RECORD_BADGES.setdefault(kind, [])
    if function not in badges:
        badges.append(function)


def record_badges(kind: str) -> list[Callable]:
    return list(_RECORD_BADGES.get(kind, ()))


# functions(version) that raise qms.errors.IllegalTransition when the version may not be released
_RELEASE_CHECKS: list[Callable] = []


def register_release_check(function: Callable) -> None:
    if function not in _RELEASE_CHECKS:
        _RELEASE_CHECKS.append(function)


def release_checks() -> list[Callable]:
    return list(_RELEASE_CHECKS)
