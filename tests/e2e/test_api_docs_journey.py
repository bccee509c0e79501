"""Journey 5: a partner creates an API token, authorises with it on the API docs page and lists
their agreements there."""

import re

from tests.agreements.conftest import draft_between
from tests.e2e.support import screenshot, sign_in


def test_authorise_with_a_token_and_list_agreements(e2e_world, new_page):
    world = e2e_world
    draft_between(world, title="Atlantis-Borealis threat exchange")
    draft_between(world, world.a, world.c, title="Atlantis-Caldera secret pact")

    page = new_page()
    sign_in(page, world.b_member)
    page.goto("/profile/")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token)

    page.goto("/api/docs/")
    page.get_by_role("button", name="Authorize").first.click()
    scheme = page.locator(".dialog-ux .auth-container", has_text="tokenAuth")
    scheme.locator("input").fill(f"Token {token}")
    scheme.locator("button.authorize").click()
    scheme.locator("button.btn-done").click()

    operation = page.locator("#operations-v1-v1_agreements_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_request(re.compile(r"/api/v1/agreements/")) as sent:
        operation.get_by_role("button", name="Execute").click()
    assert sent.value.headers.get("authorization") == f"Token {token}"

    body = operation.locator(".live-responses-table .response .microlight").first
    body.wait_for()
    text = body.inner_text()
    assert "Atlantis-Borealis threat exchange" in text
    assert "Atlantis-Caldera secret pact" not in text
    screenshot(page, "api-docs")
