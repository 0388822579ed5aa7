"""Log in as each role in real headless Chromium: the navigation shows exactly what the role
may use, the auditor sees the read-only banner, and logging out returns to the login page.
Screenshots go to tests/e2e/artifacts/ (open them to check the layout)."""

import pytest
from django.urls import NoReverseMatch, reverse

from qms import roles as qms_roles
from qms.context_processors import NAVIGATION
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

ROLE_OF_PERSONA = {
    "staff": qms_roles.STAFF,
    "manager": qms_roles.MANAGER,
    "auditor": qms_roles.AUDITOR,
    "employee": qms_roles.EMPLOYEE,
    "administrator": qms_roles.ADMINISTRATOR,
}


def expected_navigation(role: str) -> list[str]:
    labels = []
    for label, url_name, allowed in NAVIGATION:
        if role not in allowed:
            continue
        try:
            reverse(url_name)
        except NoReverseMatch:
            continue  # the app has not built that page yet
        labels.append(label)
    return labels


def test_the_login_page_refuses_a_wrong_password(page, live_server, staff, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "login")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in page.url
    assert page.locator(".errorlist").count() == 1
    screenshot(page, "login-error")


def test_each_role_logs_in_and_sees_exactly_its_navigation(page, live_server, login, personas, screenshot):
    # One test for all roles: a browser test's cost is mostly the database flush after it.
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    for persona, role in ROLE_OF_PERSONA.items():
        user = personas[persona]
        login(page, user.username, PASSWORD)
        assert page.url.rstrip("/") == live_server.url, f"{persona} did not land on My work: {page.url}"
        assert page.locator("h1").first.inner_text() == "My work"

        nav = page.locator("header.topbar nav a").all_inner_texts()
        assert nav == expected_navigation(role), f"navigation of {persona}"
        assert page.locator("header.topbar .role").all_inner_texts() == [role]
        assert page.locator(".readonly-banner").count() == (1 if role == qms_roles.AUDITOR else 0)
        screenshot(page, f"home-{persona}")

        page.click("header.topbar form.inline-form button")
        page.wait_for_load_state("networkidle")
        assert "/accounts/login/" in page.url, f"{persona} was not logged out"

    # A user without a role sees no section links at all.
    login(page, "outsider", PASSWORD)
    assert page.locator("header.topbar nav a").all_inner_texts() == []
    assert "ask an administrator" in page.content()
    screenshot(page, "home-outsider")
    # The CSP forbids inline scripts and styles: nothing on these pages may trip it.
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
