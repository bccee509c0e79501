"""Server-side latency and query counts of the main paths, in process with the test client.

Each path is requested `warmup` times, then `iterations` times timed; one more request runs
under CaptureQueriesContext to count the queries (counting slows the timed ones).

The library's deep page is the one a person reaches by pressing Next: before measuring, the
`rel="next"` link of each page is followed from the first page, DEEP_PAGE times or until
there is none (untimed), whatever form the link takes (a page number, a keyset token).
"""

from __future__ import annotations

import html
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.scales import Scale

PAGE_SIZE = 25
DEEP_PAGE = 200


@dataclass
class Subject:
    """A measured user: a programme manager of an organisation with a small, median or very
    large grant set."""

    kind: str
    user: object
    organisation: object
    resource_grants: int
    visible: dict = field(default_factory=dict)
    project_id: int | None = None
    resource_id: int | None = None
    #: The page reached by following Next from the first (1 until followed) and its URL.
    deep_page: int = 1
    deep_url: str = ""


def pick_subjects() -> list[Subject]:
    from django.contrib.auth import get_user_model

    from agreements.models import Party
    from bench.seed import grant_set_sizes
    from portal.models import Organisation

    sizes = grant_set_sizes(connection)
    # Organisations that are party to some agreement: one with none sees only TLP:CLEAR.
    parties = Party.objects.values("organisation_id")
    organisations = sorted(
        Organisation.objects.filter(pk__in=parties), key=lambda o: (sizes.get(o.group_id, 0), o.pk)
    )
    chosen = {
        "small": organisations[0],
        "median": organisations[len(organisations) // 2],
        "large": organisations[-1],
    }
    users = get_user_model().objects.select_related("membership__organisation")
    subjects = []
    for kind, organisation in chosen.items():
        user = users.filter(
            membership__organisation=organisation, membership__programme_manager=True
        ).order_by("pk")[0]
        subjects.append(Subject(kind, user, organisation, sizes.get(organisation.group_id, 0)))
    for subject in subjects:
        _describe(subject)
    return subjects


def _describe(subject: Subject) -> None:
    from agreements.models import Agreement
    from portal import access
    from projects.models import Participant, Project
    from resources.filters import shared_with
    from resources.models import Resource

    user = subject.user
    visible_resources = access.visible_to(user, Resource.objects.all()).count()
    subject.visible = {
        "resources": visible_resources,
        "agreements": access.visible_to(user, Agreement.objects.all()).count(),
        "projects": access.visible_to(user, Project.objects.all()).count(),
    }
    participation = (
        Participant.objects.filter(organisation=subject.organisation).order_by("project_id").first()
    )
    subject.project_id = participation.project_id if participation else None
    share = shared_with(user).exclude(resource__tlp="red").order_by("pk").first()
    if share is not None:
        subject.resource_id = share.resource_id
    else:
        owned = Resource.objects.filter(owner=subject.organisation).order_by("pk").first()
        subject.resource_id = owned.pk if owned else None


_A_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.DOTALL
)


def next_link(page: str) -> str | None:
    """The href of the page's first `<a rel="next">` (rel may hold other words too),
    HTML-unescaped; None when there is no such link."""
    for tag in _A_TAG.finditer(page):
        attrs = {
            m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _ATTR.finditer(tag.group(0))
        }
        if "next" in attrs.get("rel", "").lower().split() and "href" in attrs:
            return html.unescape(attrs["href"])
    return None


def follow_next(get: Callable[[str], object], start: str, pages: int) -> tuple[int, str]:
    """Follow Next from `start` until page `pages` or the last page: (page reached, URL)."""
    url, reached = start, 1
    while reached < pages:
        response = get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} while following Next")
        href = next_link(response.content.decode())
        if not href:
            break
        url, reached = urljoin(url, href), reached + 1
    return reached, url


def paths_for(subject: Subject) -> dict[str, str]:
    paths = {
        "dashboard": "/",
        "agreement list": "/agreements/",
        "project list": "/projects/",
        "resource library, first page": "/resources/",
        "resource library, filtered": "/resources/?tlp=amber&kind=report",
        f"resource library, page {subject.deep_page}": subject.deep_url or "/resources/",
        "API resources": "/api/v1/resources/",
        "API agreements": "/api/v1/agreements/",
        "API projects": "/api/v1/projects/",
        "API organisations": "/api/v1/organisations/",
    }
    if subject.project_id:
        paths["project page"] = f"/projects/{subject.project_id}/"
    if subject.resource_id:
        paths["resource detail"] = f"/resources/{subject.resource_id}/"
    return paths


def summarise(samples: list[float]) -> dict:
    """p50, p95 and p99 in milliseconds (nearest rank)."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000, 2)

    return {
        "p50_ms": rank(50),
        "p95_ms": rank(95),
        "p99_ms": rank(99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "n": len(ordered),
    }


def measure(call: Callable[[], object], scale: Scale, check: Callable[[object], None]) -> dict:
    for _ in range(scale.warmup):
        check(call())
    samples = []
    for _ in range(scale.iterations):
        started = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - started)
        check(result)
    with CaptureQueriesContext(connection) as queries:
        check(call())
    return {**summarise(samples), "queries": len(queries.captured_queries)}


def measure_side_by_side(calls: dict[str, Callable[[], object]], scale: Scale) -> dict:
    """Time several ways of doing the same thing in turns (the order rotating each round),
    so that a shared machine's slow minute falls on all of them alike and their ratio is
    read from the same moments."""
    names = list(calls)
    for _ in range(scale.warmup):
        for name in names:
            calls[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(scale.iterations):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            started = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: summarise(times) for name, times in samples.items()}


def run(scale: Scale, subjects: list[Subject], log: Callable[[str], None]) -> list[dict]:
    from portal import access
    from resources.models import Resource

    rows = []
    for subject in subjects:
        client = Client()
        client.force_login(subject.user)
        subject.deep_page, subject.deep_url = follow_next(client.get, "/resources/", DEEP_PAGE)
        log(f"  {subject.kind:<7} Next followed to page {subject.deep_page}: {subject.deep_url}")
        for name, url in paths_for(subject).items():

            def ok(response, url=url):
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")

            result = measure(lambda url=url, client=client: client.get(url), scale, ok)
            rows.append({"path": name, "url": url, "user": subject.kind, **result})
            log(_line(subject.kind, name, result))
        if subject.resource_id:
            resource = Resource.objects.select_related("owner").get(pk=subject.resource_id)
            user = subject.user

            def decide(user=user, resource=resource):
                # One request's worth: a fresh answer cache.
                token = access.request_cache.set({})
                try:
                    return access.decide(user, "download", resource)
                finally:
                    access.request_cache.reset(token)

            def allowed(decision):
                if decision is not access.Decision.ALLOW:
                    raise RuntimeError(f"download check answered {decision}")

            result = measure(decide, scale, allowed)
            rows.append({"path": "download permission check", "url": "", "user": subject.kind})
            rows[-1].update(result)
            log(_line(subject.kind, "download permission check", result))
    return rows


def _line(kind: str, name: str, result: dict) -> str:
    return (
        f"  {kind:<7} {name:<34} p50 {result['p50_ms']:>8.1f} ms  p95 {result['p95_ms']:>8.1f} ms"
        f"  p99 {result['p99_ms']:>8.1f} ms  {result['queries']:>3} queries"
    )
