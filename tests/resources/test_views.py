"""The resource pages: the library, upload, details, downloads, and the share dialog.

Each test states what a person would notice: what they see, what they can fetch, and what
they can never learn.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal.models import AuditEvent, Role
from resources import services
from resources.models import Resource, ResourceVersion, Share, ShareStatus
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import PASSWORD, UserFactory
from tests.resources.conftest import PDF_BYTES, new_resource, share_with_b, upload

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def uploads_in_storage_root(sharing):
    """Uploads land in the fixture's temporary root (the field follows STORAGES changes)."""
    field_storage = ResourceVersion._meta.get_field("file").storage
    assert field_storage.location == str(sharing.storage_root)


def titles(response) -> list[str]:
    return [r.title for r in response.context["object_list"]]


def events(action: str, resource, actor) -> int:
    return AuditEvent.objects.filter(
        action=action, object_type="resources.resource", object_id=str(resource.pk), actor=actor
    ).count()


def active_agreement(world, *organisations, **terms):
    agreement = draft_between(world, *organisations, **terms)
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    return sign_by_all(world, agreement)


def stored_files(world) -> list:
    root = world.storage_root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- The library ---------------------------------------------------------------------------


def test_library_shows_our_own_and_what_partners_share_with_us(sharing, client):
    shared = new_resource(sharing, title="Ransomware campaign analysis")
    share_with_b(sharing, shared)
    new_resource(sharing, title="Internal honeypot notes", tlp="green")
    own = new_resource(sharing, actor=sharing.b_pm, title="Borealis sensor data", kind="dataset")

    client.force_login(sharing.b_member)
    library = client.get("/resources/")
    assert sorted(titles(library)) == ["Borealis sensor data", "Ransomware campaign analysis"]
    body = library.content.decode()
    assert "Internal honeypot notes" not in body
    assert 'class="tlp tlp-amber"' in body and own.owner.slug in body

    assert titles(client.get("/resources/?scope=shared_with_us")) == [
        "Ransomware campaign analysis"
    ]
    assert titles(client.get("/resources/?kind=dataset")) == ["Borealis sensor data"]
    assert titles(client.get("/resources/?q=ransomware")) == ["Ransomware campaign analysis"]
    assert sorted(titles(client.get("/resources/?q=seen+by+the+national"))) == [  # descriptions
        "Borealis sensor data",
        "Ransomware campaign analysis",
    ]
    assert titles(client.get(f"/resources/?owner={sharing.a.slug}")) == [
        "Ransomware campaign analysis"
    ]

    client.force_login(sharing.a_pm)
    assert titles(client.get("/resources/?scope=shared_by_us")) == ["Ransomware campaign analysis"]
    assert titles(client.get("/resources/?tlp=green")) == ["Internal honeypot notes"]
    assert "Add a resource" in client.get("/resources/").content.decode()


def test_library_sorts_by_how_restricted_the_tlp_is(sharing, client):
    for tlp in ("green", "red", "clear", "amber"):
        new_resource(sharing, title=f"Marked {tlp}", tlp=tlp)
    client.force_login(sharing.a_member)
    assert titles(client.get("/resources/?sort=tlp")) == [
        "Marked red",
        "Marked amber",
        "Marked green",
        "Marked clear",
    ]
    assert titles(client.get("/resources/?sort=title"))[0] == "Marked amber"
    assert "Add a resource" not in client.get("/resources/").content.decode()  # no role


