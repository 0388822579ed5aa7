import pytest

from tests.complaints.conftest import category, customer, make_complaint, policies, product  # noqa: F401


@pytest.fixture
def complaint(make_complaint):  # noqa: F811
    return make_complaint()
