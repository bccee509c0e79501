"""A project names its governing agreement only to those who may see that agreement: an
assigned reviewer from the independent panel reads the project, never the agreement's
reference, title or id, on the page or in the API."""

import pytest
from rest_framework.test import APIClient

from portal import services as portal_services
from projects import services


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {portal_services.rotate_api_token(actor=user).key}"
    )
    return client


@pytest.fixture
def reviewed(consortium):
    services.assign_reviewer(
        actor=consortium.a_pm, project=consortium.project, user=consortium.reviewer_1
    )
    return consortium


def test_the_api_names_the_agreement_only_to_those_who_may_see_it(reviewed):
    world = reviewed
    url = f"/api/v1/projects/{world.project.pk}/"

    as_reviewer = api(world.reviewer_1).get(url)
    listed = api(world.reviewer_1).get("/api/v1/projects/")
    as_partner = api(world.b_member).get(url).json()

    assert as_reviewer.status_code == 200
    assert as_reviewer.json()["agreement"] is None
    assert as_reviewer.json()["agreement_label"] is None
    for body in (as_reviewer.content.decode(), listed.content.decode()):
        assert world.rd_agreement.reference not in body
        assert world.rd_agreement.title not in body
    assert [p["agreement"] for p in listed.json()["results"]] == [None]
    assert as_partner["agreement"] == world.rd_agreement.pk
    assert as_partner["agreement_label"] == world.rd_agreement.label
