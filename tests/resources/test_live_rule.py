"""Access follows the live rule on every exit, even when `tick` never runs.

The clock is moved past the agreement's last day and tick is not run: the stored grant rows
are still there, and every page, list, count, search, dashboard card, API route and member
list must already answer as if they were gone. A refused object is a 404.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from agreements import services as agreement_services
from resources.models import ResourceGroupObjectPermission
from tests.resources.conftest import new_resource, share_with_b

TITLE = "Lapsing indicators of compromise"


def noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def shared(sharing):
    """A's AMBER report, shared with B a few days before the A-B agreement expires (so it is
    still on B's dashboard among what was shared lately)."""
    days_before = sharing.ab_agreement.expires_on - datetime.timedelta(days=3)
    with time_machine.travel(noon(days_before), tick=False):
        resource = new_resource(sharing, title=TITLE)
        share_with_b(sharing, resource)
    sharing.extra["resource"] = resource
    return sharing


def exits(world, client, api) -> dict[str, bool]:
    """What B's member can learn of the resource, and of A's members, on each exit."""
    resource = world.resource
    client.force_login(world.b_member)
    api.force_authenticate(world.b_member)
    library = client.get("/resources/").content.decode()
    search = client.get("/resources/", {"q": "Lapsing"}).content.decode()
    scoped = client.get("/resources/", {"scope": "shared_with_us"}).content.decode()
    api_list = api.get("/api/v1/resources/").json()
    api_search = api.get("/api/v1/resources/", {"q": "Lapsing"}).json()
    return {
        "library": TITLE in library,
        "search": TITLE in search,
        "shared with us": TITLE in scoped,
        "dashboard": TITLE in client.get("/").content.decode(),
        "detail page": client.get(resource.get_absolute_url()).status_code == 200,
        "download": client.get(f"/resources/{resource.pk}/download/").status_code == 200,
        "api list": any(r["id"] == resource.pk for r in api_list["results"]),
        "api count": api_search["count"] > 0,
        "api detail": api.get(f"/api/v1/resources/{resource.pk}/").status_code == 200,
        "member list": client.get(f"/organisations/{world.a.slug}/members/").status_code == 200,
        "api member list": api.get(f"/api/v1/organisations/{world.a.slug}/members/").status_code
        == 200,
    }


def test_every_exit_closes_the_day_after_expiry_without_tick(shared, client):
    api = APIClient()
    last_day = shared.ab_agreement.expires_on
    with time_machine.travel(noon(last_day), tick=False):
        before = exits(shared, client, api)
    assert before == dict.fromkeys(before, True), before

    with time_machine.travel(noon(last_day + datetime.timedelta(days=1)), tick=False):
        after = exits(shared, client, api)
        # tick has not run: the grant rows are still stored, yet nothing shows them.
        assert ResourceGroupObjectPermission.objects.filter(
            content_object=shared.resource, group=shared.b.group
        ).exists()
    assert after == dict.fromkeys(after, False), after


def test_hidden_after_expiry_answers_404_not_403(shared, client):
    api = APIClient()
    resource = shared.resource
    after = shared.ab_agreement.expires_on + datetime.timedelta(days=1)
    with time_machine.travel(noon(after), tick=False):
        client.force_login(shared.b_member)
        api.force_authenticate(shared.b_member)
        assert client.get(resource.get_absolute_url()).status_code == 404
        assert client.get(f"/resources/{resource.pk}/download/").status_code == 404
        assert api.get(f"/api/v1/resources/{resource.pk}/").status_code == 404
        assert api.get(f"/api/v1/resources/{resource.pk}/download/").status_code == 404


def test_a_termination_scheduled_for_later_closes_access_on_its_day(shared, client):
    api = APIClient()
    effective = timezone.localdate() + datetime.timedelta(days=10)
    agreement_services.terminate(
        actor=shared.a_signatory,
        agreement=shared.ab_agreement,
        reason="The programme ends early.",
        effective_on=effective,
    )
    with time_machine.travel(noon(effective - datetime.timedelta(days=1)), tick=False):
        before = exits(shared, client, api)
    assert before == dict.fromkeys(before, True), before
    with time_machine.travel(noon(effective), tick=False):
        after = exits(shared, client, api)
    assert after == dict.fromkeys(after, False), after


def test_the_owner_keeps_its_own_resource_after_the_agreement_ends(shared, client):
    after = shared.ab_agreement.expires_on + datetime.timedelta(days=1)
    with time_machine.travel(noon(after), tick=False):
        client.force_login(shared.a_member)
        assert client.get(shared.resource.get_absolute_url()).status_code == 200
        assert TITLE in client.get("/resources/").content.decode()
