"""Demo data of the kernel: departments and one user per role (idempotent)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

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
