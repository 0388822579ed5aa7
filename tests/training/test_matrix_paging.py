"""The matrix page shows 50 people a page, with the filters (role, department, document,
status) kept across pages, at most 12 queries for 10 or 60 people, and a complete CSV."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import DocumentVersion
from qms import roles as qms_roles
from qms.models import Department
from tests.conftest import make_user
from tests.training.test_matrix import build

pytestmark = pytest.mark.django_db
URL = "/training/matrix/"


def people_on(response) -> list[str]:
    return [row.user.username for row in response.context["page_rows"]]


@pytest.mark.parametrize("people", [10, 60])
def test_the_matrix_page_costs_at_most_12_queries(
    people, staff, manager, client_for, django_assert_max_num_queries
):
    build(people, 8, staff)
    c = client_for(manager)
    c.get(URL)
    for params in (
        {},
        {"page": 2},
        {"status": "overdue"},
        {"department": Department.objects.get(name="Production").pk},
    ):
        with django_assert_max_num_queries(12):
            response = c.get(URL, params)
        assert response.status_code == 200
    assert len(people_on(c.get(URL))) == min(people, 50)


def test_rows_are_paged_by_50_people_and_the_tiles_cover_everyone(staff, manager, client_for):
    build(60, 3, staff)
    c = client_for(manager)
    first, second = c.get(URL), c.get(URL, {"page": 2})
    assert len(people_on(first)) == 50 and len(people_on(second)) == 10
    assert not set(people_on(first)) & set(people_on(second))
    assert sum(first.context["matrix"].totals.values()) == 60 * 3  # tiles: all 60 people
    page = second.content.decode()
    assert "51–60 of 60" in page and "Page 2 of 2" in page
    # A page number past the end shows the last page; nonsense shows the first.
    assert people_on(c.get(URL, {"page": "999999999999"})) == people_on(second)
    assert people_on(c.get(URL, {"page": "abc"})) == people_on(first)


def test_filters_are_kept_on_the_paging_links(staff, manager, client_for):
    build(60, 2, staff)
    role = Group.objects.get(name=qms_roles.EMPLOYEE)
    production = Department.objects.get(name="Production")
    c = client_for(manager)
    first = c.get(URL, {"role": role.pk, "department": production.pk})
    assert first.context["people"] == 60
    assert f"role={role.pk}&amp;department={production.pk}&amp;page=2" in first.content.decode()
    second = c.get(URL, {"role": role.pk, "department": production.pk, "page": 2})
    assert len(people_on(second)) == 10


def test_status_filter_lists_only_people_with_such_a_cell(staff, manager, client_for):
    build(20, 3, staff)
    c = client_for(manager)
    for status in ("overdue", "due", "missing", "current"):
        rows = c.get(URL, {"status": status}).context["page_rows"]
        assert rows, status
        assert all(row.counts[status] for row in rows)
    # every fifth person of build() misses all assignments: nobody else shows as missing
    assert len(c.get(URL, {"status": "missing"}).context["page_rows"]) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"status": "' OR 1=1 --"},
        {"role": "abc", "page": "-1"},
        {"department": "9" * 40},
        {"document": "<script>"},
        {"page": "1e9"},
    ],
)
def test_hostile_matrix_input_is_never_a_500(params, staff, manager, client_for):
    build(5, 2, staff)
    response = client_for(manager).get(URL, params)
    assert response.status_code == 200
    assert b"<script>" not in response.content.split(b"<main")[-1]


def test_an_empty_status_says_so(staff, manager, client_for):
    build(4, 1, staff)
    c = client_for(manager)
    response = c.get(URL, {"status": "superseded"})
    assert response.context["page_rows"] == []
    assert "Nobody matches this status" in response.content.decode()


def test_the_csv_export_is_complete_and_streamed(staff, manager, client_for):
    build(60, 2, staff)
    response = client_for(manager).get(URL, {"export": "csv"})
    assert response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 60
    overdue = client_for(manager).get(URL, {"export": "csv", "status": "overdue"})
    assert 1 < len(b"".join(overdue.streaming_content).decode().splitlines()) < 61


def test_the_document_version_page_shows_its_training_gate_in_fixed_queries(
    staff, manager, client_for, django_assert_max_num_queries
):
    from training import services

    build(5, 1, staff)
    version = DocumentVersion.objects.get(document__number="T1-000")
    services.release_gate_set(
        actor=manager,
        doc_type=version.document.doc_type,
        required_percent=80,
        is_active=True,
        reason="Audit finding",
    )
    c = client_for(manager)
    url = version.get_absolute_url()
    first = c.get(url)
    assert first.status_code == 200
    page = first.content.decode()
    assert "Training release gate" in page and "people trained" in page
    with CaptureQueriesContext(connection) as few:
        c.get(url)
    for i in range(40):  # more people who must train: the gate counts more rows, same queries
        make_user(f"extra{i}", qms_roles.EMPLOYEE)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "of 45 people trained" in c.get(url).content.decode()
