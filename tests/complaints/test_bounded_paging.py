"""Lists that grow with the years count at most COUNT_EXACT_UP_TO rows and show the planner's
estimate beyond (qms.pagination): the complaint page and the API, on real PostgreSQL."""

import pytest

from complaints.models import Complaint
from qms import pagination

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven(make_complaint):
    return [make_complaint(title=f"Seal leak {i}") for i in range(7)]


def test_exact_total_up_to_the_bound(client_for, manager, seven, django_assert_max_num_queries):
    client = client_for(manager)
    with django_assert_max_num_queries(12):
        response = client.get("/complaints/")
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 7
    assert response.context["page_obj"].paginator.count_is_estimate is False
    assert "1–7 of 7" in response.content.decode()
    assert "about" not in response.content.decode().split('class="pagination"')[1]


def test_beyond_the_bound_the_total_is_an_estimate_said_as_about(client_for, manager, seven, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_EXACT_UP_TO", 3)
    response = client_for(manager).get("/complaints/")
    paginator = response.context["page_obj"].paginator
    assert paginator.count_is_estimate is True
    assert paginator.count >= 4  # never below the bound + 1, whatever the planner guesses
    html = response.content.decode()
    # The planner's guess depends on the statistics earlier tests left behind (1,468 once, in
    # random order); the page prints it with thousands separators.
    assert f"about {paginator.count:,}</span>" in html and "Page 1 of about" in html


def test_estimated_list_pages_to_its_real_end(client_for, manager, seven, monkeypatch, settings):
    """With 25 a page and an estimate, a page past the real end falls back to an exact count and
    shows the real last page; a full last page does not offer a next page that is empty."""
    monkeypatch.setattr(pagination, "COUNT_EXACT_UP_TO", 3)
    client = client_for(manager)
    response = client.get("/complaints/?page=9")
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert page.number == 1 and len(page.object_list) == 7
    assert page.paginator.count == 7 and page.paginator.count_is_estimate is False
    # Garbage page numbers: Django's ListView answer (404 "Invalid page"), never a server error.
    for bad in ("abc", "-1", "0", "<script>"):
        assert client.get("/complaints/", {"page": bad}).status_code == 404
    # A page far past the end of an estimated list is its real last page.
    assert client.get("/complaints/", {"page": "9" * 30}).context["page_obj"].number == 1
    assert client.get("/complaints/", {"page": "last"}).status_code == 200


def test_estimated_page_has_next_only_when_full(manager, seven, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_EXACT_UP_TO", 3)
    paginator = pagination.BoundedCountPaginator(Complaint.objects.order_by("id"), 4)
    first = paginator.page(1)
    assert paginator.count_is_estimate and first.has_next() and first.end_index() == 4
    second = paginator.page(2)
    assert len(second.object_list) == 3 and not second.has_next() and second.end_index() == 7


def test_api_count_and_flag(api_for, manager, seven, monkeypatch):
    api = api_for(manager)
    body = api.get("/api/v1/complaints/").json()
    assert body["count"] == 7 and body["count_is_estimate"] is False
    monkeypatch.setattr(pagination, "COUNT_EXACT_UP_TO", 3)
    body = api.get("/api/v1/complaints/?page_size=2").json()
    assert body["count_is_estimate"] is True and body["count"] >= 4
    assert len(body["results"]) == 2 and body["next"]
    # A page past the real end is still 404, as DRF answers for any invalid page.
    assert api.get("/api/v1/complaints/?page=99&page_size=2").status_code in (200, 404)


def test_bounded_count_reads_at_most_the_bound(seven, django_assert_num_queries, monkeypatch):
    with django_assert_num_queries(1) as captured:
        assert pagination.bounded_count(Complaint.objects.all(), exact_up_to=10) == (7, False)
    assert "LIMIT 11" in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(2) as captured:
        total, estimated = pagination.bounded_count(Complaint.objects.filter(title__startswith="Seal"), exact_up_to=2)
    assert estimated and total >= 3
    assert captured.captured_queries[1]["sql"].startswith("EXPLAIN")
