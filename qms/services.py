"""Kernel services: users and roles, the system user."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.extensions import roles_changed
from qms.history import set_history


def system_user():
    """The named user that background work acts as (never null in history)."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=settings.QMS_SYSTEM_USERNAME,
        defaults={"first_name": "QMS", "last_name": "System", "is_active": False},
    )
    return user


@transaction.atomic
def user_set_roles(user, *, role_names: list[str], actor, reason: str):
    """Give `user` exactly these roles, with history (role membership is regulated)."""
    if not qms_roles.has_role(actor, qms_roles.ADMINISTRATOR) or qms_roles.is_read_only(actor):
        raise NotAllowed("Only an Administrator may change roles.")
    if not reason.strip():
        raise ValidationFailed.on("reason", "Say why the roles change.")
    unknown = set(role_names) - set(qms_roles.ALL_ROLES)
    if unknown:
        raise ValidationFailed.on("roles", f"Unknown roles: {', '.join(sorted(unknown))}.")
    user.is_staff = bool(set(role_names) & qms_roles.ADMIN_SITE_ROLES)
    set_history(user, user=actor, reason=reason, action="set_roles")
    user.save(update_fields=["is_staff"])
    set_history(user, user=actor, reason=reason, action="set_roles")
    user.groups.set(Group.objects.filter(name__in=role_names))
    user._qms_roles = None
    roles_changed(user=user, actor=actor)  # a new role may require training (ISO 9001 7.2)
    return user
