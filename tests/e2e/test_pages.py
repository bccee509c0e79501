"""Every page a person reads, in the browser, at 1280, 768 and 390 pixels (a laptop, a tablet,
a phone): axe finds no serious or critical violation, nothing overflows the window, and every
table's key column (status, TLP, health, roles: the cells marked `cell-key`, or under such a
heading) is inside the window, not scrolled off it. The main pages are kept as screenshots in
tests/e2e/artifacts/ to look at.

Pages come from the URLconf, like the cross-tenant matrix's routes, so a new page is checked
the moment it is routed.
"""

import pytest

from tests.access.routes import all_routes, excluded_reason, is_allauth
from tests.access.test_matrix import TARGETS, _kwargs, matrix_world, subject_of  # noqa: F401
from tests.e2e.support import check_accessibility, screenshot, sign_in

WIDTHS = (1280, 768, 390)
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

#: The overflow of the page: what a person would have to scroll sideways to see.
PAGE_OVERFLOW = "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
#: The elements that stick out of the window the most (those whose children do not), to say
#: where an overflow comes from.
WIDEST_ELEMENTS = """() => {
  const width = document.scrollingElement.clientWidth;
  const out = Array.from(document.body.querySelectorAll("*")).filter((element) => {
    const box = element.getBoundingClientRect();
    return box.right > width + 0.5 && box.width > 0;
  });
  const name = (element) => element.tagName.toLowerCase()
    + (element.id ? "#" + element.id : "")
    + Array.from(element.classList).map((c) => "." + c).join("");
  return out.filter((element) => !out.some((other) => other !== element && element.contains(other)))
    .slice(0, 3)
    .map((element) => `${name(element.parentElement)} > ${name(element)}`
      + ` (right edge ${Math.round(element.getBoundingClientRect().right)} px)`);
}"""
#: Key cells of every table that are not inside the window, or are cut off by a region that
#: scrolls: the first rows' cells under a key heading, and every cell marked cell-key.
KEY_CELLS_OUT_OF_VIEW = """() => {
  const KEY_HEADING = /^(status|tlp|health|roles?)$/i;
  const problems = [];
  const visibleBox = (element) => {
    let left = 0, right = document.scrollingElement.clientWidth;
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX === "visible") continue;
      const box = parent.getBoundingClientRect();
      left = Math.max(left, box.left);
      right = Math.min(right, box.right);
    }
    return {left, right};
  };
  for (const table of document.querySelectorAll("table")) {
    // Tables a person does not see (the Gantt chart's copy for screen readers) are skipped.
    if (!table.getClientRects().length || table.closest(".visually-hidden")) continue;
    const headings = Array.from(table.querySelectorAll("thead th"));
    const columns = headings.flatMap((th, index) =>
      th.classList.contains("cell-key") || KEY_HEADING.test(th.textContent.trim()) ? [index] : []);
    const cells = new Set(table.querySelectorAll("td.cell-key"));
    const rows = Array.from(table.tBodies).flatMap((body) => Array.from(body.rows));
    for (const row of rows.filter((r) => r.cells.length === headings.length).slice(0, 5)) {
      for (const index of columns) cells.add(row.cells[index]);
    }
    for (const cell of cells) {
      const box = cell.getBoundingClientRect();
      if (!box.width || !box.height) continue;
      const view = visibleBox(cell);
      if (box.left < view.left - 1 || box.right > view.right + 1) {
        const column = cell.dataset.label
          || (headings[cell.cellIndex] && headings[cell.cellIndex].textContent.trim()) || "?";
        const where = table.closest("section[aria-labelledby], [aria-label]");
        problems.push(`the ${column} column of ${where ? (where.getAttribute("aria-label")
          || document.getElementById(where.getAttribute("aria-labelledby"))?.textContent.trim())
          : "a table"} is out of view (${Math.round(box.left)}-${Math.round(box.right)} px,`
          + ` visible ${Math.round(view.left)}-${Math.round(view.right)} px)`);
        break;
      }
    }
  }
  return problems;
}"""


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
            overflow = page.evaluate(PAGE_OVERFLOW)
            if overflow > 0:
                culprits = "; ".join(page.evaluate(WIDEST_ELEMENTS))
                failures.append(
                    f"{url} at {width}px overflows the window by {overflow}px: {culprits}"
                )
            for problem in page.evaluate(KEY_CELLS_OUT_OF_VIEW):
                failures.append(f"{url} at {width}px: {problem}")
            if route.name in SHOWCASE:
                screenshot(page, route.name.replace(":", "-"))
    assert checked >= 40, f"only {checked} pages checked: the page walker lost its way"
    assert not failures, "\n\n".join(failures)