def test_red_shared_with_us_lists_only_for_the_named_people(sharing, client):
    red_agreement = active_agreement(sharing, tlp_ceiling="red", title="Red pact")
    resource = new_resource(sharing, title="Named-only intelligence", tlp="red")
    services.share_resource(
        actor=sharing.a_pm,
        resource=resource,
        agreement=red_agreement,
        recipient=sharing.b,
        recipient_users=[sharing.b_member],
        reauthentication=services.reauth.Reauthentication(timezone.now(), "password"),
    )
    client.force_login(sharing.b_member)
    assert titles(client.get("/resources/?scope=shared_with_us")) == ["Named-only intelligence"]
    client.force_login(sharing.b_pm)
    response = client.get("/resources/?scope=shared_with_us&q=Named-only")
    assert response.context["paginator"].count == 0
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_unrelated_nation_never_sees_an_amber_resource(sharing, client):
    resource = new_resource(sharing, title="Atlantis APT dossier 7Q")
    share_with_b(sharing, resource)
    client.force_login(sharing.c_member)
    library = client.get("/resources/")
    assert "Atlantis APT dossier 7Q" not in library.content.decode()
    searched = client.get("/resources/?q=Atlantis+APT")
    assert searched.context["paginator"].count == 0
    assert client.get(f"/resources/?owner={sharing.a.slug}").context["paginator"].count == 0
    assert client.get(resource.get_absolute_url()).status_code == 404
    assert client.get(f"/resources/{resource.pk}/download/").status_code == 404
    assert client.get(f"/resources/{resource.pk}/share/").status_code == 404


