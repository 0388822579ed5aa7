"""The complaint, CAPA and document builders of the app tests, for the search tests."""

from tests.complaints.conftest import customer, make_complaint, policies, product  # noqa: F401
from tests.documents.conftest import make_document  # noqa: F401
