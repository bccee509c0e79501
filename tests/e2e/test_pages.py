"""Every page a person reads, in the browser: axe finds no serious or critical violation, and
nothing overflows the window at 1280 or 768 pixels. The main pages are kept as screenshots in
tests/e2e/artifacts/ to look at.

Pages come from the URLconf, like the cross-tenant matrix's routes, so a new page is checked
the moment it is routed.
"""

import pytest

from tests.access.routes import all_routes, excluded_reason, is_allauth
from tests.access.test_matrix import TARGETS, _kwargs, matrix_world, subject_of  # noqa: F401
from tests.e2e.support import check_accessibility, screenshot, sign_in

WIDTHS = (1280, 768)
#: allauth's pages people actually see, by URL name (the rest are redirects or POST-only).
ACCOUNT_PAGES = {
    "account_change_password",
    "mfa_index",
    "usersessions_list",
}
#: Pages kept as screenshots (route names).
SHOWCASE = {
    "portal:dashboard",
    "portal:notifications",
    "portal:organisation-detail",
    "portal:member-list",
    "portal:organisation-audit",
    "portal:profile",
    "agreements:list",
    "agreements:detail",
    "resources:list",
    "resources:detail",
    "projects:list",
    "projects:detail",
    "intel:list",
    "intel:detail",
    "intel:connect",
}


def html_pages():
    for route in all_routes():
        if route.is_api or excluded_reason(route):
            continue
        if is_allauth(route) and route.name not in ACCOUNT_PAGES:
            continue
        allowed = getattr(route.view_class, "http_method_names", ["get"])
        if route.view_class is not None and "get" not in allowed:
            continue
        if getattr(route.view_class, "htmx_fragment", False):
            continue  # a piece htmx puts into a page (tested there), not a page
        yield route


@pytest.fixture
def browsed_world(transactional_db, matrix_world):  # noqa: F811  (the imported fixture)
    return matrix_world


def test_every_page_is_accessible_and_fits(browsed_world, new_page, clock):
    world = browsed_world
    failures = []
    checked = 0
    for width in WIDTHS:
        page = new_page(width=width)
        sign_in(page, world.a_admin, clock)
        for route in html_pages():
            subject = subject_of(route, "GET")
            target = TARGETS[subject[0]](world) if subject else world.a
            url = route.url(_kwargs(route, world, target))
            # Files (certificates, evidence, CSV, downloads) are not pages: ask first.
            probe = page.request.get(url, max_redirects=0)
            if "text/html" not in probe.headers.get("content-type", ""):
                continue
            page.goto(url)
            checked += 1
            try:
                check_accessibility(page, f"{url} at {width}px")
            except AssertionError as violation:
                failures.append(str(violation))
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                failures.append(f"{url} at {width}px overflows the window by {overflow}px")
            if route.name in SHOWCASE:
                screenshot(page, route.name.replace(":", "-"))
    assert checked >= 40, f"only {checked} pages checked: the page walker lost its way"
    assert not failures, "\n\n".join(failures)
