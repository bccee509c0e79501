"""Journey 1: A's programme manager drafts a bilateral data-sharing agreement with B; B's
programme manager, told so, designates B's signatory; each side's signatory signs with their
password and authenticator code; it is active for both, and the certificate downloads."""

import re

from agreements.models import Agreement
from tests.e2e.support import check_accessibility, fresh_code, screenshot, sign_in, sign_out
from tests.factories import PASSWORD


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
    page.get_by_label(re.compile("^Parties")).select_option(label=[world.a.name, world.b.name])
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


def agreement_hash(agreement) -> str:
    agreement.refresh_from_db()
    return agreement.content_hash
