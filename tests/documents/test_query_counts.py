"""Lists and record pages cost a constant number of queries (docs/architecture.md rule 6), measured
at two data sizes; the SQL is printed when a count differs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from documents import services
from tests.documents.conftest import SOP_TEXT, release

pytestmark = pytest.mark.django_db


def count_queries(client, url) -> tuple[int, list[str]]:
    client.get(url)  # warm the content-type cache, as a running server has it
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), [q["sql"] for q in context.captured_queries]


def add_documents(n, *, staff, manager, start=0):
    for index in range(start, start + n):
        document = services.document_create(actor=staff, title=f"Procedure {index}", doc_type="sop", owner=staff, content_text=SOP_TEXT,
                                            effective_from=timezone.localdate())
        if index % 2 == 0:
            release(document.versions.get(), author=staff, approver=manager)
            services.version_create(document=document, actor=staff, change_summary="Next revision")



def add_revisions(document, n, *, staff, manager, reviewer):
    for _ in range(n):
        version = services.version_create(document=document, actor=staff, change_summary="More steps",
                                          content_text=document.versions.first().content_text + "More.\n",
                                          effective_from=document.effective_version.effective_from)
        release(version, author=staff, approver=manager, reviewers=[reviewer])
        document.refresh_from_db()


@pytest.mark.parametrize("persona", ["manager", "employee"])
def test_register_page_costs_the_same_at_two_sizes(client_for, personas, staff, manager, persona):
    client = client_for(personas[persona])
    url = reverse("documents:list")
    add_documents(2, staff=staff, manager=manager)
    small, _ = count_queries(client, url)
    add_documents(12, staff=staff, manager=manager, start=2)
    large, sql = count_queries(client, url)
    assert large == small, "\n".join(sql)
    assert large <= 12, "\n".join(sql)


def test_api_document_list_costs_the_same_at_two_sizes(api_for, staff, manager):
    api = api_for(manager)
    url = reverse("api-document-list")
    add_documents(2, staff=staff, manager=manager)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).status_code == 200
    add_documents(10, staff=staff, manager=manager, start=2)
    with CaptureQueriesContext(connection) as large:
        assert api.get(url).status_code == 200
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)


@pytest.mark.parametrize("page", ["detail", "version", "api-versions"])
def test_document_pages_cost_the_same_with_more_revisions(client_for, api_for, effective_document, staff, manager, manager2, page):
    def url():
        document = effective_document
        if page == "detail":
            return reverse("documents:detail", args=[document.pk])
        if page == "version":
            return reverse("documents:version", args=[document.pk, document.versions.first().pk])
        return reverse("api-document-version-list", args=[document.pk])

    client = api_for(manager) if page == "api-versions" else client_for(manager)
    add_revisions(effective_document, 1, staff=staff, manager=manager, reviewer=manager2)
    small, small_sql = count_queries(client, url())
    add_revisions(effective_document, 4, staff=staff, manager=manager, reviewer=manager2)
    large, sql = count_queries(client, url())
    assert large == small, "\n".join(q[:150] for q in small_sql) + "\n---\n" + "\n".join(q[:150] for q in sql)
    # Issue 9: at most 12 a page (the detail page was 15, the version page 14).
    assert large <= 12, "\n".join(sql)
