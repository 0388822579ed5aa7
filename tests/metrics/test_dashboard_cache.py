"""The dashboard's figures are computed live and then kept METRICS_DASHBOARD_CACHE_SECONDS as
rendered HTML: a second view costs no KPI query, the page says when the figures were computed,
"Recompute now" (?refresh=1) computes them again at once, and other filters or roles get their
own figures."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.metrics.conftest import at, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.METRICS_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def volume(html: str) -> str:
    tile = html[html.index('data-kpi="complaint_volume"') :]
    tile = tile[tile.index('<div class="value') :]
    return tile[tile.index(">") + 1 : tile.index("</div>")]


def get(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("metrics:dashboard"), params)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_figures_are_kept_then_recomputed_on_request(cached, client_for, manager, staff, build):
    build.complaint(received_at=at(days_ago(2)))
    client = client_for(manager)
    first, computed = get(client)
    assert volume(first) == "1"
    assert (
        "Figures computed" in first
        and "kept for up to 60 seconds" in first
        and "refresh=1" in first
    )

    build.complaint(received_at=at(days_ago(1)))
    second, kept = get(client)
    assert volume(second) == "1"  # kept: the same figures, said to be from the same time
    assert kept < computed - 1, (kept, computed)

    fresh, recomputed = get(client, refresh="1")
    assert volume(fresh) == "2"
    assert recomputed == computed

    # Other filters and another role (no management buttons) are computed for themselves.
    other, _ = get(client, severity="critical")
    assert volume(other) == "0"
    staff_page, staff_queries = get(client_for(staff))
    assert volume(staff_page) == "2" and staff_queries >= computed - 1


def test_zero_seconds_computes_on_every_view(settings, client_for, manager, build):
    settings.METRICS_DASHBOARD_CACHE_SECONDS = 0
    client = client_for(manager)
    build.complaint(received_at=at(days_ago(2)))
    assert volume(get(client)[0]) == "1"
    build.complaint(received_at=at(days_ago(1)))
    page, _ = get(client)
    assert volume(page) == "2" and "kept for up to" not in page
