"""Sign-in with django-allauth: username or email, no open sign-up, password reset."""

from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import PASSWORD


def test_sign_in_with_email_address_works(world, client):
    response = client.post(
        "/accounts/login/", {"login": world.b_member.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == world.b_member


def test_wrong_password_keeps_the_person_out_with_a_message(world, client):
    response = client.post("/accounts/login/", {"login": "bor-member", "password": "guess"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get("/").status_code == 302


def test_there_is_no_open_sign_up(client, db):
    page = client.get("/accounts/signup/")
    assert "closed" in page.content.decode().lower()
    client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "i@x.example",
            "password1": "x" * 16,
            "password2": "x" * 16,
        },
    )
    assert not get_user_model().objects.filter(username="intruder").exists()
    assert "sign up" not in client.get("/accounts/login/").content.decode().lower()


def test_password_reset_emails_a_link(world, client):
    client.post("/accounts/password/reset/", {"email": world.a_pm.email})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_sign_out_ends_the_session(world, client):
    client.force_login(world.a_member)
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_a_page_reads_the_user_membership_and_organisation_in_one_query(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.a_member)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/organisations/").content.decode()
    assert world.a.name in body  # the header shows the person's organisation
    reads = [q["sql"] for q in queries if '"portal_membership"' in q["sql"]]
    assert len(reads) == 1 and 'FROM "auth_user"' in reads[0]