def test_clear_resource_is_open_to_every_signed_in_user(sharing, client):
    resource = new_resource(sharing, title="Public advisory", tlp="clear")
    client.force_login(sharing.c_member)
    assert titles(client.get("/resources/")) == ["Public advisory"]
    page = client.get(resource.get_absolute_url())
    assert page.status_code == 200
    assert "every signed-in user" in page.content.decode()
    download = client.get(f"/resources/{resource.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES


def test_the_library_shows_each_resource_s_newest_upload_as_its_latest_file(sharing, client):
    resource = new_resource(sharing, title="Quarterly landscape")
    services.add_version(
        actor=sharing.a_pm, resource=resource, file=upload("v2.txt", b"second edition\n")
    )
    client.force_login(sharing.a_member)

    row = client.get("/resources/").content.decode()
    listing = client.get("/api/v1/resources/").json()["results"]

    assert "text/plain · v2" in row
    assert [(r["title"], r["latest_version"]["number"]) for r in listing] == [
        ("Quarterly landscape", 2)
    ]
    assert listing[0]["latest_version"]["size"] == len(b"second edition\n")


def test_library_query_count_does_not_grow_with_the_rows(sharing, client):
    first = new_resource(sharing, title="Resource 0")
    services.add_version(actor=sharing.a_pm, resource=first, file=upload("v2.pdf"))
    client.force_login(sharing.a_member)
    client.get("/resources/")  # warms per-process caches (permission ids, content types)

    with CaptureQueriesContext(connection) as one:
        response = client.get("/resources/?sort=tlp")
    assert len(response.context["object_list"]) == 1

    for n in range(1, 20):
        resource = new_resource(sharing, title=f"Resource {n}", tlp=["green", "amber"][n % 2])
        if n % 3 == 0:
            share_with_b(sharing, resource)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get("/resources/?sort=tlp")
    assert len(response.context["object_list"]) == 20
    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


# --- Details, downloads and the audit trail ------------------------------------------------


def test_every_detail_view_is_recorded_for_the_owner(sharing, client):
    resource = new_resource(sharing, description="**Bold** claim <script>alert(1)</script>")
    share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    page = client.get(resource.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "<strong>Bold</strong>" in body and "<script>alert(1)" not in body
    assert events("resource.viewed", resource, sharing.b_member) == 1
    client.get(resource.get_absolute_url())
    assert events("resource.viewed", resource, sharing.b_member) == 2


def test_recipients_do_not_learn_who_else_it_is_shared_with(sharing, client):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    recipient_view = client.get(resource.get_absolute_url()).content.decode()
    assert "Who can see this" not in recipient_view
    assert "shares-heading" not in recipient_view and "History" not in recipient_view
    assert f"/resources/{resource.pk}/download/" in recipient_view
    assert f"under <code>{sharing.ab_agreement.label}</code>" in recipient_view
    assert f"/resources/{resource.pk}/share/" not in recipient_view  # recipients never re-share

    client.force_login(sharing.a_pm)
    owner_view = client.get(resource.get_absolute_url()).content.decode()
    assert "Who can see this, and why" in owner_view
    assert "Members of Borealis Cyber Centre" in owner_view
    assert "shared this resource with" in owner_view  # the history, in words
    assert f"/resources/{resource.pk}/shares/" in owner_view  # the revoke form
    assert f"/resources/{resource.pk}/share/" in owner_view


def test_download_streams_the_exact_bytes_as_an_attachment(sharing, client):
    resource = new_resource(sharing)
    services.add_version(
        actor=sharing.a_pm, resource=resource, file=upload("notes.txt", b"plain notes\n", "")
    )
    share_with_b(sharing, resource)
    client.force_login(sharing.b_member)

    response = client.get(f"/resources/{resource.pk}/versions/1/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert events("resource.downloaded", resource, sharing.b_member) == 1

    latest = client.get(f"/resources/{resource.pk}/download/")
    assert b"".join(latest.streaming_content) == b"plain notes\n"
    assert latest["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert client.get(f"/resources/{resource.pk}/versions/9/download/").status_code == 404
    assert client.post(f"/resources/{resource.pk}/download/").status_code == 405


def test_revocation_ends_the_recipients_access_at_once(sharing, client):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    b_client = client.__class__()
    b_client.force_login(sharing.b_member)
    assert b_client.get(f"/resources/{resource.pk}/download/").status_code == 200

    client.force_login(sharing.a_pm)
    response = client.post(
        f"/resources/{resource.pk}/shares/{share.pk}/revoke/",
        {"reason": "Shared by mistake"},
        follow=True,
    )
    assert "revoked: their access has ended" in response.content.decode()
    share.refresh_from_db()
    assert share.status == ShareStatus.REVOKED and share.end_reason == "Shared by mistake"

    assert b_client.get(f"/resources/{resource.pk}/download/").status_code in (403, 404)
    assert b_client.get(resource.get_absolute_url()).status_code == 404
    assert client.get(f"/resources/{resource.pk}/shares/{share.pk}/revoke/").status_code == 405


def test_revoke_looks_the_share_up_only_among_this_resources_shares(sharing, client):
    other = new_resource(sharing, title="Other")
    other_share = share_with_b(sharing, other)
    resource = new_resource(sharing)
    client.force_login(sharing.a_pm)
    response = client.post(f"/resources/{resource.pk}/shares/{other_share.pk}/revoke/")
    assert response.status_code == 404
    other_share.refresh_from_db()
    assert other_share.status == ShareStatus.ACTIVE


# --- Uploading ------------------------------------------------------------------------------


def test_create_form_uploads_with_progress_and_stores_the_file(sharing, client):
    client.force_login(sharing.a_pm)
    form = client.get("/resources/new/").content.decode()
    assert 'enctype="multipart/form-data"' in form and "data-upload-progress" in form
    assert "js/upload.js" in form and "<progress" in form
    assert "onclick" not in form and "style=" not in form  # the CSP allows neither

    response = client.post(
        "/resources/new/",
        {
            "title": "Phishing kit analysis",
            "description": "What the kit does.",
            "kind": "report",
            "data_category": "threat_intelligence",
            "tlp": "amber",
            "tags": " phishing,  kits , ,phishing",
            "file": upload(),
        },
    )
    resource = Resource.objects.get(title="Phishing kit analysis")
    assert response.status_code == 302 and response["Location"] == resource.get_absolute_url()
    assert resource.owner == sharing.a and resource.tags == ["phishing", "kits"]
    assert resource.latest_version.original_name == "report.pdf"
    assert len(stored_files(sharing)) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "The file is empty."),
        (
            "invoice.pdf",
            b"MZ\x90\x00\x03" + b"\x00" * 64,
            "Files of type application/x-msdownload are refused unless the resource is a tool.",
        ),
    ],
)
def test_create_refuses_bad_files_and_stores_nothing(sharing, client, name, content, message):
    client.force_login(sharing.a_pm)
    response = client.post(
        "/resources/new/",
        {
            "title": "Suspicious upload",
            "kind": "report",
            "data_category": "threat_intelligence",
            "tlp": "amber",
            "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Resource.objects.exists()
    assert stored_files(sharing) == []


def test_only_programme_managers_add_resources(sharing, client):
    client.force_login(sharing.a_member)
    assert client.get("/resources/new/").status_code == 403


def test_new_version_keeps_the_earlier_ones(sharing, client):
    resource = new_resource(sharing)
    client.force_login(sharing.a_pm)
    form = client.get(f"/resources/{resource.pk}/versions/new/").content.decode()
    assert "data-upload-progress" in form and 'enctype="multipart/form-data"' in form
    response = client.post(
        f"/resources/{resource.pk}/versions/new/",
        {"file": upload("report-v2.pdf"), "note": "Corrected figures"},
        follow=True,
    )
    body = response.content.decode()
    assert "Version 2 uploaded." in body
    assert "report-v2.pdf" in body and "Corrected figures" in body and "report.pdf" in body
    client.force_login(sharing.a_member)
    assert client.get(f"/resources/{resource.pk}/versions/new/").status_code == 403


def test_raising_the_tlp_suspends_shares_and_says_so(sharing, client):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    client.force_login(sharing.a_pm)
    form = client.get(f"/resources/{resource.pk}/edit/").content.decode()
    assert "Raising the TLP" in form and "apt, phishing" in form
    response = client.post(
        f"/resources/{resource.pk}/edit/",
        {
            "title": "Quarterly threat landscape",
            "kind": "report",
            "data_category": "threat_intelligence",
            "tlp": "red",
            "tags": "apt",
        },
        follow=True,
    )
    assert "1 share no longer fit" in response.content.decode()
    share.refresh_from_db()
    assert share.status == ShareStatus.SUSPENDED
    client.force_login(sharing.b_member)
    assert client.get(resource.get_absolute_url()).status_code == 404


# --- Sharing --------------------------------------------------------------------------------


def test_share_dialog_offers_allowed_pairs_and_explains_the_others(sharing, client):
    UserFactory(organisation=sharing.c, username="cal-signatory", roles=[Role.SIGNATORY])
    UserFactory(organisation=sharing.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    low = active_agreement(
        sharing, sharing.a, sharing.c, tlp_ceiling="green", title="Atlantis-Caldera MoU"
    )
    resource = new_resource(sharing)  # AMBER
    client.force_login(sharing.a_pm)
    dialog = client.get(f"/resources/{resource.pk}/share/").content.decode()
    assert f'value="{sharing.ab_agreement.pk}:{sharing.b.pk}"' in dialog
    assert f'value="{low.pk}:{sharing.c.pk}"' not in dialog
    assert f"{low.label} caps TLP at GREEN; this resource is AMBER." in dialog

    share_with_b(sharing, resource)
    again = client.get(f"/resources/{resource.pk}/share/").content.decode()
    assert "Already shared with Borealis Cyber Centre." in again
    assert "No agreement allows sharing this now" in again


def test_sharing_through_the_dialog_creates_the_share(sharing, client):
    resource = new_resource(sharing)
    client.force_login(sharing.a_pm)
    url = f"/resources/{resource.pk}/share/"
    refused = client.post(url, {"option": f"{sharing.ab_agreement.pk}:{sharing.c.pk}"})
    assert refused.status_code == 200 and not Share.objects.exists()
    assert "Select a valid choice" in refused.content.decode()

    response = client.post(url, {"option": f"{sharing.ab_agreement.pk}:{sharing.b.pk}"})
    assert response.status_code == 302 and response["Location"] == resource.get_absolute_url()
    share = Share.objects.get()
    assert (share.recipient, share.agreement, share.shared_by) == (
        sharing.b,
        sharing.ab_agreement,
        sharing.a_pm,
    )
    client.force_login(sharing.b_member)
    assert client.get(resource.get_absolute_url()).status_code == 200


def test_htmx_share_dialog_is_a_fragment_and_redirects_after_sharing(sharing, client):
    resource = new_resource(sharing)
    client.force_login(sharing.a_pm)
    page = client.get(resource.get_absolute_url()).content.decode()
    assert f'hx-get="/resources/{resource.pk}/share/"' in page and 'id="share-slot"' in page

    fragment = client.get(f"/resources/{resource.pk}/share/", **HTMX).content.decode()
    assert "<html" not in fragment and "<dialog open" in fragment
    assert 'method="dialog"' in fragment and 'hx-target="closest dialog"' in fragment

    empty = client.post(f"/resources/{resource.pk}/share/", {}, **HTMX)
    assert "<html" not in empty.content.decode()
    assert "Choose whom to share with" in empty.content.decode()

    done = client.post(
        f"/resources/{resource.pk}/share/",
        {"option": f"{sharing.ab_agreement.pk}:{sharing.b.pk}"},
        **HTMX,
    )
    assert done["HX-Redirect"] == resource.get_absolute_url()
    assert Share.objects.filter(resource=resource, recipient=sharing.b).exists()


def test_red_needs_named_people_and_the_password(sharing, client):
    red_agreement = active_agreement(sharing, tlp_ceiling="red", title="Red pact")
    resource = new_resource(sharing, tlp="red")
    client.force_login(sharing.a_pm)
    url = f"/resources/{resource.pk}/share/"
    dialog = client.get(url).content.decode()
    assert 'type="password"' in dialog and sharing.b_member.username in dialog
    # People by username: a user's id is sequential and would count every nation's accounts.
    people = re.search(r'<select name="recipient_users".*?</select>', dialog, re.S).group()
    assert f'<option value="{sharing.b_member.username}"' in people
    assert not re.search(r'<option value="\d+"', people)
    # Listed under their organisation, as the picker shows them.
    assert f'<optgroup label="{sharing.b.name}">' in people
    option = f"{red_agreement.pk}:{sharing.b.pk}"
    assert f'value="{option}"' in dialog
    assert f'value="{sharing.ab_agreement.pk}:{sharing.b.pk}"' not in dialog  # AMBER ceiling

    nobody = client.post(url, {"option": option, "password": PASSWORD}).content.decode()
    assert "TLP:RED is shared with named people only" in nobody
    no_password = client.post(
        url, {"option": option, "recipient_users": [sharing.b_member.username]}
    )
    assert "This field is required." in no_password.content.decode()
    wrong = client.post(
        url, {"option": option, "recipient_users": [sharing.b_member.username], "password": "nope"}
    )
    assert "The password is not correct." in wrong.content.decode()
    assert not Share.objects.exists()

    done = client.post(
        url,
        {"option": option, "recipient_users": [sharing.b_member.username], "password": PASSWORD},
    )
    assert done.status_code == 302
    share = Share.objects.get()
    assert list(share.recipient_users.all()) == [sharing.b_member]
    client.force_login(sharing.b_member)
    assert client.get(resource.get_absolute_url()).status_code == 200
    client.force_login(sharing.b_pm)  # same organisation, not named
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_only_the_owners_programme_managers_share(sharing, client):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    for person in (sharing.a_member, sharing.b_member):
        client.force_login(person)
        assert client.get(f"/resources/{resource.pk}/share/").status_code == 403
    share = Share.objects.get()
    response = client.post(f"/resources/{resource.pk}/shares/{share.pk}/revoke/")
    assert response.status_code == 403
    share.refresh_from_db()
    assert share.status == ShareStatus.ACTIVE


# --- Dashboard ------------------------------------------------------------------------------


def test_dashboard_lists_what_was_shared_with_us_lately(sharing, client):
    resource = new_resource(sharing, title="Fresh indicators")
    share_with_b(sharing, resource)
    new_resource(sharing, title="Not shared at all")
    client.force_login(sharing.b_member)
    body = client.get("/").content.decode()
    assert "Recently shared with us" in body
    assert "Fresh indicators" in body and "Not shared at all" not in body
    assert "/resources/?shared_within=30" in body

    client.force_login(sharing.c_member)
    assert "Fresh indicators" not in client.get("/").content.decode()
