"""The complaint list searched for a word only a description holds, in real Chromium at 1440
and 390 px (issue 18 item 7): the match is listed, best first, and the page never scrolls
sideways. Screenshots: tests/e2e/artifacts/search-complaints-{1440,390}.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints import services
from complaints.models import Customer, Product
from tests.complaints.conftest import ensure_policies
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 390])
def test_the_complaint_list_finds_a_word_of_the_descriptions(page, live_server, login, screenshot, staff, width):
    # given: complaints whose titles do not hold the word "sterilisation"
    ensure_policies()
    now = timezone.now()
    hospital = Customer.objects.create(name="Jane Roe", organisation="St Mary's Hospital", email="jane@example.org")
    pump = Product.objects.create(code="INF-200", name="Infusion pump")
    rows = [
        ("Housing cracked after sterilisation", "Hairline crack along the seam.", 5),
        ("Seal leaking at the port", "Fluid under the pump after the sterilisation cycle at 134 °C.", 2),
        ("Label misprinted", "Wrong expiry date on the carton.", 1),
        ("Alarm does not sound", "The occlusion alarm stayed silent during a bench test.", 3),
    ]
    for title, description, hours in rows:
        services.complaint_create(
            actor=staff, title=title, description=description, customer=hospital, product=pump,
            received_at=now - timedelta(hours=hours),
        )
    page.set_viewport_size({"width": width, "height": 900})
    login(page, staff.username, PASSWORD)
    # when: the list is searched for it
    page.goto(f"{live_server.url}/complaints/")
    page.fill("#id_search", "sterilisation")
    page.locator("#id_search").press("Enter")
    page.wait_for_load_state("networkidle")
    # then: the two that say it, the title match first; nothing wider than the screen
    rows_shown = page.locator("table tbody tr")
    expect(rows_shown).to_have_count(2)
    expect(rows_shown.nth(0)).to_contain_text("Housing cracked after sterilisation")
    expect(rows_shown.nth(1)).to_contain_text("Seal leaking at the port")
    expect(page.locator("#id_search")).to_have_value("sterilisation")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"search-complaints-{width}")
