"""Roles are Django groups (created by migration qms 0002). Every permission check in views,
the API and services goes through `has_role`, so the browser and the API agree."""

STAFF = "Quality Staff"
MANAGER = "Quality Manager"
AUDITOR = "Auditor"
EMPLOYEE = "Employee"
ADMINISTRATOR = "Administrator"

ALL_ROLES = (STAFF, MANAGER, AUDITOR, EMPLOYEE, ADMINISTRATOR)
QUALITY = frozenset({STAFF, MANAGER})
READERS = frozenset({STAFF, MANAGER, AUDITOR})  # may read quality records
EVERYONE = frozenset(ALL_ROLES)

# Roles that may use the Django admin. Auditors see it read-only (they hold view permissions only).
ADMIN_SITE_ROLES = frozenset({ADMINISTRATOR, AUDITOR})

# Django model permissions each role holds, by app label and action; synced after every migrate
# (qms.apps) because the permissions of later apps do not exist when the groups are created.
# Nobody holds "delete": records are closed, cancelled or made obsolete, never deleted.
DOMAIN_APPS = ("complaints", "capa", "documents", "training", "metrics", "service_quality")
ROLE_MODEL_PERMISSIONS = {
    STAFF: dict.fromkeys(("complaints", "capa", "documents", "training", "service_quality"), ("view", "add", "change")),
    MANAGER: dict.fromkeys(DOMAIN_APPS, ("view", "add", "change")),
    AUDITOR: dict.fromkeys((*DOMAIN_APPS, "qms", "auth", "axes"), ("view",)),
    EMPLOYEE: {"documents": ("view",), "training": ("view",)},
    ADMINISTRATOR: {"qms": ("view", "add", "change"), "auth": ("view",), "authtoken": ("view", "add")},
}


def roles_of(user) -> frozenset[str]:
    """The names of the user's roles, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_qms_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user, names) -> frozenset[str]:
    """Keep the user's role names on the user object for the rest of the request (the session
    user arrives with them: qms.auth.RoleModelBackend)."""
    cached = frozenset(names or ())
    if user.is_superuser:
        cached = cached | {ADMINISTRATOR}
    user._qms_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_read_only(user) -> bool:
    """Auditors read everything and change nothing, whatever other role they hold."""
    return AUDITOR in roles_of(user)


def may_act(user, *roles: str) -> bool:
    """Holds one of `roles` and may change things: not an auditor (is_read_only)."""
    return has_role(user, *roles) and not is_read_only(user)


def users_with_role(role: str):
    """The active users who hold `role` (its Django group), each once."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()
