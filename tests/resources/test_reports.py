"""Access reports: who, from which organisation and nation, did what with our resources, and
when; on a page with filters, and as a CSV that is safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import csv_export
from portal.models import AuditEvent
from resources import reports, services
from tests.paging import links
from tests.resources.conftest import new_resource, share_with_b


def report_url(resource) -> str:
    return reverse("resource-reports:resource", kwargs={"pk": resource.pk})


def agreement_report_url(agreement) -> str:
    return reverse("resource-reports:agreement", kwargs={"pk": agreement.pk})


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def used(sharing):
    """A's AMBER report shared with B; B's member looked at it and downloaded it."""
    resource = new_resource(sharing, title="Quarterly threat landscape")
    share_with_b(sharing, resource)
    services.record_view(actor=sharing.b_member, resource=resource)
    services.open_download(actor=sharing.b_member, resource=resource)
    sharing.extra["resource"] = resource
    return sharing


def test_the_report_shows_who_from_which_organisation_and_nation_did_what_and_when(used, client):
    client.force_login(used.a_pm)

    response = client.get(report_url(used.resource))

    assert response.status_code == 200
    page = response.content.decode()
    download = AuditEvent.objects.get(action="resource.downloaded")
    for expected in (
        "bor-member",
        "Borealis Cyber Centre",
        "Finland",
        ">FI<",
        "Downloaded",
        "Viewed",
        "Shared",
        used.ab_agreement.label,
        download.created_at.strftime("%H:%M:%S"),
        download.details["sha256"][:10],
    ):
        assert expected in page, expected
    rows = response.context["rows"]
    assert [r.action for r in rows[:2]] == [
        "resource.downloaded",
        "resource.viewed",
    ]  # newest first
    assert rows[0].version == 1 and rows[0].agreement == used.ab_agreement.label


def test_the_report_filters_by_action_and_organisation(used, client):
    client.force_login(used.a_pm)
    url = report_url(used.resource)

    downloads = client.get(url, {"action": "resource.downloaded"}).context["rows"]
    by_b = client.get(url, {"organisation": used.b.slug}).context["rows"]
    by_a = client.get(url, {"organisation": used.a.slug}).context["rows"]
    nothing = client.get(url, {"organisation": used.c.slug})

    assert [r.user for r in downloads] == ["bor-member"]
    assert {r.user for r in by_b} == {"bor-member"}
    assert {r.action for r in by_b} == {"resource.viewed", "resource.downloaded"}
    assert {r.user for r in by_a} == {"atl-pm"}
    assert {r.action for r in by_a} == {"resource.created", "resource.shared"}
    assert "Nothing matches these filters" in nothing.content.decode()


def test_invalid_dates_are_a_form_error_never_a_crash(used, client):
    client.force_login(used.a_pm)
    url = report_url(used.resource)

    bad = client.get(url, {"date_from": "2026-02-31"})
    backwards = client.get(url, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    bad_export = client.get(url, {"date_to": "yesterday", "format": "csv"})

    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()
    assert bad.context["rows"] == []
    assert "The end date is before the start date." in backwards.content.decode()
    assert bad_export.status_code == 200
    assert bad_export["Content-Type"].startswith("text/html")
    assert "Enter a valid date." in bad_export.content.decode()


def test_the_report_filters_by_day(used, client):
    client.force_login(used.a_pm)
    url = report_url(used.resource)
    today = AuditEvent.objects.latest("id").created_at.date()

    same_day = client.get(url, {"date_from": today, "date_to": today}).context["rows"]
    before = client.get(url, {"date_to": "2000-01-01"}).context["rows"]

    assert len(same_day) == 4 and before == []


def test_csv_export_has_a_header_the_rows_and_neutralises_formulas(sharing, client):
    resource = new_resource(sharing, title='=HYPERLINK("http://evil.example","Open me")')
    share_with_b(sharing, resource)
    services.open_download(actor=sharing.b_member, resource=resource)
    client.force_login(sharing.a_admin)

    response = client.get(report_url(resource), {"format": "csv", "action": "resource.downloaded"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="access-report-resource-')
    assert disposition.endswith('.csv"')
    header, *rows = csv_rows(response)
    assert header == reports.CSV_HEADER
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["user"] == "bor-member" and row["organisation"] == "Borealis Cyber Centre"
    assert (row["country"], row["country_name"]) == ("FI", "Finland")
    assert row["action"] == "resource.downloaded" and row["version"] == "1"
    assert row["resource"] == '\'=HYPERLINK("http://evil.example","Open me")'
    assert row["time_utc"].endswith("+00:00")
    exported = AuditEvent.objects.get(action="resource.access_report_exported")
    assert exported.actor == sharing.a_admin and exported.details["filters"] == {
        "action": "resource.downloaded"
    }


def test_an_export_is_recorded_and_shows_in_the_next_one_not_in_itself(used, client):
    client.force_login(used.a_pm)
    url = report_url(used.resource)

    first = [row[5] for row in csv_rows(client.get(url, {"format": "csv"}))[1:]]
    second = [row[5] for row in csv_rows(client.get(url, {"format": "csv"}))[1:]]

    assert "resource.access_report_exported" not in first
    assert second == ["resource.access_report_exported", *first]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_a_spreadsheet_would_run_are_kept_as_text(text):
    assert csv_export.safe_cell(text) == "'" + text
    assert csv_export.safe_cell("Plain title") == "Plain title"


def test_the_agreement_report_shows_only_the_viewers_own_resources(used, client):
    b_resource = new_resource(used, actor=used.b_pm, title="Borealis sensor data")
    services.share_resource(
        actor=used.b_pm, resource=b_resource, agreement=used.ab_agreement, recipient=used.a
    )
    services.open_download(actor=used.a_member, resource=b_resource)
    unshared = new_resource(used, title="Never shared draft")
    services.record_view(actor=used.a_member, resource=unshared)

    client.force_login(used.a_pm)
    a_rows = client.get(agreement_report_url(used.ab_agreement)).context["rows"]
    client.force_login(used.b_pm)
    b_rows = client.get(agreement_report_url(used.ab_agreement)).context["rows"]

    assert {r.resource for r in a_rows} == {"Quarterly threat landscape"}
    assert {(r.user, r.action) for r in a_rows} >= {
        ("bor-member", "resource.downloaded"),
        ("bor-member", "resource.viewed"),
        ("atl-pm", "resource.shared"),
    }
    assert {r.resource for r in b_rows} == {"Borealis sensor data"}
    assert ("atl-member-9f3k", "resource.downloaded") in {(r.user, r.action) for r in b_rows}


def test_the_agreement_report_keeps_revocations_and_exports_csv(used, client):
    share = used.resource.shares.get()
    services.revoke_share(actor=used.a_pm, share=share, reason="Programme closed")
    client.force_login(used.a_pm)
    url = agreement_report_url(used.ab_agreement)

    revoked = client.get(url, {"action": "resource.share_revoked"}).context["rows"]
    exported = client.get(url, {"format": "csv"})

    assert [(r.user, r.detail) for r in revoked] == [("atl-pm", "bor-ncsc: Programme closed")]
    disposition = exported["Content-Disposition"]
    assert f"access-report-{used.ab_agreement.reference}" in disposition
    header, *rows = csv_rows(exported)
    assert header == reports.CSV_HEADER and len(rows) == 4  # shared, viewed, downloaded, revoked


@pytest.mark.parametrize("report", ["resource", "agreement"])
def test_a_member_of_the_owner_without_the_role_is_refused(used, client, report):
    url = (
        report_url(used.resource)
        if report == "resource"
        else agreement_report_url(used.ab_agreement)
    )
    client.force_login(used.a_member)

    response = client.get(url)

    assert response.status_code == 403
    assert "bor-member" not in response.content.decode()


@pytest.mark.parametrize("report", ["resource", "agreement"])
def test_an_unrelated_nation_cannot_learn_the_report_exists(used, client, report):
    url = (
        report_url(used.resource)
        if report == "resource"
        else agreement_report_url(used.ab_agreement)
    )
    client.force_login(used.c_member)

    assert client.get(url).status_code == 404
    assert client.get(url, {"format": "csv"}).status_code == 404


def test_the_recipient_sees_the_resource_but_not_its_report(used, client):
    client.force_login(used.b_member)

    assert client.get(report_url(used.resource)).status_code == 403


def test_htmx_refreshes_only_the_results(used, client):
    client.force_login(used.a_pm)

    response = client.get(
        report_url(used.resource), {"action": "resource.viewed"}, HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert "<html" not in page and "<table" in page and "bor-member" in page


def test_the_report_pages_and_costs_the_same_queries_for_few_and_many_events(used, client):
    client.force_login(used.a_pm)
    url = report_url(used.resource)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response

    client.get(url)  # the first request of a session records the session itself
    few, _ = queries()
    for _ in range(60):
        services.record_view(actor=used.b_member, resource=used.resource)
    many, response = queries()

    assert many == few
    assert len(response.context["rows"]) == 50
    assert "Page 1 of 2" in response.content.decode()
    by_number = client.get(url, {"page": 2}).context["rows"]
    assert len(by_number) == 14
    following = client.get(f"{url}?{links(response)['next']}")  # the link reads after a row
    assert following.context["rows"] == by_number and "Page 2 of 2" in following.content.decode()


def test_the_organisation_filter_offers_and_accepts_only_what_the_directory_shows(used, client):
    from portal import services as portal_services
    from tests.factories import OrganisationFactory

    defunct = OrganisationFactory(name="Defunct Signals Agency", slug="defunct-sig")
    portal_services.update_organisation(actor=used.staff, organisation=defunct, is_active=False)
    client.force_login(used.a_pm)
    url = report_url(used.resource)

    page = client.get(url).content.decode()
    assert "Defunct Signals Agency" not in page and "defunct-sig" not in page

    def refusal(slug: str) -> str:
        errors = client.get(url, {"organisation": slug}).context["report_form"].errors
        return str(errors).replace(slug, "SLUG")

    assert refusal("defunct-sig") == refusal("never-existed")
    api_answers = []
    for slug in ("defunct-sig", "never-existed"):
        answer = client.get(
            f"/api/v1/resources/{used.resource.pk}/access-log/", {"organisation": slug}
        )
        assert answer.status_code == 400
        api_answers.append(str(answer.json()).replace(slug, "SLUG"))
    assert api_answers[0] == api_answers[1]
