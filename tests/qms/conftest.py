import pytest

from tests.kernel_app import workflow as specimen_workflow
from tests.kernel_app.services import specimen_create


@pytest.fixture
def specimen(staff):
    return specimen_create(actor=staff, title="Torque wrench calibration", summary="Checked against the reference set.")


@pytest.fixture
def make_specimen():
    def make(actor, **fields):
        fields.setdefault("title", "Specimen")
        fields.setdefault("summary", "A summary.")
        return specimen_create(actor=actor, **fields)

    return make


@pytest.fixture(autouse=True)
def _clear_side_effects():
    specimen_workflow.SIDE_EFFECTS.clear()
    yield
    specimen_workflow.SIDE_EFFECTS.clear()
