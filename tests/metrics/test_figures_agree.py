"""Numbers that agree (issue 18 item 5): the last point of every trend is the live value, so a
chart and its tile never disagree; a rate says what it counts and is not 0 % when nothing fell
due; the management review says which side of a target is worse; values print with the
precision of their tile. At a fixed instant, a Wednesday in June."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from metrics import selectors, services
from metrics.kpis import KPI_BY_CODE, Period
from tests.metrics.conftest import at, make_target
from tests.metrics.test_dashboard import charts_of

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 17, 14, 0, tzinfo=datetime.UTC)  # Wednesday 17 June, 15:00 BST


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def today() -> datetime.date:
    return timezone.localdate()


def tile_html(html: str, code: str) -> str:
    start = html.index(f'data-kpi="{code}"')
    return html[start : html.index('<div class="target">', start)]


def answer(build, *, csat: int, hour: int):
    complaint = build.complaint(received_at=at(today(), 8))
    build.survey(complaint, answered_at=at(today(), hour), csat=csat, ces=3, nps=8)


def test_after_recompute_the_chart_ends_on_the_live_value_that_the_tile_shows(
    client_for, manager, build
):
    # Given four answers this morning, three satisfied, and today's snapshot taken then (CSAT 75)
    for csat in (5, 4, 4, 1):
        answer(build, csat=csat, hour=9)
    services.snapshot_kpis(day=today())
    # when two more answers come in, one satisfied (live CSAT: 4 of 6 = 66.7)
    answer(build, csat=2, hour=11)
    answer(build, csat=5, hour=12)
    # then the dashboard's tile and the last point of its chart both say 66.7, for a period of
    # days (one point a day) as for the default quarter (one point a week)
    client = client_for(manager)
    for days in (7, 90):
        period = {
            "from": (today() - datetime.timedelta(days=days - 1)).isoformat(),
            "to": today().isoformat(),
            "refresh": "1",
        }
        response = client.get(reverse("metrics:dashboard"), period)
        html = response.content.decode()
        assert ">66.7%<" in tile_html(html, "csat"), days
        assert "4 of 6 answers scored 4 or 5" in tile_html(html, "csat")
        satisfaction = charts_of(response)["chart-satisfaction"]
        csat_points = satisfaction["datasets"][0]["data"]
        assert csat_points[-1] == 66.7, (days, csat_points)
        assert satisfaction["labels"][-1] == (
            f"{today():%d %b}" if days == 7 else f"wk {today() - datetime.timedelta(days=2):%d %b}"
        )
        # the table under the chart, too, and never more decimals than the tile prints
        assert "66.7<" in html and "66.67" not in html and "66.6667" not in html


def test_the_live_last_point_exists_before_any_snapshot_of_the_period(build):
    answer(build, csat=5, hour=9)
    board = selectors.dashboard(Period.last_days(30), selectors.KpiFilters())
    assert board.charts["chart-volume"]["datasets"][0]["data"][-1] == 1
    assert board.charts["chart-satisfaction"]["datasets"][0]["data"][-1] == 100.0
    assert board.charts["chart-volume"]["labels"][-1] == f"{today():%d %b}"


def test_resolved_on_time_says_what_it_counts_and_is_not_zero_when_nothing_fell_due(
    client_for, manager, build
):
    url = reverse("metrics:dashboard") + f"?from={today().isoformat()}&to={today().isoformat()}"
    client = client_for(manager)
    # Given a complaint resolved early today: its deadline is next week, nothing fell due today
    build.complaint(
        received_at=at(today(), 8),
        resolution_due=at(today() + datetime.timedelta(days=7), 17),
        resolved_at=at(today(), 10),
        status="resolved",
    )
    tile = tile_html(client.get(url).content.decode(), "sla_resolution_rate")
    assert "nothing fell due in the period" in tile
    assert "0.0%" not in tile and "0%" not in tile
    # When another complaint's deadline passed this morning unresolved
    build.complaint(
        received_at=at(today() - datetime.timedelta(days=3), 8), resolution_due=at(today(), 9)
    )
    tile = tile_html(client.get(url).content.decode(), "sla_resolution_rate")
    # then the rate is 0.0 % of the one complaint that fell due, and it says so
    assert "0.0%" in tile and "0 of 1 due in the period" in tile


def test_a_rate_with_a_hostile_or_empty_denominator_reads_as_no_data():
    kpi = KPI_BY_CODE["sla_resolution_rate"]
    empty = selectors.KpiValue("sla_resolution_rate", None, 0, 0)
    tile = selectors.Tile(kpi, empty, empty, None)
    assert tile.counts == "nothing fell due in the period"
    assert selectors.Tile(KPI_BY_CODE["open_complaints"], empty, empty, None).counts == ""
    big = selectors.KpiValue("sla_resolution_rate", 50.0, 12345, 24690)
    assert selectors.Tile(kpi, big, empty, None).counts == "12,345 of 24,690 due in the period"


def test_the_management_review_says_a_missed_lower_is_better_target_is_above_target_and_worse(
    client_for, manager, build
):
    # Given a resolution-time target of 24 h (alert past 72 h) and complaints resolved in 30 h,
    # and a CSAT target of 90 % (alert below 50 %) with 2 of 3 answers satisfied
    make_target("resolution_hours_median", target=24, threshold=72)
    make_target("csat", target=90, threshold=50)
    yesterday = today() - datetime.timedelta(days=1)
    for csat in (5, 5, 1):
        received = at(yesterday - datetime.timedelta(days=2), 8)
        complaint = build.complaint(
            received_at=received,
            resolved_at=received + datetime.timedelta(hours=30),
            status="resolved",
        )
        build.survey(complaint, answered_at=at(yesterday, 10), csat=csat, ces=3, nps=8)
    review = services.review_create(
        actor=manager,
        title="June review",
        period_start=yesterday - datetime.timedelta(days=10),
        period_end=yesterday,
        meeting_on=today(),
        attendees="Maria",
    )
    pack = selectors.review_input_pack(review)
    kpis = {k["code"]: k for k in pack["kpis"]}
    assert kpis["resolution_hours_median"]["status"] == "missed"
    assert kpis["resolution_hours_median"]["status_label"] == "above target (worse)"
    assert kpis["csat"]["status_label"] == "below target (worse)"
    assert kpis["csat"]["formatted"] == "66.7%"
    page = client_for(manager).get(review.get_absolute_url()).content.decode()
    row = re.search(r"Resolution time \(median\)</td>.*?</tr>", page, re.S).group(0)
    assert "above target (worse)" in row and "below target" not in row
    # A pack frozen before this change (status "below target", no label) still reads
    pack["kpis"][0].update(status="below target", status_label=None)
    review.input_pack = pack
    review.save(update_fields=["input_pack"])
    assert client_for(manager).get(review.get_absolute_url()).status_code == 200
