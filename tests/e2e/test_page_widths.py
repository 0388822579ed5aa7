"""Every page of the URL walk, as each role, on a phone (390 x 844) and a desktop (1440 x 900), in
real Chromium (issue 18 items 1 and 2):

- the document never scrolls sideways: `document.documentElement.scrollWidth` is at most the
  viewport's width (tables collapse into cards or scroll inside their own box, user text wraps);
- nothing is cut off sideways inside a box that scrolls or clips (a table in a scrolling
  wrapper): only boxes marked `data-scrolls-x` (the main menu, the training matrix) may;
- the page's primary action (the element marked `data-primary`) lies inside the viewport once
  scrolled to, so it can be reached without horizontal scrolling;
- a full-page screenshot of each page at both sizes goes to $QMS_SCREENSHOT_DIR (default
  tests/e2e/artifacts/pages/), kept by CI as artifacts: `<url name>--<persona>--<width>.png`.

The pages are the URL walk's (tests/test_url_walk.py) HTML pages: every named URL that answers
GET with text/html for the persona, admin and API excepted (the stock admin and DRF's browsable
API are not the product's pages). The data is `seed_demo`, whose first complaint and first CAPA
carry a pasted 300-character link and a serial-number list without a space (complaints/demo.py).

One browser, one context per persona, one navigation per page: the phone check, then the same
page resized to the desktop. A screenshot is taken once per page and size (by the first persona
that sees it), so the run stays within a few minutes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.test_url_walk import PERSONAS, SAMPLE_KWARGS, expected_for, fill_kwargs, routes_to_walk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# Pages whose screenshots are kept for every persona, not only the first one that sees them:
# what each role lands on, and where an employee signs training.
SHOT_EVERY_PERSONA = {"home", "training:my", "complaints:list"}

# Pages that only redirect or act (log out, mark read) are not pages to look at.
NOT_PAGES = {"logout", "login", "notifications-read"}

MEASURE = """() => {
  const doc = document.documentElement;
  const wide = [];
  if (doc.scrollWidth > window.innerWidth) {
    // Name the widest culprits, so a failure says where to look.
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && el.children.length < 40) {
        wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} right=${Math.round(r.right)}`);
      }
    }
  }
  // Content cut off inside a box that scrolls or clips sideways (a table in .table-wrap) is as
  // unreachable as a page that is too wide; only boxes marked data-scrolls-x may do that.
  const clipped = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.scrollWidth <= el.clientWidth + 1 || el.closest('[data-scrolls-x]')) continue;
    if (['TEXTAREA', 'INPUT', 'SELECT', 'CANVAS'].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    if (style.overflowX === 'visible' || style.display === 'inline') continue;
    if (el.clientWidth <= 2 || style.visibility === 'hidden') continue;  // visually hidden (sr-only)
    clipped.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} shows ${el.clientWidth} of ${el.scrollWidth} px`);
  }
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(-4), clipped: clipped.slice(0, 4)};
}"""

PRIMARY = """(el) => {
  el.scrollIntoView({block: 'center', inline: 'nearest'});
  const r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height,
          innerWidth: window.innerWidth, innerHeight: window.innerHeight, text: el.textContent.trim().slice(0, 40)};
}"""


def screenshot_dir() -> Path:
    path = Path(
        os.environ.get("QMS_SCREENSHOT_DIR") or Path(__file__).parent / "artifacts" / "pages"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_layout(page, size: dict, where: str, failures: list[str]) -> None:
    measured = page.evaluate(MEASURE)
    if measured["scrollWidth"] > measured["innerWidth"]:
        failures.append(
            f"{where} at {size['width']} px: the page is {measured['scrollWidth']} px wide; "
            f"wider than the screen: {'; '.join(measured['wide'])}"
        )
    if measured["clipped"]:
        failures.append(
            f"{where} at {size['width']} px: content cut off sideways: {'; '.join(measured['clipped'])}"
        )
    for primary in page.locator("[data-primary]").all():
        if not primary.is_visible():
            continue
        box = primary.evaluate(PRIMARY)
        if box["left"] < 0 or box["right"] > box["innerWidth"] + 0.5 or box["width"] == 0:
            failures.append(
                f"{where} at {size['width']} px: primary action {box['text']!r} is outside the screen "
                f"(left {box['left']:.0f}, right {box['right']:.0f} of {box['innerWidth']})"
            )


MATRIX_TOTALS = """() => {
  const box = document.querySelector('.mx-wrap').getBoundingClientRect();
  const foot = document.querySelector('#training-matrix tfoot td:last-child').getBoundingClientRect();  // cells stick, rows do not
  const wrap = document.querySelector('.mx-wrap');
  return {boxTop: box.top, boxBottom: box.bottom, footTop: foot.top, footBottom: foot.bottom,
          scrolls: wrap.scrollHeight > wrap.clientHeight + 1};
}"""


def check_matrix_totals_in_view(page, where: str, failures: list[str]) -> None:
    """Issue 18 item 8: on a short screen the matrix scrolls inside its box; its totals row stays
    in view at the bottom of the box (sticky), not clipped below it."""
    page.set_viewport_size({"width": 1440, "height": 480})
    page.locator(".mx-wrap").scroll_into_view_if_needed()
    box = page.evaluate(MATRIX_TOTALS)
    if not box["scrolls"]:
        failures.append(
            f"{where} at 1440 x 480: the matrix box does not scroll; the totals check proves nothing"
        )
    elif box["footBottom"] > box["boxBottom"] + 1 or box["footTop"] < box["boxTop"]:
        failures.append(f"{where} at 1440 x 480: the totals row is clipped ({box})")
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def demo_pages(transactional_db):
    """seed_demo, the walk's personas, and per persona the HTML pages it may open."""
    from django.contrib.auth import get_user_model

    from qms import roles as qms_roles
    from tests.conftest import make_user

    started = time.monotonic()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"seed_demo took {time.monotonic() - started:.0f}s")
    users = {
        name: get_user_model().objects.get(username=name)
        for name in ("staff", "manager", "auditor", "employee")
    }
    users["administrator"] = make_user("administrator", qms_roles.ADMINISTRATOR)
    users["outsider"] = make_user("outsider")
    routes, _problems = routes_to_walk()
    routes_by_name = {route.name: route for route in routes}
    urls = {}
    for route in routes:
        if route.is_api or route.is_admin or route.name in NOT_PAGES or not route.answers_get():
            continue
        kwargs, problem = fill_kwargs(route)
        if problem is None:
            urls[route.name] = reverse(route.name, kwargs=kwargs)
    # One-time links (a survey's token) are spent by nothing here, but keep them last.
    pages: dict[str, list[tuple[str, str]]] = {}
    sessions = {}
    # Whether a URL is a page (HTML) or a download is asked once, of the first persona that
    # may open it; the others open it in the browser (a 403 or 404 there is the URL walk's
    # concern, not a layout's, and is skipped).
    is_page: dict[str, bool] = {}
    for persona in ("anonymous", *PERSONAS):
        client = Client(raise_request_exception=False)
        if persona != "anonymous":
            client.force_login(users[persona])
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        pages[persona] = []
        for name, url in urls.items():
            route = routes_by_name[name]
            if persona == "anonymous" and route.login_required:
                continue
            if persona != "anonymous" and 200 not in expected_for(route, persona, users[persona]):
                continue
            if name not in is_page:
                response = client.get(url)
                if response.status_code != 200:
                    continue
                is_page[name] = response.get("Content-Type", "").startswith("text/html")
            if is_page[name]:
                pages[persona].append((name, url))
    print(f"seed_demo and the choice of pages took {time.monotonic() - started:.0f}s")
    return pages, sessions


