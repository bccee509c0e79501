"""The sign and decline forms as a signatory meets them: what they sign, the consent, the
proof that it is them, and a clear refusal of a second signature."""

import re

import pytest
from rest_framework.test import APIClient

from agreements import services
from agreements.models import AgreementStatus, Signature
from tests.agreements.conftest import fresh_reauth
from tests.factories import PASSWORD, totp_code

PASSWORD_AGAIN = "Enter your password again"


@pytest.fixture
def awaiting(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    draft.refresh_from_db()
    return draft


def sign_page(client, agreement):
    return client.get(f"/agreements/{agreement.pk}/sign/")


def test_the_sign_form_shows_what_is_signed(awaiting, people, client):
    client.force_login(people.b_signatory)
    body = sign_page(client, awaiting).content.decode()
    summary = body.split('class="panel signing-summary"', 1)[1].split("</section>", 1)[0]
    assert "What you sign" in summary
    for party in (people.a, people.b):
        assert party.name in summary
    assert "0 of 1 signature given" in summary
    assert awaiting.effective_from.strftime("%-d %b %Y") in summary
    assert f"expires {awaiting.expires_on:%-d %b %Y}" in summary
    assert "Threat intelligence" in summary and "Incidents" in summary  # data categories
    assert "TLP:AMBER" in summary  # the ceiling
    assert awaiting.content_hash in summary
    assert "The parties share indicators under TLP." in summary  # the text itself


def test_the_consent_names_the_organisation_and_the_mandate_and_is_required(
    awaiting, people, client
):
    client.force_login(people.b_signatory)
    body = sign_page(client, awaiting).content.decode()
    assert (
        f"I sign {awaiting.label} on behalf of {people.b.name} under the mandate it gave me as "
        "its designated signatory"
    ) in body
    assert re.search(r'<input type="checkbox" name="consent"[^>]* required', body)

    response = client.post(
        f"/agreements/{awaiting.pk}/sign/",
        {"password": PASSWORD, "otp": totp_code(people.b_signatory)},
    )
    assert response.status_code == 200
    assert "Tick the box to confirm that you sign." in response.content.decode()
    assert not Signature.objects.exists()


def test_a_person_with_an_authenticator_app_is_told_the_code_is_required(awaiting, people, client):
    client.force_login(people.b_signatory)
    body = sign_page(client, awaiting).content.decode()
    assert "Authenticator code (required)" in body
    assert re.search(r'<input type="text" name="otp"[^>]* required', body)
    assert "Only if you have set up two-factor authentication." not in body


def test_a_wrong_code_keeps_what_was_typed_and_asks_for_the_password_again(
    awaiting, people, client
):
    client.force_login(people.b_signatory)
    response = client.post(
        f"/agreements/{awaiting.pk}/sign/",
        {"consent": "on", "password": PASSWORD, "otp": "000000"},
    )
    body = response.content.decode()
    assert "The code is not valid, or was already used." in body
    assert re.search(r'<input type="checkbox" name="consent"[^>]* checked', body)
    assert 'value="000000"' in body  # the code as typed, to correct it
    assert PASSWORD_AGAIN in body  # the password is not sent back, and the page says so
    assert PASSWORD not in body
    assert not Signature.objects.exists()


def test_a_missing_code_keeps_the_consent_and_asks_for_the_password_again(awaiting, people, client):
    client.force_login(people.b_signatory)
    body = client.post(
        f"/agreements/{awaiting.pk}/sign/", {"consent": "on", "password": PASSWORD}
    ).content.decode()
    assert "Enter the code from your authenticator app." in body
    assert re.search(r'<input type="checkbox" name="consent"[^>]* checked', body)
    assert PASSWORD_AGAIN in body


def test_a_wrong_password_says_so_rather_than_asking_again(awaiting, people, client):
    client.force_login(people.b_signatory)
    body = client.post(
        f"/agreements/{awaiting.pk}/sign/",
        {"consent": "on", "password": "wrong", "otp": totp_code(people.b_signatory)},
    ).content.decode()
    assert "The password is not correct." in body
    assert PASSWORD_AGAIN not in body


def test_a_wrong_code_on_the_decline_form_keeps_the_reason(awaiting, people, client):
    client.force_login(people.b_signatory)
    page = client.get(f"/agreements/{awaiting.pk}/decline/").content.decode()
    assert "Authenticator code (required)" in page
    assert "What you decline" in page and awaiting.content_hash in page  # what is declined
    body = client.post(
        f"/agreements/{awaiting.pk}/decline/",
        {"reason": "Clause 4 is too broad", "password": PASSWORD, "otp": "000000"},
    ).content.decode()
    assert "The code is not valid, or was already used." in body
    assert "Clause 4 is too broad</textarea>" in body
    assert PASSWORD_AGAIN in body
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.AWAITING_SIGNATURES


def test_opening_the_sign_page_after_signing_goes_to_the_agreement_and_says_when(
    awaiting, people, client
):
    signature = services.sign(
        actor=people.b_signatory, agreement=awaiting, reauthentication=fresh_reauth()
    )
    client.force_login(people.b_signatory)
    response = sign_page(client, awaiting)
    assert response.status_code == 302 and response.url == awaiting.get_absolute_url()
    body = client.get(response.url).content.decode()
    when = signature.signed_at
    assert f"You already signed this version on {when:%-d %b %Y} at {when:%H:%M} UTC." in body


def test_signing_again_from_a_form_left_open_is_refused_in_the_form(awaiting, people, client):
    client.force_login(people.b_signatory)
    data = {"consent": "on", "password": PASSWORD, "otp": totp_code(people.b_signatory)}
    assert client.post(f"/agreements/{awaiting.pk}/sign/", data).status_code == 302
    signature = Signature.objects.get(user=people.b_signatory)

    # A second tab, with a right password and a fresh code: the signature already given
    # is what refuses.
    again = client.post(
        f"/agreements/{awaiting.pk}/sign/", {**data, "otp": _next_code(people.b_signatory)}
    )
    assert again.status_code == 200
    when = signature.signed_at
    assert (
        f"You already signed this version on {when:%-d %b %Y} at {when:%H:%M} UTC."
        in again.content.decode()
    )
    assert Signature.objects.filter(user=people.b_signatory).count() == 1


def test_the_api_refuses_a_second_signature_with_a_conflict_that_says_when(awaiting, people):
    api = APIClient()
    api.force_authenticate(people.b_signatory)
    url = f"/api/v1/agreements/{awaiting.pk}/sign/"
    first = api.post(url, {"password": PASSWORD, "otp": totp_code(people.b_signatory)})
    assert first.status_code == 200
    signature = Signature.objects.get(user=people.b_signatory)
    second = api.post(url, {"password": PASSWORD, "otp": _next_code(people.b_signatory)})
    assert second.status_code == 409
    when = signature.signed_at
    assert second.json()["message"] == (
        f"You already signed this version on {when:%-d %b %Y} at {when:%H:%M} UTC."
    )
    assert Signature.objects.filter(user=people.b_signatory).count() == 1


def _next_code(user) -> str:
    """A code the authenticator accepts that was not used yet (allauth refuses a replay)."""
    from django.core.cache import cache

    cache.clear()  # forget the used code, as 30 seconds later the next one would be fresh
    return totp_code(user)
