"""Stored and reflected cross-site scripting: every free-text field of the portal carries a
payload (Markdown ones included), and every page found by walking the URLconf is rendered for
people on both sides of the partnership and scanned for anything that could run."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from agreements.models import Agreement
from portal import markdown
from portal.base_views import AccessListView, ChildListView, ObjectAccessMixin
from portal.models import Notification
from projects.models import Project
from resources.models import Resource
from tests.access.routes import all_routes, excluded_reason, is_allauth
from tests.security.support import client_for
from tests.security.xss import (
    FULL,
    MARKDOWN,
    NOT_FREE_TEXT,
    TINY,
    XSS_FIELDS,
    Scanner,
    build_xss_estate,
    free_text_fields,
    scan,
)


@pytest.fixture(scope="module")
def xss_once(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_xss_estate()
        transaction.set_rollback(True)


@pytest.fixture
def xss(xss_once, db):
    return xss_once


def test_every_free_text_field_is_attacked():
    fields = free_text_fields()
    unknown = fields - XSS_FIELDS - set(NOT_FREE_TEXT)
    assert not unknown, f"Put a payload into these in tests/security/xss.py: {sorted(unknown)}"
    assert not (XSS_FIELDS | set(NOT_FREE_TEXT)) - fields, "stale names in tests/security/xss.py"


def test_the_world_carries_a_payload_in_every_field(xss):
    from django.apps import apps

    empty = []
    for name in sorted(XSS_FIELDS):
        label, field_name = name.rsplit(".", 1)
        model = apps.get_model(label)
        values = model._default_manager.values_list(field_name, flat=True)
        if not any("<" in str(value) for value in values):
            empty.append(name)
    assert not empty, f"no payload stored in {empty}"


# --- Every page, as each side sees it ----------------------------------------------------------


def _choices(xss) -> dict:
    """What each URL keyword may be filled with: every object in an interesting state."""
    a_party = {
        agreement.pk: agreement.parties.get(organisation=xss.a).pk for agreement in _agreements(xss)
    }
    return {
        "slug": [xss.a.slug, xss.b.slug],
        "agreements.agreement": [agreement.pk for agreement in _agreements(xss)],
        "resources.resource": [xss.report.pk, xss.revoked.pk],
        "projects.project": [xss.project.pk, xss.exercise.pk],
        "member_pk": [xss.a_admin.membership.pk],
        "party_pk": a_party,
        "number": [1, 2],
        "share_pk": [xss.share.pk],
        "item": [
            ("milestone", xss.milestone.pk),
            ("deliverable", xss.deliverable.pk),
            ("milestone", xss.overdue.pk),
        ],
        "participant_pk": [xss.partner.pk],
        "resource_pk": [xss.report.pk],  # the milestone's and the deliverable's evidence
        # A notice's link only redirects; the list that shows the notices is checked.
        "notice_pk": list(Notification.objects.values_list("pk", flat=True)[:1]),
    }


def _agreements(xss) -> list[Agreement]:
    return [xss.exchange, xss.pending, xss.withdrawn, xss.ending, xss.research]


#: Routes that answer with a file, not a page (PDF, JSON, the uploaded bytes).
FILES = {
    "resources:download",
    "resources:version-download",
    "agreements:evidence",
    "agreements:certificate",
    "calendar:feed",
}


def _urls(xss) -> list[str]:
    """Every HTML page's URL, with each object of the world its keywords can name."""
    choices = _choices(xss)
    urls = []
    for route in all_routes():
        if excluded_reason(route) or route.is_api or route.name in FILES:
            continue
        view = route.view_class
        if view is None or "get" not in getattr(view, "http_method_names", []):
            continue
        if is_allauth(route):
            urls.append(route.url({name: "1" for name in route.kwarg_names}))
            continue
        names = route.kwarg_names
        if "pk" in names:
            model = view.model._meta.label_lower if issubclass(view, ObjectAccessMixin) else ""
            pks = choices.get(model, [])
        else:
            pks = [None]
        for pk in pks:
            kwargs_options = []
            for name in names:
                if name == "pk":
                    kwargs_options.append([{"pk": pk}])
                elif name == "item_pk":
                    continue
                elif name == "item":
                    kwargs_options.append(
                        [{"item": kind, "item_pk": item_pk} for kind, item_pk in choices["item"]]
                    )
                elif name == "party_pk":
                    kwargs_options.append([{"party_pk": choices["party_pk"][pk]}])
                else:
                    kwargs_options.append([{name: value} for value in choices[name]])
            for combination in itertools.product(*kwargs_options):
                kwargs = {}
                for part in combination:
                    kwargs.update(part)
                urls.append(route.url(kwargs))
    return urls


