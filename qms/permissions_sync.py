"""Give each role group its Django model permissions (qms.roles.ROLE_MODEL_PERMISSIONS).

Runs after every migrate: the groups are created by migration qms 0002, but the permissions of
the apps migrated after it exist only once their migrations have run."""

from django.contrib.auth.models import Group, Permission

from qms import roles as qms_roles


def sync_role_permissions(sender=None, **kwargs):
    # post_migrate is sent once per app, in INSTALLED_APPS order, and each app's permissions are
    # created by its own signal: only after the last app do all of them exist (fresh database).
    if sender is not None and sender.label != _last_app_with_models():
        return
    permissions = list(Permission.objects.select_related("content_type"))
    for role, grants in qms_roles.ROLE_MODEL_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [
            perm
            for perm in permissions
            if perm.content_type.app_label in grants
            and perm.codename.split("_", 1)[0] in grants[perm.content_type.app_label]
        ]
        group.permissions.set(wanted)


def _last_app_with_models() -> str:
    from django.apps import apps

    return [config.label for config in apps.get_app_configs() if config.models_module is not None][-1]
