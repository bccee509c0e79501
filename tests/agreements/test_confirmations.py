"""Withdrawing and terminating ask first, saying what will end, with the confirm button
styled as danger and Cancel a plain link back."""

import html
import re

from agreements import services
from agreements.models import AgreementStatus
from tests.agreements.conftest import fresh_reauth


def danger_button(body: str) -> str:
    found = re.search(r'<button type="submit" class="button button-danger">([^<]+)</button>', body)
    return found.group(1) if found else ""


def cancel_is_plain(body: str, agreement) -> bool:
    return (
        f'<a class="button button-quiet" href="{agreement.get_absolute_url()}">Cancel</a>' in body
    )


def what_ends(body: str) -> list[str]:
    block = body.split('id="consequences-heading"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block)
    return [html.unescape(re.sub(r"\s+", " ", item)).strip() for item in items]


def test_withdrawing_says_whose_signatures_become_void(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    signature = services.sign(
        actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth()
    )
    client.force_login(people.a_pm)
    body = client.get(f"/agreements/{draft.pk}/withdraw/").content.decode()
    name = people.b_signatory.get_full_name()
    assert what_ends(body) == [
        f"The signature of {name} for {people.b.name}, given on "
        f"{signature.signed_at:%-d %b %Y}, becomes void."
    ]
    assert danger_button(body) == "Withdraw" and cancel_is_plain(body, draft)


def test_withdrawing_before_anyone_signed_says_no_signature_is_lost(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    client.force_login(people.a_pm)
    body = client.get(f"/agreements/{draft.pk}/withdraw/").content.decode()
    assert what_ends(body) == ["Nobody has signed yet: no signature is lost."]


def test_terminating_says_every_share_and_the_member_lists_end(active, people, client):
    client.force_login(people.a_signatory)
    body = client.get(f"/agreements/{active.pk}/terminate/").content.decode()
    ends = what_ends(body)
    assert ends[0] == (
        "Every share made under it ends, whoever made it: its recipients lose access to what "
        f"was shared with them under {active.label}."
    )
    assert (
        f"Your organisation and {people.b.name} stop seeing each other's member lists, unless "
        "another agreement in force between you keeps them open."
    ) in ends
    assert "It cannot be undone." in body
    assert danger_button(body) == "Terminate" and cancel_is_plain(body, active)
    active.refresh_from_db()
    assert active.status == AgreementStatus.ACTIVE  # opening the page ends nothing
