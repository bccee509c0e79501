"""Journey 4: an org admin invites a new member (the username suggested from the name), sees
the invitation pending, resends it (the first link stops working), and the newcomer sets a
password through the new link and signs in; a second invitation is revoked after a
confirmation."""

import re

from django.core import mail
from playwright.sync_api import expect

from tests.e2e.support import check_accessibility, screenshot, sign_in

NEW_PASSWORD = "a-long-and-new-passphrase-42"
LINK = r"https?://\S+/accounts/password/reset/key/\S+"


def test_invite_set_password_and_sign_in(e2e_world, new_page, clock):
    world = e2e_world
    admin = new_page()
    sign_in(admin, world.a_admin, clock)
    admin.goto(f"/organisations/{world.a.slug}/members/")
    admin.get_by_role("link", name=re.compile("Invite")).click()
    admin.wait_for_load_state()
    admin.get_by_label(re.compile("^First name")).fill("Nadia")
    admin.get_by_label(re.compile("^Last name")).fill("Nõmm-Newcomer")
    username = admin.get_by_label(re.compile("^Username"))
    # Suggested from the name as it is typed, in ASCII, and still editable.
    expect(username).to_have_value("nadia.nomm.newcomer")
    username.fill("atl-newcomer")
    admin.get_by_label(re.compile("^Email")).fill("newcomer@atl-csirt.example")
    admin.get_by_label(re.compile("^Last name")).fill("Newcomer")
    expect(username).to_have_value("atl-newcomer")  # what the admin typed stays
    admin.get_by_label("Programme manager").check()
    assert admin.get_by_text(
        "Signs or declines agreements on behalf of the organisation."
    ).is_visible()
    # After the suggestions: axe leaves empty style attributes that htmx's settling would
    # copy onto the swapped box, which the page's CSP (rightly) refuses.
    check_accessibility(admin, "invite form")
    screenshot(admin, "invite-form")
    admin.get_by_role("button", name=re.compile("Invite|Send")).click()
    pending = admin.locator("#pending-invitations")
    expect(pending).to_contain_text("atl-newcomer")
    expect(pending).to_contain_text("Pending")
    screenshot(admin, "members")

    (first,) = [m for m in mail.outbox if "newcomer@atl-csirt.example" in m.to]
    first_link = re.search(LINK, first.body).group(0)
    pending.get_by_role("button", name=re.compile("Resend")).click()
    expect(admin.get_by_text(re.compile("A new link was emailed"))).to_be_visible()
    invitation = [m for m in mail.outbox if "newcomer@atl-csirt.example" in m.to][-1]
    link = re.search(LINK, invitation.body).group(0)
    assert link != first_link

    newcomer = new_page()
    newcomer.goto(first_link)  # the first link stopped working when the invitation was resent
    expect(newcomer.get_by_label(re.compile("^New Password:?$", re.I))).to_have_count(0)
    newcomer.goto(link)
    newcomer.wait_for_url(re.compile(r"/accounts/password/reset/key/.+-set-password/"))
    check_accessibility(newcomer, "set password")
    newcomer.get_by_label(re.compile("^New Password:?$", re.I)).fill(NEW_PASSWORD)
    newcomer.get_by_label(re.compile("^New Password \\(again\\)", re.I)).fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Change Password").click()
    newcomer.wait_for_url(re.compile(r"/accounts/password/reset/key/done/"))

    newcomer.goto("/accounts/login/")
    newcomer.get_by_label("Login").fill("atl-newcomer")
    newcomer.get_by_label("Password").fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Sign in").click()
    newcomer.wait_for_url(re.compile(r"/$"))
    assert newcomer.get_by_text("Good to see you, Nadia").is_visible()
    newcomer.locator(".user-toggle").click()  # the top bar's menu says whose member she is
    assert newcomer.locator("#user-menu").get_by_text(world.a.name).is_visible()


def test_revoking_an_invitation_asks_first(e2e_world, new_page, clock):
    world = e2e_world
    admin = new_page()
    sign_in(admin, world.a_admin, clock)
    admin.goto(f"/organisations/{world.a.slug}/members/invite/")  # waits for the page's load
    admin.get_by_label(re.compile("^First name")).fill("Kadri")
    admin.get_by_label(re.compile("^Last name")).fill("Kask")
    expect(admin.get_by_label(re.compile("^Username"))).to_have_value("kadri.kask")
    admin.get_by_label(re.compile("^Email")).fill("kadri@atl-csirt.example")
    admin.get_by_role("button", name="Send invitation").click()
    pending = admin.locator("#pending-invitations")
    expect(pending).to_contain_text("kadri.kask")

    pending.get_by_text(re.compile("Revoke…")).click()
    confirm = pending.get_by_role("button", name=re.compile("Revoke the invitation of kadri.kask"))
    expect(pending.get_by_text(re.compile("stops working"))).to_be_visible()
    check_accessibility(admin, "members with a revoke confirmation open")
    screenshot(admin, "members-revoke")
    confirm.click()

    expect(
        admin.get_by_text(re.compile("The invitation of kadri.kask was revoked"))
    ).to_be_visible()
    expect(admin.locator("#pending-invitations")).to_have_count(0)
    expect(admin.get_by_text("Invitation revoked")).to_be_visible()


def test_deactivation_says_what_it_ends_and_cancel_changes_nothing(e2e_world, new_page, clock):
    world = e2e_world
    admin = new_page()
    sign_in(admin, world.a_admin, clock)
    admin.goto(f"/organisations/{world.a.slug}/members/{world.a_pm.membership.pk}/")
    admin.get_by_role("link", name=re.compile("Deactivate atl-pm")).click()

    expect(admin.get_by_role("heading", level=1)).to_contain_text("Deactivate")
    expect(admin.get_by_text(re.compile("no open session|open session"))).to_be_visible()
    check_accessibility(admin, "deactivation confirmation")
    screenshot(admin, "member-deactivate")
    admin.get_by_role("link", name="Cancel").click()

    expect(admin.get_by_role("link", name=re.compile("Deactivate atl-pm"))).to_be_visible()
    world.a_pm.refresh_from_db()
    assert world.a_pm.is_active
