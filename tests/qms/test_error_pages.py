"""The error pages are the product's own, never Django's debug pages (issue 18 item 8): with
DEBUG off, an unknown address or record answers 404 with our page inside the layout, naming
nothing of the code (no URL patterns, no exception class, no model name)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

DEBUG_MARKS = (
    "Using the URLconf",
    "Django tried these URL patterns",
    "Resolver404",
    "Http404",
    "Traceback",
    "technical_404",
    "DEBUG = True",
    "matches the given query",
)


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page/",
        "/complaints/987654/",
        "/capa/987654/",
        "/documents/987654/",
        "/training/assignments/987654/",
        "/audit/records/complaints.complaint/987654/",
        "/complaints/%3Cscript%3Ealert(1)%3C/script%3E/",
        "/" + "a" * 3000 + "/",
    ],
)
def test_an_unknown_page_or_record_shows_our_404_page_and_nothing_of_the_code(
    client_for, manager, path
):
    response = client_for(manager).get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html and 'class="topbar"' in html, "our page, in the layout"
    for mark in DEBUG_MARKS:
        assert mark not in html, mark
    assert "<script>alert(1)" not in html


def test_an_anonymous_visitor_of_an_unknown_page_is_sent_to_log_in_first(client):
    response = client.get("/no-such-page/")
    assert response.status_code in (302, 404)
    if response.status_code == 404:
        assert "Using the URLconf" not in response.content.decode()
    else:
        assert response["Location"].startswith(reverse("login"))


def test_an_unknown_api_address_answers_404_without_a_debug_page(client_for, manager):
    response = client_for(manager).get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert "Using the URLconf" not in response.content.decode()
