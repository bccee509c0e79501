"""Journey 2: A's programme manager uploads an AMBER report and shares it under the A-B
agreement; B's member finds it under "shared with us" and downloads it; C's member gets a 404
at its URL and cannot find it; A revokes the share and B's download stops."""

import re

import pytest

from resources.models import Resource
from tests.agreements.conftest import draft_between, sign_by_all
from tests.e2e.support import check_accessibility, screenshot, sign_in
from tests.factories import PASSWORD

TITLE = "Atlantis AMBER incident report"


@pytest.fixture
def in_force(e2e_world):
    from agreements import services

    agreement = draft_between(e2e_world, title="A-B incident exchange")
    services.submit(actor=e2e_world.a_pm, agreement=agreement)
    e2e_world.extra["agreement"] = sign_by_all(e2e_world, agreement)
    return e2e_world


def test_share_find_download_and_revoke(in_force, new_page, watch, tmp_path):
    world = in_force
    report = tmp_path / "incident-report.txt"
    report.write_text("Indicators seen during the incident.\n" * 20)

    owner = new_page()
    sign_in(owner, world.a_pm)
    owner.get_by_role("link", name="Resources", exact=True).click()
    owner.get_by_role("link", name="Add a resource").click()
    check_accessibility(owner, "upload form")
    owner.get_by_label(re.compile("^File")).set_input_files(report)
    owner.get_by_label(re.compile("^Title")).fill(TITLE)
    owner.get_by_label(re.compile("^Kind")).select_option(label="Report")
    owner.get_by_label(re.compile("^Data category")).select_option(label="Incidents")
    owner.get_by_label(re.compile("^TLP")).select_option(label="TLP:AMBER")
    owner.get_by_role("button", name="Upload").click()
    owner.wait_for_url(re.compile(r"/resources/\d+/$"))
    resource = Resource.objects.get(title=TITLE)

    owner.get_by_role("link", name="Share…").click()
    owner.get_by_label(re.compile(world.b.name)).check()
    check_accessibility(owner, "share dialog")
    owner.get_by_role("button", name="Share", exact=True).click()
    owner.get_by_text(re.compile(f"Shared with {world.b.name}")).first.wait_for()
    screenshot(owner, "resource-shared")

    partner = new_page()
    sign_in(partner, world.b_member)
    partner.goto("/resources/")
    partner.get_by_label("Show").select_option(label="Shared with us")
    partner.get_by_role("button", name="Apply").click()
    partner.get_by_role("link", name=TITLE).click()
    check_accessibility(partner, "shared resource")
    with partner.expect_download() as download:
        partner.get_by_role("link", name="Download latest").click()
    assert download.value.path().read_text() == report.read_text()

    # The owner filter suggests organisations as the partner types, then narrows the list.
    partner.goto("/resources/")
    owner_field = partner.get_by_label("Owner")
    owner_field.press_sequentially("Atlan")
    partner.locator(f'#id_owner-options option[value="{world.a.slug}"]').wait_for(state="attached")
    check_accessibility(partner, "owner filter with suggestions")
    owner_field.fill(world.a.slug)
    owner_field.press("Enter")
    partner.wait_for_url(re.compile(f"owner={world.a.slug}"))
    partner.get_by_role("link", name=TITLE).wait_for()

    watch.expect_refusal(resource.get_absolute_url())
    outsider = new_page()
    sign_in(outsider, world.c_member)
    response = outsider.goto(resource.get_absolute_url())
    assert response.status == 404
    outsider.goto("/resources/?q=AMBER+incident")
    assert outsider.get_by_text(TITLE).count() == 0
    assert outsider.get_by_text(re.compile("Nothing|No resources", re.I)).first.is_visible()

    owner.goto(resource.get_absolute_url())
    owner.get_by_text("Revoke…").click()
    owner.get_by_role("button", name=f"Revoke share with {world.b.slug}").click()
    owner.get_by_text(re.compile("Revoked", re.I)).first.wait_for()

    # AMBER shared with B and now revoked: for B it is as if it never existed.
    assert partner.goto(resource.get_absolute_url()).status == 404
    refused = partner.request.get(f"{resource.get_absolute_url()}download/")
    assert refused.status == 404


def test_red_goes_to_the_people_chosen_in_the_picker(e2e_world, new_page):
    """The share dialog (loaded by htmx) brings its chip picker: A's manager types a name,
    chooses B's member with Enter, Escape closes the list and not the dialog, and the share
    names exactly that person."""
    from agreements import services as agreement_services
    from resources.models import Share
    from tests.resources.conftest import new_resource

    world = e2e_world
    agreement = draft_between(world, title="A-B red channel", tlp_ceiling="red")
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    sign_by_all(world, agreement)
    resource = new_resource(world, title="Atlantis RED source report", tlp="red")

    owner = new_page()
    sign_in(owner, world.a_pm)
    owner.goto(resource.get_absolute_url())
    owner.get_by_role("link", name="Share…").click()
    dialog = owner.locator("dialog.share-dialog")
    dialog.get_by_label(re.compile("A-B red channel")).check()
    picker = dialog.get_by_role("combobox", name=re.compile("^Named recipients"))
    picker.fill(world.b_member.last_name)
    options = dialog.get_by_role("listbox").get_by_role("option")
    assert options.all_inner_texts() == [
        f"{world.b_member.get_full_name()} ({world.b_member.username})"
    ]
    # Listed under their organisation.
    assert dialog.get_by_role("group", name=world.b.name).is_visible()
    picker.press("Enter")
    chips = dialog.locator(".chip-picker-chips")
    assert chips.get_by_role("button", name=f"Remove {world.b_member.get_full_name()}").is_visible()
    picker.press("Escape")  # closes the picker's list, and only that
    assert dialog.is_visible()
    assert dialog.get_by_role("listbox").is_hidden()
    check_accessibility(owner, "RED share dialog with the picker")
    screenshot(owner, "share-red-picker")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Share", exact=True).click()
    owner.get_by_text(re.compile(f"Shared with {world.b.name}")).first.wait_for()
    share = Share.objects.get(resource=resource)
    assert list(share.recipient_users.all()) == [world.b_member]
