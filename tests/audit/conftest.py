import pytest

from qms import roles as qms_roles
from qms import services
from qms.models import Department
from tests.conftest import PASSWORD
from tests.kernel_app.services import specimen_create, specimen_transition, specimen_update


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Two CPU cores are shared by every engineer's tests: hash test passwords cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def quality(db):
    return Department.objects.create(name="Quality")


@pytest.fixture
def promoted(administrator, staff, quality):
    """staff moved to the Quality department and made a Quality Manager, with reasons."""
    from qms.history import set_history

    staff.department = quality
    set_history(staff, user=administrator, reason="Joined the quality team")
    staff.save(update_fields=["department"])
    services.user_set_roles(staff, role_names=[qms_roles.MANAGER], actor=administrator, reason="Promoted to Head of Quality")
    return staff


@pytest.fixture
def signed_specimen(staff, manager):
    """A specimen edited, submitted and approved with an electronic signature."""
    specimen = specimen_create(actor=staff, title="Torque wrench calibration", summary="First draft.")
    specimen = specimen_update(specimen, actor=staff, version=specimen.version, reason="Clarified the summary", summary="Checked against the reference set.")
    specimen_transition(specimen, "submit", actor=staff)
    specimen_transition(specimen, "approve", actor=manager, password=PASSWORD, meaning="Approved")
    specimen.refresh_from_db()
    return specimen
