"""Issue 16's targets read the run's rows as they are written."""

from bench import report
from bench.floor import row_links


def _row(path, user, p50, p95, queries=5):
    return {"path": path, "user": user, "p50_ms": p50, "p95_ms": p95, "queries": queries}


def _by_measure(result):
    return {t["measure"]: t for t in report.targets(result, [])}


def test_one_list_page_over_its_p95_misses_the_list_target():
    latency = [
        _row("dashboard", "small", 10, 20),
        _row("API organisations", "large", 11, 26),
        _row("resource detail", "large", 50, 90),  # not a list page
    ]
    target = _by_measure({"latency": latency})["every list page, HTML and API, every user: p95"]
    assert target["met"] is False
    assert target["measured"] == "max 26 ms (API organisations, large); 1 of 2 over"


def test_the_deep_page_is_read_against_the_same_users_first_page():
    latency = [
        _row("resource library, first page", "small", 10, 12),
        _row("resource library, page 200", "small", 11.5, 14),
        _row("resource library, first page", "large", 10, 12),
        _row("resource library, page 37", "large", 13, 14),
    ]
    rows = report.deep_pages(latency)
    assert [(r["user"], r["page"], r["ratio"]) for r in rows] == [
        ("small", "200", 1.15),
        ("large", "37", 1.3),
    ]
    target = _by_measure({"latency": latency})["library deep page (by Next) against page 1, p50"]
    assert target["met"] is False
    assert "page 37, large" in target["measured"]


def test_the_django_floor_target_is_on_the_p50_ratio_of_every_page():
    floor = [
        {"path": "API projects", "user": "small", "ratio_p50": 1.2},
        {"path": "project list", "user": "median", "ratio_p50": 1.6},
    ]
    target = _by_measure({"floor": floor})["against the Django floor, every list page (p50)"]
    assert (target["met"], target["measured"]) == (
        False,
        "max 1.6x (project list, median); 1 of 2 over",
    )


def test_row_links_count_exact_hrefs_only():
    page = '<a href="/resources/1/">a</a> <a href="/resources/12/">b</a> /resources/1/'
    assert row_links(page, ["/resources/1/", "/resources/2/"]) == {
        "/resources/1/": 1,
        "/resources/2/": 0,
    }
