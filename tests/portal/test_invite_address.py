"""Inviting an address never tells the organisation admin whether it already has an account
somewhere on the portal: the answer is the same, and the address's owner is told instead."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from portal import services
from portal.models import AuditEvent, Membership


def _invite_through_the_form(client, world, email: str, username: str):
    client.force_login(world.a_admin)
    return client.post(
        f"/organisations/{world.a.slug}/members/invite/",
        {"username": username, "email": email, "first_name": "Nora", "roles": ["reviewer"]},
        follow=True,
    )


def _shown(response, username: str, email: str) -> list[str]:
    """What the admin reads after inviting, with this invitation's own names taken out."""
    return [
        str(m).replace(username, "USERNAME").replace(email, "EMAIL")
        for m in response.context["messages"]
    ]


@pytest.mark.parametrize("spelling", [str, str.upper, lambda e: f"  {e.title()} "])
def test_an_address_with_an_account_elsewhere_gets_the_same_answer_as_a_new_one(
    world, client, spelling
):
    taken = spelling(world.c_member.email)
    existing = _invite_through_the_form(client, world, taken, "nora-one")
    fresh = _invite_through_the_form(client, world, "nora@atl.example", "nora-two")

    assert existing.status_code == fresh.status_code == 200
    assert existing.redirect_chain == fresh.redirect_chain
    assert _shown(existing, "nora-one", taken.strip().lower()) == _shown(
        fresh, "nora-two", "nora@atl.example"
    )
    assert "already exists" not in existing.content.decode()
    # Nothing was created for the taken address: its owner keeps their one account.
    assert not Membership.objects.filter(user__username="nora-one").exists()


def test_the_owner_of_the_address_is_told_with_only_the_inviting_organisations_name(world, client):
    _invite_through_the_form(client, world, world.c_member.email, "nora-one")

    [notice] = mail.outbox
    assert notice.to == [world.c_member.email]
    assert world.a.name in notice.subject + notice.body
    for detail in ("nora-one", world.a_admin.username, world.a.slug, "/accounts/password/"):
        assert detail not in notice.subject + notice.body
    assert "already has an account" in notice.body


def test_the_withheld_invitation_is_audited_for_the_owners_organisation_only(world, client):
    _invite_through_the_form(client, world, world.c_member.email, "nora-one")

    event = AuditEvent.objects.get(action="member.invitation_withheld")
    assert event.organisation == world.c
    assert event.details["inviting_organisation"] == world.a.slug
    # A's admins read their own log: the event is not there to tell them.
    client.force_login(world.a_admin)
    log = client.get(f"/organisations/{world.a.slug}/audit/").content.decode()
    assert "invitation_withheld" not in log


def test_platform_staff_see_every_account_and_are_told_plainly(world):
    with pytest.raises(ValidationError, match="already exists"):
        services.invite_member(
            actor=world.staff,
            organisation=world.a,
            username="nora-one",
            email=world.c_member.email.upper(),
            base_url="http://testserver/",
        )
    assert mail.outbox == []


def test_the_staff_invite_form_refuses_a_taken_address_in_plain_words(world):
    from portal.forms import StaffInviteMemberForm

    form = StaffInviteMemberForm(
        {"username": "nora-one", "email": world.c_member.email.upper(), "roles": []}
    )
    assert not form.is_valid()
    assert form.errors["email"] == ["An account with this email address already exists."]
