"""Ending access to a resource asks first and says concretely who loses what."""

import html
import re

from resources.models import ShareStatus
from tests.resources.conftest import new_resource, share_with_b


def what_ends(body: str) -> list[str]:
    block = body.split('id="consequences-heading"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block)
    return [html.unescape(re.sub(r"\s+", " ", item)).strip() for item in items]


def test_terminating_counts_the_resources_that_become_invisible(sharing, client):
    world = sharing
    for title in ("Quarterly threat landscape", "Phishing kit analysis"):
        share_with_b(world, new_resource(world, title=title))
    client.force_login(world.a_signatory)
    ends = what_ends(client.get(f"/agreements/{world.ab_agreement.pk}/terminate/").content.decode())
    assert (
        f"The 2 resources your organisation shared under it become invisible to {world.b.name}."
    ) in ends

    client.force_login(world.b_signatory)
    ends = what_ends(client.get(f"/agreements/{world.ab_agreement.pk}/terminate/").content.decode())
    assert (
        f"The 2 resources partners shared with {world.b.name} under it become invisible to "
        f"{world.b.name}."
    ) in ends
    assert not any("your organisation shared" in sentence for sentence in ends)


def test_the_revoke_confirmation_says_who_loses_what_with_a_plain_cancel(sharing, client):
    world = sharing
    resource = new_resource(world)
    share = share_with_b(world, resource)
    client.force_login(world.a_pm)
    body = client.get(resource.get_absolute_url()).content.decode()
    form = body.split(f'action="/resources/{resource.pk}/shares/{share.pk}/revoke/"', 1)[1]
    form = re.sub(r"\s+", " ", form.split("</form>", 1)[0])
    assert (
        f"Every member of {world.b.name} loses access at once: they can no longer open or "
        f"download “{resource.title}”."
    ) in form
    assert "It cannot be undone" in form
    assert re.search(r'class="button button-danger button-small">Revoke share with ', form)
    assert f'class="button button-quiet button-small" href="{resource.get_absolute_url()}' in form
    share.refresh_from_db()
    assert share.status == ShareStatus.ACTIVE
