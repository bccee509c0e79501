"""The portal in a real browser: Playwright driving Debian's Chromium against the live server.

Every page a test opens is watched: a console error, a failed request or a request that leaves
127.0.0.1 (a CDN, a font service) fails the test. Without Chromium the tests are skipped with
a message saying how to install it; CI installs it (.ci/run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PORTAL_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LOCAL_HOSTS = {"127.0.0.1"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    browser_tests = [item for item in items if here in Path(item.fspath).parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(
        reason=f"No Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
        "(CI does) to run the browser tests."
    )
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, closed when they are done.

    Playwright's event loop runs in the tests' thread, and Django would take the tests' own
    database calls for calls from async code: that is allowed while the browser is open, and
    no longer (the deployment check, run later in the suite, refuses the variable)."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Watch:
    """What went wrong on the pages of one test, reported when it ends."""

    problems: list[str] = field(default_factory=list)
    #: Addresses a test opens expecting a refusal (a 404 for an outsider): the browser logs
    #: those as console errors, and they are the point of the test, not a fault.
    expected_refusals: set[str] = field(default_factory=set)

    def expect_refusal(self, url: str) -> None:
        self.expected_refusals.add(url)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("request", self._request)

    def _console(self, message) -> None:
        if urlsplit(message.location.get("url", "")).path in self.expected_refusals:
            return
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location})")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        # A download that the browser hands over, or a navigation we started elsewhere, is
        # reported as aborted: that is not a failure of the page.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.problems.append(f"request left the machine: {request.url}")


@pytest.fixture
def watch():
    watcher = Watch()
    yield watcher
    assert not watcher.problems, "\n".join(watcher.problems)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def new_page(request, browser, live_server, watch):
    """Open a fresh browser context (own cookies) with a watched page, as often as needed.
    When the test fails, each page's last state is kept in tests/e2e/artifacts/."""
    contexts = []

    def open_page(width: int = 1280, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        return page

    yield open_page
    if getattr(request.node, "call_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        for number, context in enumerate(contexts):
            for page in context.pages:
                page.screenshot(path=ARTIFACTS / f"FAILED-{request.node.name}-{number}.png")
    for context in contexts:
        context.close()


@pytest.fixture
def e2e_world(transactional_db, world, people, settings, tmp_path):
    """The shared world, on a database the live server's thread can see, with uploads in a
    throw-away folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    return people


@pytest.fixture
def clock():
    """The portal's clock, shared with the live server's thread. A person who needs a second
    authenticator code waits for the next 30-second period; tests move the clock instead."""
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=True) as traveller:
        yield traveller
