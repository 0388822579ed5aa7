"""System checks of the deployment (`manage.py check --deploy`), for what settings alone cannot
refuse: where the audit anchor key and log live (issue 15, item 5) and which database role the
application runs as (item 7). Warnings, not errors: `make run` must start without them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def audit_anchor_problems() -> list[Warning]:
    warnings = []
    key_file = Path(settings.QMS_AUDIT_ANCHOR_KEY_FILE)
    anchor_dir = Path(settings.QMS_AUDIT_ANCHOR_DIR)
    if not settings.QMS_AUDIT_ANCHOR_KEY and not key_file.exists():
        warnings.append(
            Warning(
                f"The audit anchor key file {key_file} does not exist; the first verification will generate one there.",
                hint="In production give the key from a secret (QMS_AUDIT_ANCHOR_KEY_FILE) that the database administrators cannot read.",
                id="qms.W101",
            )
        )
    database_name = settings.DATABASES["default"].get("NAME")
    database_dir = (
        Path(database_name).parent
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and database_name
        else None
    )
    if not settings.QMS_AUDIT_ANCHOR_KEY:
        if _inside(key_file, anchor_dir):
            warnings.append(
                Warning(
                    "The audit anchor key file sits in the anchor log's directory: whoever can change the log can sign it too.",
                    hint="Keep the key apart from QMS_AUDIT_ANCHOR_DIR.",
                    id="qms.W102",
                )
            )
        if database_dir is not None and key_file.parent.resolve() == database_dir.resolve():
            warnings.append(
                Warning(
                    "The audit anchor key file sits beside the database file.",
                    hint="Keep the key where the database's administrators cannot read it.",
                    id="qms.W102",
                )
            )
        if key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) & 0o077:
            warnings.append(
                Warning(
                    f"The audit anchor key file {key_file} is readable by other users.",
                    hint=f"chmod 600 {key_file}",
                    id="qms.W103",
                )
            )
    if database_dir is not None and anchor_dir.resolve() == database_dir.resolve():
        warnings.append(
            Warning(
                "The audit anchor log sits in the database's directory.",
                hint="Give QMS_AUDIT_ANCHOR_DIR a volume of its own.",
                id="qms.W104",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def check_audit_anchors(app_configs, **kwargs):
    return audit_anchor_problems()


@register(Tags.database, deploy=True)
def check_database_role(app_configs, databases=None, **kwargs):
    """`check --deploy --database default`: the connected role must own nothing (issue 15,
    item 7). Run where the application runs, with its DATABASE_URL; the migrating owner is
    expected to fail it."""
    from django.db import connections

    from qms.db_roles import role_problems

    warnings = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            problems = role_problems(cursor)
        warnings += [
            Warning(
                problem,
                hint="Run web, worker and beat as the runtime role: manage.py db_roles setup (README).",
                id="qms.W110",
            )
            for problem in problems
        ]
    return warnings
