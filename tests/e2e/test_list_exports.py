"""List exports in real Chromium (issue 18 item 6, docs/decisions/0045): the manager clicks
"Export XLSX" on the complaint list at 1440 px and "Export CSV" at 390 px; each time the progress
line shows rows arriving against the announced total, then says the export is ready, and the
downloaded file holds the list's rows. The network is throttled (Chromium's own emulation) so
that a 40-row export takes a second or two and its progress can be seen.
Screenshots: tests/e2e/artifacts/exports-progress-{1440,390}.png."""

import csv
import io
import secrets

import pytest
from openpyxl import load_workbook
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from complaints import services
from complaints.models import Complaint, Customer
from tests.complaints.conftest import ensure_policies
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = 40
# Records every state of the progress line, so that a test sees it appear and end.
WATCH = """() => {
  const box = document.querySelector('[data-export-progress]');
  window.exportSeen = [];
  const bar = box.querySelector('progress');
  new MutationObserver(() => window.exportSeen.push({
    text: box.querySelector('[data-export-status]').textContent,
    bar: !bar.hidden, value: bar.hasAttribute('value') ? bar.value : null, max: bar.max,
  })).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
# Rows have arrived, not all of them: the moment to photograph.
ROWS_ARRIVING = """(rows) => { const p = document.querySelector('[data-export-progress] progress');
  const text = document.querySelector('[data-export-status]').textContent;
  return !p.hidden && p.value > 0 && p.value < p.max && text.includes(`of ${rows} rows`); }"""


@pytest.fixture
def complaints(staff):
    ensure_policies()
    customer = Customer.objects.create(name="Dr Helen Marsh", organisation="Northwick General", email="helen@northwick.example")
    for n in range(ROWS):
        services.complaint_create(
            # Serial numbers that do not compress away: the XLSX's sheet arrives in several parts.
            actor=staff, title=f"Occlusion alarm silent, pump {n:03d}, serials {secrets.token_hex(24)}", description="Reported by phone.",
            customer=customer, lot_number=f"=SN-{n}" if n == 0 else f"SN 200-{11800 + n}",
        )
    return list(Complaint.objects.values_list("reference", flat=True))


def throttle(page, bytes_per_second: int):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": bytes_per_second, "uploadThroughput": -1,
    })


def export(page, name: str, bytes_per_second: int, screenshot, shot: str):
    page.evaluate(WATCH)
    throttle(page, bytes_per_second)
    status = page.locator("[data-export-status]")
    with page.expect_download() as download:
        page.get_by_role("link", name=name).click()
        try:
            page.wait_for_function(ROWS_ARRIVING, arg=ROWS, timeout=8_000)
        except PlaywrightTimeout:
            raise AssertionError(f"{name}: no moment with some rows arrived: {page.evaluate('window.exportSeen')}") from None
        screenshot(page, shot, full_page=False)
    throttle(page, -1)
    expect(status).to_contain_text("Export ready: complaints-")
    expect(status).to_contain_text(f"{ROWS} rows.")
    expect(page.locator("[data-export-progress] progress")).to_be_hidden()
    seen = page.evaluate("window.exportSeen")
    assert seen[0]["text"] == "Preparing export…" and seen[0]["bar"]
    assert any(s["bar"] and f"of {ROWS} rows" in s["text"] and 0 < s["value"] < s["max"] == ROWS for s in seen)
    assert not seen[-1]["bar"] and seen[-1]["text"].startswith("Export ready")
    return download.value


def test_exports_show_their_progress_and_download_the_list(page, live_server, login, screenshot, manager, complaints, tmp_path):
    login(page, "manager", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/complaints/")
    download = export(page, "Export XLSX", 3_000, screenshot, "exports-progress-1440")
    assert download.suggested_filename.startswith("complaints-") and download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Reference", "Title", "Status")
    assert sorted(r[0] for r in rows[1:]) == sorted(complaints)
    assert "'=SN-0" in {r[9] for r in rows[1:]}  # formula-like text stays quoted

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/complaints/?ordering=reference")
    download = export(page, "Export CSV", 4_000, screenshot, "exports-progress-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    lines = list(csv.reader(io.StringIO(download.path().read_text())))
    assert lines[0][0] == "Reference" and [r[0] for r in lines[1:]] == sorted(complaints)
