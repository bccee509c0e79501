"""Journey 1: A's programme manager drafts a bilateral data-sharing agreement with B (choosing
B in the parties' picker with the keyboard); B's programme manager, told so, designates B's
signatory; each side's signatory signs with their password and authenticator code; it is
active for both, and the certificate downloads."""

import re

from agreements.models import Agreement
from portal import services as portal_services
from tests.e2e.support import check_accessibility, fresh_code, screenshot, sign_in, sign_out
from tests.factories import PASSWORD, OrganisationFactory, platform_staff


def test_draft_sign_and_download_the_certificate(e2e_world, new_page, clock):
    world = e2e_world
    page = new_page()

    sign_in(page, world.a_pm)
    page.get_by_role("link", name="Agreements", exact=True).click()
    page.get_by_role("link", name="Draft an agreement").click()
    check_accessibility(page, "agreement form")
    page.get_by_label(re.compile("^Title")).fill("Atlantis-Borealis incident exchange")
    page.get_by_label(re.compile("^Kind")).select_option(label="Data-sharing agreement")
    page.get_by_label(re.compile("^Purpose")).fill("Exchange incident reports.")
    choose_party_with_the_keyboard(page, world)
    page.get_by_label(re.compile("^Body")).fill("# Terms\n\nEach party shares incident reports.")
    page.get_by_label("Incidents").check()
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_url(re.compile(r"/agreements/\d+/$"))
    agreement = Agreement.objects.get(title="Atlantis-Borealis incident exchange")
    check_accessibility(page, "agreement draft")
    # B's signatories are B's to name: A's draft does not show them.
    assert world.b_signatory.username not in page.content()
    sign_out(page)

    page = new_page()
    sign_in(page, world.b_pm)
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    page.get_by_role("link", name=re.compile("designate who signs")).first.click()
    check_accessibility(page, "party form")
    page.get_by_label(re.compile(re.escape(f"({world.b_signatory.username})"))).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/agreements/\d+/$"))
    sign_out(page)

    page = new_page()
    sign_in(page, world.a_pm)
    page.goto(agreement.get_absolute_url())
    assert page.get_by_text(world.b_signatory.get_full_name()).first.is_visible()
    page.get_by_role("link", name="Submit for signature").click()
    page.get_by_role("button", name="Submit for signature").click()
    page.wait_for_url(re.compile(r"/agreements/\d+/$"))
    assert page.get_by_text("Awaiting signatures").first.is_visible()
    sign_out(page)

    for signatory in (world.a_signatory, world.b_signatory):
        page = new_page()
        sign_in(page, signatory, clock)
        page.goto(agreement.get_absolute_url())
        page.get_by_role("link", name="Sign", exact=True).click()
        check_accessibility(page, "sign form")
        # What is signed is on the form itself: the parties, the terms and the hash.
        summary = page.locator(".signing-summary")
        assert summary.get_by_text(world.b.name).is_visible()
        assert summary.get_by_text(agreement_hash(agreement)).is_visible()
        organisation = signatory.membership.organisation.name
        page.get_by_label(re.compile(f"I sign .* on behalf of {re.escape(organisation)}")).check()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Authenticator code (required)").fill(fresh_code(signatory, clock))
        page.get_by_role("button", name="Sign", exact=True).click()
        page.wait_for_url(re.compile(r"/agreements/\d+/$"))
        assert page.get_by_text(re.compile(r"You signed on .* UTC\.")).is_visible()
        assert page.get_by_role("link", name="Sign", exact=True).count() == 0
        sign_out(page)

    agreement.refresh_from_db()
    assert agreement.status == "active"
    for member in (world.a_pm, world.b_member):
        page = new_page()
        sign_in(page, member, clock)
        page.goto(agreement.get_absolute_url())
        assert page.locator(".badge-active").first.is_visible()
        assert page.get_by_text("Active").first.is_visible()
    screenshot(page, "agreement-active")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("certificate", re.I)).click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")


