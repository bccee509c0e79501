"""Journey 4: an org admin invites a new member, who sets a password through the emailed link
and signs in."""

import re

from django.core import mail

from tests.e2e.support import check_accessibility, screenshot, sign_in

NEW_PASSWORD = "a-long-and-new-passphrase-42"


def test_invite_set_password_and_sign_in(e2e_world, new_page, clock):
    world = e2e_world
    admin = new_page()
    sign_in(admin, world.a_admin, clock)
    admin.goto(f"/organisations/{world.a.slug}/members/")
    admin.get_by_role("link", name=re.compile("Invite")).click()
    check_accessibility(admin, "invite form")
    admin.get_by_label(re.compile("^Username")).fill("atl-newcomer")
    admin.get_by_label(re.compile("^Email")).fill("newcomer@atl-csirt.example")
    admin.get_by_label(re.compile("^First name")).fill("Nadia")
    admin.get_by_label(re.compile("^Last name")).fill("Newcomer")
    admin.get_by_label("Programme manager").check()
    admin.get_by_role("button", name=re.compile("Invite|Send")).click()
    admin.get_by_text(re.compile("atl-newcomer")).first.wait_for()
    screenshot(admin, "members")

    (invitation,) = [m for m in mail.outbox if "newcomer@atl-csirt.example" in m.to]
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", invitation.body).group(0)

    newcomer = new_page()
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
    assert newcomer.get_by_text(world.a.name).first.is_visible()
