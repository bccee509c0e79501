"""The top bar and the dialogs with a keyboard, on a phone and on a laptop: the sections fold
behind a Menu button under 768 px, the person's roles are in their menu, Escape closes what
is open and gives the focus back to what opened it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.support import check_accessibility, screenshot, sign_in
from tests.e2e.test_sharing_journey import in_force  # noqa: F401  (a fixture)
from tests.resources.conftest import new_resource


def test_on_a_phone_the_sections_fold_behind_the_menu_button(e2e_world, new_page, clock):
    page = new_page(width=390)
    sign_in(page, e2e_world.a_admin, clock)
    menu = page.get_by_role("button", name="Menu")
    sections = page.get_by_role("navigation", name="Main")
    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert not sections.is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert sections.get_by_role("link", name="Agreements").is_visible()
    # Who they are and what they may do, in the menu: the dashboard no longer says it.
    roles = page.locator(".user-menu-roles")
    assert roles.is_visible()
    assert roles.inner_text() == ("Organisation admin · Programme manager · Signatory · Reviewer")
    assert page.get_by_role("button", name="Sign out").is_visible()
    check_accessibility(page, "the open menu at 390px")

    page.keyboard.press("Tab")  # into the menu
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not sections.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")

    menu.click()
    sections.get_by_role("link", name="Agreements").click()
    page.wait_for_url(re.compile(r"/agreements/$"))
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "false"


def test_on_a_laptop_the_sections_show_and_the_roles_are_in_the_user_menu(
    e2e_world, new_page, clock
):
    page = new_page(width=1280)
    sign_in(page, e2e_world.a_pm, clock)
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name="Projects")
        .is_visible()
    )
    user_menu = page.locator(".user-toggle")
    roles = page.locator(".user-menu-roles")
    assert user_menu.is_visible() and not roles.is_visible()

    user_menu.click()
    assert user_menu.get_attribute("aria-expanded") == "true"
    assert roles.inner_text() == "Programme manager"
    assert page.locator("#user-menu").get_by_role("link", name="Profile and API token").is_visible()
    check_accessibility(page, "the open user menu at 1280px")
    page.keyboard.press("Escape")
    assert not roles.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('user-toggle')")

    user_menu.click()
    page.get_by_role("heading", level=1).click()  # a click elsewhere closes it
    assert not roles.is_visible()


def focus_back_on_share(page) -> None:
    """The focus returns to "Share…" (the dialog's "close" event comes a moment after)."""
    expect(page.get_by_role("link", name="Share…")).to_be_focused()


@pytest.mark.parametrize("width", [1280, 390])
def test_escape_closes_the_share_dialog_and_returns_to_its_button(
    in_force,  # noqa: F811  (the imported fixture)
    new_page,
    clock,
    width,
):
    resource = new_resource(in_force, title="Report to share")
    page = new_page(width=width)
    sign_in(page, in_force.a_pm, clock)
    page.goto(resource.get_absolute_url())
    share = page.get_by_role("link", name="Share…")
    share.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile(in_force.b.name)).check()  # the focus is in the dialog
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    focus_back_on_share(page)

    share.click()  # it opens again, and its Close button also gives the focus back
    page.get_by_role("dialog").get_by_role("button", name=re.compile("^Close")).click()
    assert not page.get_by_role("dialog").is_visible()
    focus_back_on_share(page)


def test_on_a_phone_the_filters_fold_under_the_search_box(e2e_world, new_page, clock):
    """The list comes first on a phone: the filters fold away unless one is in use; a
    laptop shows them all, with nothing to unfold."""
    phone = new_page(width=390)
    sign_in(phone, e2e_world.a_pm, clock)
    phone.goto("/resources/")
    kind = phone.get_by_label("Kind", exact=True)
    assert phone.get_by_label("Search", exact=True).is_visible()
    assert not kind.is_visible()
    screenshot(phone, "resources-filters-folded")
    phone.get_by_text("Filters and sorting").click()
    assert kind.is_visible()
    check_accessibility(phone, "the filters unfolded at 390px")

    phone.goto("/resources/?tlp=amber")
    assert phone.get_by_label("TLP", exact=True).is_visible()  # in use: it stays open
    assert phone.get_by_text("(1 in use)").is_visible()

    laptop = new_page(width=1280)
    sign_in(laptop, e2e_world.a_pm, clock)
    laptop.goto("/resources/")
    assert laptop.get_by_label("Kind", exact=True).is_visible()
    assert not laptop.get_by_text("Filters and sorting").is_visible()
    screenshot(laptop, "resources-filters-laptop")