def test_every_page_fits_a_phone_and_a_desktop(browser, live_server, demo_pages):
    pages, sessions = demo_pages
    shots = screenshot_dir()
    failures: list[str] = []
    shot_taken: set[str] = set()
    covered: set[str] = set()
    started = time.monotonic()
    visits = 0
    for persona, persona_pages in pages.items():
        context = browser.new_context(viewport=PHONE)
        if persona in sessions:
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": sessions[persona],
                        "url": live_server.url,
                    }
                ]
            )
        page = context.new_page()
        for name, url in persona_pages:
            where = f"{persona} {url} ({name})"
            page.set_viewport_size(PHONE)
            response = page.goto(f"{live_server.url}{url}", wait_until="load")
            visits += 1
            if response is None or response.status != 200:
                continue  # scoped away from this persona (the URL walk checks the answers)
            covered.add(name)
            check_layout(page, PHONE, where, failures)
            first_view = name not in shot_taken or name in SHOT_EVERY_PERSONA
            if first_view:
                page.screenshot(
                    path=str(shots / f"{name.replace(':', '-')}--{persona}--390.png"),
                    full_page=True,
                )
            page.set_viewport_size(DESKTOP)
            check_layout(page, DESKTOP, where, failures)
            if name == "training:matrix":
                check_matrix_totals_in_view(page, where, failures)
            if first_view:
                page.screenshot(
                    path=str(shots / f"{name.replace(':', '-')}--{persona}--1440.png"),
                    full_page=True,
                )
                shot_taken.add(name)
        context.close()
    took = time.monotonic() - started
    (shots / "failures.txt").write_text("\n".join(failures) + "\n")
    (shots / "pages.txt").write_text("\n".join(sorted(covered)) + "\n")
    print(
        f"{visits} page visits, {len(covered)} distinct pages, {len(shot_taken) * 2} screenshots in {took:.0f}s -> {shots}"
    )
    assert len(covered) >= 40, f"only {len(covered)} pages walked: {sorted(covered)}"
    assert "complaints:survey" in SAMPLE_KWARGS  # the customer's survey page is walked too
    assert not failures, f"{len(failures)} layout problem(s):\n" + "\n".join(failures)
