"""The second step at sign-in: the code field is labelled and focused, "Sign in" is the one
primary button, and Cancel is a plain button that signs out."""

import re

from tests.factories import PASSWORD, totp_code


def two_factor_page(client, user) -> str:
    response = client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/2fa/authenticate/"
    return client.get(response.url).content.decode()


def test_the_code_field_is_labelled_and_focused(people, client):
    body = two_factor_page(client, people.a_signatory)
    field = re.search(r'<input type="text" name="code"[^>]*>', body).group(0)
    assert "autofocus" in field and 'inputmode="numeric"' in field
    assert 'autocomplete="one-time-code"' in field
    assert re.search(r'<label for="id_code">Authenticator code', body)
    assert body.count("autofocus") == 1  # nothing else takes the focus away


def test_sign_in_is_the_primary_button_and_cancel_is_plain(people, client):
    body = two_factor_page(client, people.a_signatory)
    primary = re.findall(r'class="button button-primary"[^>]*>([^<]+)<', body)
    assert primary == ["Sign in"]
    cancel = '<button type="submit" form="logout-from-stage" class="button button-quiet">'
    assert f"{cancel}Cancel</button>" in body


def test_a_wrong_code_is_explained_and_the_right_one_signs_in(people, client):
    two_factor_page(client, people.a_signatory)
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code." in wrong.content.decode()
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(people.a_signatory)})
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_cancel_signs_out_and_returns_to_the_sign_in_page(people, client):
    two_factor_page(client, people.a_signatory)
    response = client.post("/accounts/logout/", {"next": "/accounts/login/"})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert client.get("/").status_code == 302  # not signed in
