"""Journey 5: a partner finds on the API docs page where a token comes from, creates it on the
profile page, authorises with it on the docs page and lists their agreements there; the docs
keep the portal's header and lead back to the portal."""

import re

from tests.agreements.conftest import draft_between
from tests.e2e.support import screenshot, sign_in


def test_authorise_with_a_token_and_list_agreements(e2e_world, new_page):
    world = e2e_world
    draft_between(world, title="Atlantis-Borealis threat exchange")
    draft_between(world, world.a, world.c, title="Atlantis-Caldera secret pact")

    page = new_page()
    sign_in(page, world.b_member)
    page.goto("/api/docs/")
    # The portal's header stays, and the page says where a token comes from.
    assert page.locator("header.topbar").get_by_role("link", name="Cooperation Portal").is_visible()
    assert page.get_by_role("navigation", name="Main").is_visible()
    page.get_by_role("link", name=re.compile("your profile page")).click()
    page.wait_for_url(re.compile(r"/profile/"))
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token)

    page.goto("/api/docs/")
    page.get_by_role("button", name="Authorize").first.click()
    scheme = page.locator(".dialog-ux .auth-container", has_text="tokenAuth")
    scheme.locator("input").fill(f"Token {token}")
    scheme.locator("button.authorize").click()
    scheme.locator("button.btn-done").click()

    # Grouped by area, each with what it holds.
    for area in ("account", "organisations", "agreements", "resources", "projects", "intel"):
        assert page.locator(f"#operations-tag-{area}").is_visible()
    operation = page.locator("#operations-agreements-v1_agreements_list")
    operation.locator(".opblock-summary").click()
    # Each operation says what it does, who may do it and what it answers.
    description = operation.locator(".opblock-description-wrapper")
    assert "Lists the agreements your organisation is a party to" in description.inner_text()
    assert "Who may:" in description.inner_text() and "Answers:" in description.inner_text()
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

    page.get_by_role("link", name="Back to the portal").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("heading", level=1).first.is_visible()


def test_the_docs_fit_a_tablet_and_keep_the_header(e2e_world, new_page):
    page = new_page(width=768)
    sign_in(page, e2e_world.b_member)
    page.goto("/api/docs/")
    page.locator("#operations-tag-agreements").wait_for()
    assert page.locator("header.topbar").is_visible()
    assert page.get_by_text("Your API token", exact=True).is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    screenshot(page, "api-docs")