def choose_party_with_the_keyboard(page, world) -> None:
    """In the parties' chip picker: A is a fixed chip; type, arrow and Enter choose B and C;
    C's chip is removed with its button, and Backspace takes back the last choice."""
    picker = page.get_by_role("combobox", name=re.compile("^Parties"))
    chips = page.locator("#id_parties_chips")
    # The plain select is hidden and the search box has its label.
    assert page.locator("select#id_parties").is_hidden()
    assert chips.get_by_text(world.a.name).is_visible()
    assert chips.get_by_role("button", name=f"Remove {world.a.name}").count() == 0

    picker.fill("cal")
    listbox = page.get_by_role("listbox", name=re.compile("^Parties"))
    assert listbox.get_by_role("option").all_inner_texts() == [f"{world.c.name} {world.c.slug}"]
    picker.press("Enter")
    assert chips.get_by_text(world.c.name).is_visible()
    screenshot(page, "agreement-parties-picker")

    picker.press("Escape")
    assert listbox.is_hidden()
    picker.press("ArrowDown")  # opens the list on the first option left: B
    assert picker.get_attribute("aria-expanded") == "true"
    active = page.locator("#" + picker.get_attribute("aria-activedescendant"))
    assert active.inner_text().startswith(world.b.name)
    picker.press("Enter")
    assert chips.get_by_text(world.b.name).is_visible()
    assert page.get_by_text("Everything is chosen.").is_visible()

    chips.get_by_role("button", name=f"Remove {world.c.name}").click()
    assert chips.get_by_text(world.c.name).count() == 0
    assert page.evaluate("document.activeElement.id") == "id_parties_search"
    picker.press("Backspace")  # B goes; A, fixed, stays whatever is pressed
    picker.press("Backspace")
    assert chips.get_by_text(world.b.name).count() == 0
    assert chips.get_by_text(world.a.name).is_visible()
    picker.fill("bor")
    picker.press("Enter")
    picker.press("Escape")

    selected = page.eval_on_selector(
        "select#id_parties", "s => Array.from(s.selectedOptions, o => o.text)"
    )
    assert selected == [world.a.name, world.b.name]


def test_a_party_the_form_does_not_offer_is_still_refused(e2e_world, new_page):
    """A request carrying an organisation the picker never offered (here an inactive one,
    slipped into the page) is refused in words, and nothing is drafted."""
    world = e2e_world
    closed = OrganisationFactory(name="Closed Ministry", slug="closed")
    portal_services.update_organisation(
        actor=platform_staff(), organisation=closed, is_active=False
    )
    page = new_page(width=768)  # a tablet: the picker fits it too
    sign_in(page, world.a_pm)
    page.goto("/agreements/new/")
    page.get_by_label(re.compile("^Title")).fill("Forged parties")
    page.get_by_label(re.compile("^Kind")).select_option(label="Data-sharing agreement")
    page.get_by_label(re.compile("^Purpose")).fill("Try a party that cannot be one.")
    page.get_by_label(re.compile("^Body")).fill("Text.")
    picker = page.get_by_role("combobox", name=re.compile("^Parties"))
    picker.fill("closed")
    assert page.locator("#id_parties_listbox").get_by_role("option").count() == 0
    assert page.get_by_text("Nothing matches “closed”.").is_visible()
    page.eval_on_selector(
        "select#id_parties",
        "(s, pk) => s.add(new Option('Closed Ministry', pk, true, true))",
        str(closed.pk),
    )
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_load_state()
    assert page.get_by_text(
        f"Select a valid choice. {closed.pk} is not one of the available choices."
    ).is_visible()
    # The answer keeps the person's choices as chips, the fixed one among them.
    assert page.locator("#id_parties_chips").get_by_text(world.a.name).is_visible()
    assert not Agreement.objects.filter(title="Forged parties").exists()
    check_accessibility(page, "agreement form with an error")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the form is {overflow}px wider than the screen"
    page.get_by_role("combobox", name=re.compile("^Parties")).fill("a")
    screenshot(page, "agreement-parties-refused")


def agreement_hash(agreement) -> str:
    agreement.refresh_from_db()
    return agreement.content_hash
