"""Extension points of the kernel: registries that the apps fill from their AppConfig.ready.

The kernel knows no app, and an app does not import the apps above it (docs/architecture.md
"The apps and their layers"; import-linter's contracts in pyproject.toml keep it so). Where a
lower part must show or ask something that an upper app owns, the lower part reads a registry
here and the upper app registers into it:

- dossier sections: the parts of a record's audit dossier beyond its fields, history and
  signatures (qms.audit.exports), registered per model by the app that reads them.
- roles changed: what follows when a user's roles or job function change (qms.services,
  the user admin); training assigns what the new role requires (ISO 9001 7.2).
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

