"""What the journeys do again and again: sign in through the real page (with the second
factor), check a page with axe, and keep screenshots to look at."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import ARTIFACTS, AXE
from tests.factories import PASSWORD, totp_code

#: axe's impact levels that fail a test.
BLOCKING = {"serious", "critical"}


def sign_in(page, user, clock=None) -> None:
    """Sign in as a person would: the form, then the code when they have an authenticator."""
    page.goto("/accounts/login/")
    page.get_by_label("Login").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if "/accounts/2fa/authenticate/" in page.url:
        page.get_by_label("Code").fill(fresh_code(user, clock))
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/$"))


def sign_out(page) -> None:
    """Sign out from the user menu, opening the menus it sits in first (on a phone, the main
    menu; on a laptop, the menu under the person's name)."""
    sign_out_button = page.get_by_role("button", name="Sign out")
    for toggle in (page.locator(".menu-toggle"), page.locator(".user-toggle")):
        if not sign_out_button.is_visible() and toggle.is_visible():
            toggle.click()
    sign_out_button.click()
    page.wait_for_url(re.compile(r"/accounts/"))


def fresh_code(user, clock) -> str:
    """The person's next unused authenticator code: wait (move the clock) for a new period."""
    if clock is not None:
        clock.shift(30)
    return totp_code(user)


def check_accessibility(page, label: str) -> None:
    """Run axe-core on the page; serious or critical violations fail the test."""
    if not AXE.exists():
        pytest.skip(f"axe-core is missing ({AXE}): run `npm ci` (make test does).")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{label}: " + json.dumps(
        [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "where": [n["target"] for n in v["nodes"][:5]],
            }
            for v in blocking
        ],
        indent=1,
    )


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=ARTIFACTS / f"{name}-{width}.png", full_page=True)
