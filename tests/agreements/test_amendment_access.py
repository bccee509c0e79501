"""An amendment and the version it amends each name the other only to those who may see it,
and the diff against the old version is shown only to parties of the old version."""

import pytest
from rest_framework.test import APIClient

from agreements import services
from portal import services as portal_services
from portal.models import Role
from tests.factories import UserFactory, designate_signatories


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {portal_services.rotate_api_token(actor=user).key}"
    )
    return client


@pytest.fixture
def amended(active, people):
    """The A-B agreement in force, amended to be between A and C only, at TLP:RED."""
    UserFactory(organisation=people.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    amendment = services.amend(actor=people.a_pm, agreement=active)
    services.update_draft(
        actor=people.a_pm,
        agreement=amendment,
        parties=[people.a, people.c],
        tlp_ceiling="red",
        body=active.body + "\n\nA clause for Atlantis and Caldera only.",
    )
    designate_signatories(amendment)
    people.extra.update(old=active, amendment=amendment)
    return people


def test_the_old_version_names_its_amendment_only_to_the_amendments_parties(amended, client):
    world = amended
    client.force_login(world.b_member)  # a party of the old version, not of the amendment
    page = client.get(world.old.get_absolute_url())

    assert page.status_code == 200
    body = page.content.decode()
    assert world.amendment.get_absolute_url() not in body
    assert world.amendment.label not in body
    client.force_login(world.a_member)
    assert (
        world.amendment.get_absolute_url()
        in client.get(world.old.get_absolute_url()).content.decode()
    )


def test_a_party_added_by_the_amendment_sees_neither_the_old_terms_nor_the_old_version(
    amended, client
):
    world = amended
    client.force_login(world.c_member)
    body = client.get(world.amendment.get_absolute_url()).content.decode()

    assert "Changes against" not in body
    assert "<del>" not in body
    assert world.old.get_absolute_url() not in body
    assert (
        api(world.c_member).get(f"/api/v1/agreements/{world.amendment.pk}/").json()["supersedes"]
        is None
    )
    client.force_login(world.a_member)
    assert "Changes against" in client.get(world.amendment.get_absolute_url()).content.decode()
    assert (
        api(world.a_member).get(f"/api/v1/agreements/{world.amendment.pk}/").json()["supersedes"]
        == world.old.pk
    )
