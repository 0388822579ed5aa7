"""Demo data of the kernel: departments and one user per role (idempotent)."""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.test.utils import override_settings

from qms import roles as qms_roles
from qms.history import set_history
from qms.models import Department
from qms.services import system_user

DEMO_PASSWORD = "qms-demo-2026"  # noqa: S105 (printed by make run; demo data only)

DEMO_USERS = [
    # username, first, last, role, department, job function
    ("admin", "Ada", "Admin", qms_roles.ADMINISTRATOR, "IT", "System administrator"),
    ("manager", "Maria", "Manager", qms_roles.MANAGER, "Quality", "Head of Quality"),
    ("staff", "Sam", "Staff", qms_roles.STAFF, "Quality", "Quality engineer"),
    ("auditor", "Alex", "Auditor", qms_roles.AUDITOR, "Quality", "Internal auditor"),
    ("employee", "Eve", "Employee", qms_roles.EMPLOYEE, "Production", "Assembly technician"),
    ("staff2", "Noah", "Quinn", qms_roles.STAFF, "Customer Service", "Complaint handler"),
    ("employee2", "Lena", "Ortiz", qms_roles.EMPLOYEE, "Production", "Line supervisor"),
]


class DemoSeedingHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few rounds, preferred only while the demo is seeded (docs/decisions/0043).

    The demo signs a few hundred records, each re-checking the signer's password; at Django's
    1,000,000 rounds that is 0.3 s a signature, minutes in all. The demo password is printed on
    the screen, so its hash protects nothing; Django still upgrades each demo user's hash to
    the full rounds on their first log-in (the stored hash names its rounds; must_update)."""

    iterations = 1000

    def must_update(self, encoded):
        return False  # never re-hash (up or down) while seeding


@contextmanager
def fast_demo_passwords():
    """Demo users' passwords hashed and checked with DemoSeedingHasher while seeding. The
    project's own hashers stay listed after it, so every other user's hash verifies as usual and
    is never re-hashed here (the PBKDF2 hasher of the list identifies pbkdf2 hashes)."""
    if "django.contrib.auth.hashers.PBKDF2PasswordHasher" not in settings.PASSWORD_HASHERS:
        yield  # its hashes could not be checked afterwards (the test settings' fast MD5 only)
        return
    with override_settings(PASSWORD_HASHERS=["qms.demo.DemoSeedingHasher", *settings.PASSWORD_HASHERS]):
        yield


def seed(log=print) -> dict:
    actor = system_user()
    departments = {name: Department.objects.get_or_create(name=name)[0] for name in ("Quality", "Production", "Customer Service", "IT", "Engineering")}
    User = get_user_model()
    users = {}
    for username, first, last, role, department, job in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                department=departments[department],
                job_function=job,
                is_staff=role in qms_roles.ADMIN_SITE_ROLES,
                is_superuser=role == qms_roles.ADMINISTRATOR,
            )
            user.set_password(DEMO_PASSWORD)
            set_history(user, user=actor, reason="Demo data", action="create")
            user.save()
            user.groups.add(Group.objects.get(name=role))
            log(f"  created user {username} ({role})")
        users[username] = user
    manager = users["manager"]
    for username in ("staff", "staff2", "auditor", "employee", "employee2"):
        user = users[username]
        if user.manager_id is None:
            user.manager = manager
            set_history(user, user=actor, reason="Demo data: reporting line", action="update")
            user.save(update_fields=["manager"])
    return users