#: Pages that must show the payloads (escaped), so the scan is not of empty pages.
MUST_SHOW = [
    "/",
    "/notifications/",
    "/agreements/",
    "/resources/",
    "/projects/",
    "/organisations/",
]


@pytest.mark.parametrize("viewer", ["a_admin", "b_pm"])
def test_no_page_runs_a_stored_payload(xss, viewer):
    client = client_for(getattr(xss, viewer))
    problems, shown = {}, set()
    for url in _urls(xss):
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, **headers)
            assert response.status_code < 500, f"{url}: {response.status_code}"
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            found = scan(response)
            if found:
                problems[f"{url}{' (htmx)' if htmx else ''}"] = found
            if "&lt;b onblur=1&gt;" in response.content.decode() or "&lt;script&gt;" in (
                response.content.decode()
            ):
                shown.add(url)
    assert not problems, problems
    assert set(MUST_SHOW) <= shown, f"payloads not shown on {set(MUST_SHOW) - shown}"
    detail_pages = {
        xss.exchange.get_absolute_url(),
        xss.report.get_absolute_url(),
        xss.project.get_absolute_url(),
        xss.exercise.get_absolute_url(),
        xss.a.get_absolute_url(),
    }
    assert detail_pages <= shown, f"payloads not shown on {detail_pages - shown}"
    assert len(shown) > 20


def test_search_and_filter_values_are_not_reflected_as_markup(xss):
    """Reflected XSS: a link to a list with a payload in its query string."""
    client = client_for(xss.a_admin)
    problems = {}
    for route in all_routes():
        view = route.view_class
        if view is None or not issubclass(view, AccessListView | ChildListView):
            continue
        kwargs = {"slug": xss.a.slug} if "slug" in route.kwarg_names else {}
        if "pk" in route.kwarg_names:
            kwargs["pk"] = {
                Agreement: xss.exchange.pk,
                Resource: xss.report.pk,
                Project: xss.project.pk,
            }[view.model]
        url = route.url(kwargs)
        filters = getattr(view, "filterset_class", None)
        params = {name: FULL for name in (filters.base_filters if filters else [])}
        params.update(q=FULL, sort=FULL, page=FULL)
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, params, **headers)
            assert response.status_code in (200, 404), f"{url}: {response.status_code}"
            found = scan(response) if response.status_code == 200 else []
            if found:
                problems[url] = found
    assert not problems, problems


# --- The Markdown renderer, and URLs ----------------------------------------------------------


class _NoncedResponse:
    """A rendered fragment, scanned as if it were a page with a strict policy."""

    def __init__(self, html: str):
        self.content = html.encode()

    def get(self, name, default=""):
        return "script-src 'self' 'nonce-x'" if name == "Content-Security-Policy" else default


def test_markdown_keeps_no_markup_and_no_script_link():
    html = str(markdown.render(MARKDOWN + "\n\n" + FULL))

    assert scan(_NoncedResponse(html)) == []
    # The text survives, as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "raw link" in html


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#0000106avascript:alert(1)",
        "java&#x09;script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "jav&#x0A;ascript:alert(1)",
    ],
)
def test_markdown_links_only_go_to_web_and_mail_addresses(link):
    html = str(markdown.render(f"[x]({link}) ![y]({link}) <{link}>\n\n[z][r]\n\n[r]: {link}"))

    scanner = Scanner(nonce="x")
    scanner.feed(html)
    assert scanner.problems == []
    assert "<img" not in html  # images are not among the allowed tags


def test_a_javascript_website_is_refused(xss):
    from portal import services
    from tests.factories import platform_staff

    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=platform_staff(), organisation=xss.a, website="javascript:alert(1)//"
        )
    xss.a.refresh_from_db()
    assert xss.a.website == "https://atl.example"


def test_the_scanner_finds_what_it_looks_for():
    """The scan must be able to fail: it catches each kind of payload when unescaped."""
    for payload in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
        '<a href=" javascript:alert(1)">x</a>',
        '<div hx-on:click="alert(1)">x</div>',
        '<iframe src="https://evil.example"></iframe>',
        TINY,
    ):
        assert scan(_NoncedResponse(f"<p>{payload}</p>")), payload
