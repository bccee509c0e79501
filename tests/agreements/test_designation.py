"""Each party designates its own signatories: until it has, nobody outside it learns who may
sign for it, on the page, in the API or on its designation form."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from agreements import services
from portal import services as portal_services
from portal.models import AuditEvent, Notification, Role
from tests.factories import UserFactory


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {portal_services.rotate_api_token(actor=user).key}"
    )
    return client


def new_draft(world, *parties):
    today = timezone.localdate()
    return services.create_agreement(
        actor=world.a_pm,
        parties=parties or (world.a, world.b),
        title="Exchange of incident reports",
        kind="data_sharing",
        purpose="Exchange incident reports.",
        body="# Terms",
        effective_from=today,
        expires_on=today + datetime.timedelta(days=365),
        data_categories=["incidents"],
    )


@pytest.fixture
def b_party(people):
    people.extra["draft"] = new_draft(people)
    return people.draft.parties.get(organisation=people.b)


def test_a_draft_does_not_name_another_organisations_signatories(people, b_party, client):
    draft = people.draft
    assert list(b_party.signatories.all()) == []

    client.force_login(people.a_pm)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert people.b_signatory.username not in page
    assert people.b_signatory.get_full_name() not in page
    details = api(people.a_pm).get(f"/api/v1/agreements/{draft.pk}/").json()["party_details"]
    assert next(p for p in details if p["organisation"] == people.b.slug)["signatories"] == []
    # B's member list was never A's to read, and still is not.
    assert client.get(f"/organisations/{people.b.slug}/members/").status_code == 404


def test_the_drafters_own_party_starts_with_its_own_signatories(people, b_party):
    own = people.draft.parties.get(organisation=people.a)
    assert set(own.signatories.all()) == {people.a_admin, people.a_signatory}


def test_another_partys_designation_form_is_refused_and_names_nobody(people, b_party, client):
    url = f"/agreements/{people.draft.pk}/parties/{b_party.pk}/"
    client.force_login(people.a_pm)

    shown = client.get(url)
    posted = client.post(url, {"signatories": [people.b_signatory.pk], "required_signatures": 1})

    for response in (shown, posted):
        assert response.status_code == 403
        assert people.b_signatory.username not in response.content.decode()
    assert list(b_party.signatories.all()) == []
    refused = AuditEvent.objects.filter(action="access.refused", actor=people.a_pm).last()
    assert refused.details["requested_action"] == "designate_signatories"
    with pytest.raises(PermissionDenied, match="party's own programme managers"):
        services.update_party(actor=people.a_pm, party=b_party, signatories=[people.b_signatory])


def test_another_partys_designation_through_the_api_is_refused_whatever_the_names(people, b_party):
    url = f"/api/v1/agreements/{people.draft.pk}/parties/{b_party.pk}/"
    client = api(people.a_pm)
    real = client.post(url, {"signatories": [people.b_signatory.username]}, format="json")
    made_up = client.post(url, {"signatories": ["nobody-at-all"]}, format="json")

    assert real.status_code == made_up.status_code == 403
    assert real.json() == made_up.json()
    assert list(b_party.signatories.all()) == []


def test_the_party_designates_its_own_and_then_its_partners_see_the_names(people, b_party, client):
    client.force_login(people.b_pm)
    url = f"/agreements/{people.draft.pk}/parties/{b_party.pk}/"
    form = client.get(url)
    assert form.status_code == 200
    assert people.b_signatory.username in form.content.decode()

    saved = client.post(
        url, {"signatories": [people.b_signatory.username], "required_signatures": 1}
    )
    assert saved.status_code == 302
    assert list(b_party.signatories.all()) == [people.b_signatory]

    client.force_login(people.a_pm)
    page = client.get(people.draft.get_absolute_url()).content.decode()
    assert people.b_signatory.get_full_name() in page
    services.submit(actor=people.a_pm, agreement=people.draft)


def test_a_party_names_only_its_own_signatories_in_one_answer_for_every_other_name(people, b_party):
    """Through the API, B's manager cannot learn who is a signatory anywhere else."""
    url = f"/api/v1/agreements/{people.draft.pk}/parties/{b_party.pk}/"
    deactivated = UserFactory(organisation=people.b, username="bor-gone", roles=[Role.SIGNATORY])
    portal_services.deactivate_member(actor=people.staff, membership=deactivated.membership)
    client = api(people.b_pm)
    answers = {
        name: client.post(url, {"signatories": [name]}, format="json")
        for name in ("atl-signatory", "bor-gone", "bor-member", "nobody-at-all")
    }

    for name, answer in answers.items():
        assert answer.status_code == 400
        assert answer.json()["errors"]["signatories"] == [
            f"Not an active signatory of Borealis Cyber Centre: {name}."
        ]


def test_submission_says_which_party_has_not_designated(people, b_party):
    with pytest.raises(ValidationError) as refused:
        services.submit(actor=people.a_pm, agreement=people.draft)
    assert "Borealis Cyber Centre needs 1 designated signatory; it has 0." in (
        refused.value.messages
    )
    assert not any("Atlantis" in message for message in refused.value.messages)


def test_a_named_partys_programme_managers_are_asked_to_designate(people):
    c_pm = UserFactory(organisation=people.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    draft = new_draft(people)
    everyone = [people.a, people.b, people.c]
    services.update_draft(actor=people.a_pm, agreement=draft, parties=everyone)

    asked = Notification.objects.filter(kind="agreement.designation_requested")
    assert {n.user for n in asked} == {people.b_pm, c_pm}
    c_party = draft.parties.get(organisation=people.c)
    notice = asked.get(user=c_pm)
    assert notice.url == f"/agreements/{draft.pk}/parties/{c_party.pk}/"
    assert "Caldera Defence Agency" in notice.title
