"""Sharing never tells the sharer who belongs to another organisation: the sharing rules are
checked before any named person, and every name that may not receive the share gets the
same answer, whether it is unknown, deactivated or someone else's."""

import pytest
from rest_framework.test import APIClient

from portal import services as portal_services
from portal.models import Role
from resources.models import Share
from tests.factories import PASSWORD, UserFactory
from tests.resources.conftest import new_resource
from tests.resources.test_api import active_agreement

#: Names a probe could try: a real active member of C, a deactivated one, a member of B, and
#: a name nobody has.
PROBES = ("cal-member", "cal-gone", "bor-member", "nobody-at-all")


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {portal_services.rotate_api_token(actor=user).key}"
    )
    return client


@pytest.fixture
def probing(sharing):
    gone = UserFactory(organisation=sharing.c, username="cal-gone")
    portal_services.deactivate_member(actor=sharing.staff, membership=gone.membership)
    sharing.extra["gone"] = gone
    sharing.extra["red_agreement"] = active_agreement(sharing, title="Red", tlp_ceiling="red")
    return sharing


def _answers(world, resource, recipient, agreement) -> dict:
    client = api(world.a_pm)
    url = f"/api/v1/resources/{resource.pk}/shares/"
    return {
        name: client.post(
            url,
            {
                "agreement": agreement.pk,
                "recipient": recipient.slug,
                "recipient_users": [name],
                "password": PASSWORD,
            },
            format="json",
        )
        for name in PROBES
    }


@pytest.mark.parametrize("tlp", ["red", "amber"])
def test_naming_people_of_an_organisation_that_may_not_receive_it_reveals_none(probing, tlp):
    world = probing
    resource = new_resource(world, tlp=tlp)

    answers = _answers(world, resource, world.c, world.red_agreement)

    expected = f"Caldera Defence Agency is not a party to {world.red_agreement.label}."
    for name, answer in answers.items():
        assert answer.status_code == 400, name
        assert answer.json()["message"] == expected, name
    assert not Share.objects.exists()


def test_every_name_the_recipient_does_not_hold_gets_the_same_answer(probing):
    world = probing
    b_gone = UserFactory(organisation=world.b, username="bor-gone", roles=[Role.SIGNATORY])
    portal_services.deactivate_member(actor=world.staff, membership=b_gone.membership)
    resource = new_resource(world, tlp="red")
    client = api(world.a_pm)
    url = f"/api/v1/resources/{resource.pk}/shares/"

    for name in ("cal-member", "cal-gone", "bor-gone", "nobody-at-all"):
        answer = client.post(
            url,
            {
                "agreement": world.red_agreement.pk,
                "recipient": world.b.slug,
                "recipient_users": [name],
                "password": PASSWORD,
            },
            format="json",
        )
        assert answer.status_code == 400
        assert answer.json()["errors"] == {
            "recipient_users": [f"Not active members of Borealis Cyber Centre: {name}."]
        }
    assert not Share.objects.exists()


def test_the_share_dialog_answers_alike_for_every_person_it_did_not_offer(probing, client):
    world = probing
    resource = new_resource(world, tlp="red")
    option = f"{world.red_agreement.pk}:{world.b.pk}"
    client.force_login(world.a_pm)
    url = f"/resources/{resource.pk}/share/"
    offered = client.get(url).content.decode()
    assert world.c_member.username not in offered

    def refusal(pk) -> str:
        response = client.post(
            url, {"option": option, "recipient_users": [pk], "password": PASSWORD}
        )
        assert response.status_code == 200
        return str(dict(response.context["form"].errors)).replace(str(pk), "PK")

    answers = {refusal(pk) for pk in (world.c_member.pk, world.gone.pk, 987654)}
    assert len(answers) == 1
    assert "Select a valid choice. PK is not one of the available choices." in answers.pop()
    assert not Share.objects.exists()
