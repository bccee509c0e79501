"""Results on disk (`bench/results/<date>-<scale>.json` and `.md`) and the targets of issue 16
(and of issue 14, for the TAXII poll), each marked met or missed."""

from __future__ import annotations

import json
from pathlib import Path

from bench.environment import RESULTS

#: Issue 16: every list page, for every measured user, within this p95.
LIST_PATHS = (
    "dashboard",
    "agreement list",
    "project list",
    "resource library, first page",
    "resource library, filtered",
    "API resources",
    "API agreements",
    "API projects",
    "API organisations",
)
LIST_P95_MS = 25
FIRST_PAGE_P50_MS = 12
PROJECT_PAGE_P95_MS = 40
PROJECT_PAGE_QUERIES = 15
HUB_FILTERED_P95_MS = 30
DEEP_PAGE_LIMIT = 1.2
GROWTH_LIMIT = 1.3
#: Ours over the Django floor (bench/floor.py), p50, on every list page.
DJANGO_FLOOR_LIMIT = 1.5
#: The access query over hand-written SQL (bench/compare.py).
SQL_FLOOR_LIMIT = 3
THROUGHPUT_RPS = 150
THROUGHPUT_P99_MS = 250
CPU_MS_PER_REQUEST = 8
WORKER_RSS_MB = 300
#: Issue 14: a partner polling a collection of 50,000 objects with limit=500.
TAXII_PAGE_P95_MS = 60
FLOOR_LIMIT = 2


def latest(scale_name: str, *, part: str | None = None, exclude: Path | None = None) -> dict | None:
    """The newest result at a scale: of a whole run, or of a run of one part (`--only`)."""
    files = sorted(RESULTS.glob(f"*-{scale_name}{f'-{part}' if part else ''}.json"))
    files = [f for f in files if f != exclude]
    return json.loads(files[-1].read_text()) if files else None


def is_list_path(path: str) -> bool:
    deep = ("resource library, page", "resource library, deep")
    return path in LIST_PATHS or path.startswith(deep)


def growth(result: dict, other: dict | None) -> list[dict]:
    """p50 at large over p50 at small, per path and user kind."""
    if other is None or other["scale"]["name"] == result["scale"]["name"]:
        return []
    small, large = (result, other) if result["scale"]["name"] == "small" else (other, result)

    def key(row):
        path = row["path"]
        if path.startswith("resource library, page"):
            path = "resource library, deep page"
        return (path, row["user"])

    small_rows = {key(r): r for r in small.get("latency", [])}
    rows = []
    for row in large.get("latency", []):
        before = small_rows.get(key(row))
        if before and before["p50_ms"] > 0:
            rows.append(
                {
                    "path": key(row)[0],
                    "user": row["user"],
                    "small_p50_ms": before["p50_ms"],
                    "large_p50_ms": row["p50_ms"],
                    "ratio": round(row["p50_ms"] / before["p50_ms"], 2),
                    "small_queries": before["queries"],
                    "large_queries": row["queries"],
                }
            )
    before, after = small.get("taxii", {}), large.get("taxii", {})
    if before.get("page") and after.get("page") and before["page"]["p50_ms"] > 0:
        rows.append(
            {
                "path": "TAXII poll page",
                "user": "poller",
                "small_p50_ms": before["page"]["p50_ms"],
                "large_p50_ms": after["page"]["p50_ms"],
                "ratio": round(after["page"]["p50_ms"] / before["page"]["p50_ms"], 2),
                "small_queries": before["queries_per_page"][0],
                "large_queries": after["queries_per_page"][0],
            }
        )
    return rows


def _worst(rows: list[dict], key: str) -> dict:
    return max(rows, key=lambda r: r[key])


def _where(row: dict) -> str:
    return f"{row['path']}, {row['user']}"


def _ceiling(name: str, rows: list[dict], key: str, limit: float, unit: str, target: str):
    """A target that every row's `key` stays at or under `limit`: the worst, and how many
    are over."""
    worst = _worst(rows, key)
    over = [r for r in rows if r[key] > limit]
    measured = f"max {worst[key]}{unit} ({_where(worst)}); {len(over)} of {len(rows)} over"
    return _target(name, target, measured, not over)


def targets(result: dict, growth_rows: list[dict]) -> list[dict]:
    """Issue 16's targets (and issue 14's for the TAXII poll), each met, missed or n/a."""
    latency = result.get("latency", [])
    out = []
    lists = [r for r in latency if r["path"] in LIST_PATHS]
    if lists:
        out.append(
            _ceiling(
                "every list page, HTML and API, every user: p95",
                lists,
                "p95_ms",
                LIST_P95_MS,
                " ms",
                f"≤ {LIST_P95_MS} ms",
            )
        )
    first = [r for r in latency if r["path"] == "resource library, first page"]
    if first:
        worst = _worst(first, "p50_ms")
        out.append(
            _target(
                "resource library first page p50",
                f"≤ {FIRST_PAGE_P50_MS} ms",
                f"max {worst['p50_ms']} ms ({worst['user']})",
                worst["p50_ms"] <= FIRST_PAGE_P50_MS,
            )
        )
    project = [r for r in latency if r["path"] == "project page"]
    if project:
        worst = _worst(project, "p95_ms")
        queries = max(r["queries"] for r in project)
        out.append(
            _target(
                "project page p95, queries",
                f"≤ {PROJECT_PAGE_P95_MS} ms, ≤ {PROJECT_PAGE_QUERIES} queries",
                f"max {worst['p95_ms']} ms ({worst['user']}), max {queries} queries",
                worst["p95_ms"] <= PROJECT_PAGE_P95_MS and queries <= PROJECT_PAGE_QUERIES,
            )
        )
    hub = [r for r in latency if r["path"] == "resource library, filtered" and r["user"] == "large"]
    if hub:
        p95 = hub[0]["p95_ms"]
        out.append(
            _target(
                "hub (large user) filtered library p95",
                f"≤ {HUB_FILTERED_P95_MS} ms",
                f"{p95} ms",
                p95 <= HUB_FILTERED_P95_MS,
            )
        )
    deep = deep_pages(latency)
    if deep:
        worst = _worst(deep, "ratio")
        out.append(
            _target(
                "library deep page (by Next) against page 1, p50",
                f"≤ {DEEP_PAGE_LIMIT}x",
                f"max {worst['ratio']}x (page {worst['page']}, {worst['user']})",
                worst["ratio"] <= DEEP_PAGE_LIMIT,
            )
        )
    queried = [r for r in latency if is_list_path(r["path"])]
    if queried:
        worst = max(r["queries"] for r in queried)
        by_path: dict[str, set[int]] = {}
        for r in queried:
            by_path.setdefault(r["path"].split(", page")[0], set()).add(r["queries"])
        varying = sorted(p for p, counts in by_path.items() if len(counts) > 1)
        scale_drift = [
            g
            for g in growth_rows
            if is_list_path(g["path"]) and g["small_queries"] != g["large_queries"]
        ]
        note = f"max {worst}"
        if varying:
            note += f"; varies by user on {', '.join(varying)}"
        if scale_drift:
            note += f"; differs between scales on {len(scale_drift)} path/user pairs"
        out.append(
            _target(
                "queries per list page",
                "≤ 10, the same at every scale",
                note,
                worst <= 10 and not scale_drift,
            )
        )
    if growth_rows:
        worst = _worst(growth_rows, "ratio")
        out.append(
            _target(
                "growth, small to large, every path (p50)",
                f"≤ {GROWTH_LIMIT}x",
                f"max {worst['ratio']}x ({_where(worst)})",
                worst["ratio"] <= GROWTH_LIMIT,
            )
        )
    elif latency:
        out.append(
            _target(
                "growth, small to large, every path (p50)",
                f"≤ {GROWTH_LIMIT}x",
                "needs both scales",
                None,
            )
        )
    floor = result.get("floor", [])
    if floor:
        # As served, then with nothing kept (portal.list_cache off): the access layer's own
        # overhead, which a kept list hides.
        sides = (
            ("against the Django floor, every list page (p50)", "ratio_p50"),
            ("built afresh (nothing kept) against the Django floor (p50)", "built_ratio_p50"),
        )
        for name, key in sides:
            rows = [r for r in floor if key in r]
            if rows:
                target = f"ours ≤ {DJANGO_FLOOR_LIMIT}x"
                out.append(_ceiling(name, rows, key, DJANGO_FLOOR_LIMIT, "x", target))
    comparison = result.get("comparison", [])
    if comparison:
        worst = min(r["naive_over_ours"] for r in comparison)
        out.append(_target("against naive guardian", "≥ 10x faster", f"min {worst}x", worst >= 10))
        worst = max(r["ours_over_floor"] for r in comparison)
        out.append(
            _target(
                "access query against hand-written SQL",
                f"within {SQL_FLOOR_LIMIT}x",
                f"max {worst}x",
                worst <= SQL_FLOOR_LIMIT,
            )
        )
    out += taxii_targets(result.get("taxii"))
    load = result.get("throughput")
    if load:
        out.append(
            _target(
                "throughput on the mix",
                f"≥ {THROUGHPUT_RPS} req/s, 0 errors, p99 ≤ {THROUGHPUT_P99_MS} ms",
                f"{load['requests_per_s']} req/s, {load['errors']} errors, "
                + f"p99 {load['p99_ms']} ms",
                load["requests_per_s"] >= THROUGHPUT_RPS
                and load["errors"] == 0
                and load["p99_ms"] <= THROUGHPUT_P99_MS,
            )
        )
        cpu = load["cpu_ms_per_request"]
        out.append(
            _target(
                "server CPU per request on the mix (gunicorn master and workers)",
                f"≤ {CPU_MS_PER_REQUEST} ms",
                f"{cpu} ms (PostgreSQL backends: {load['db_cpu_ms_per_request']} ms more)",
                cpu <= CPU_MS_PER_REQUEST,
            )
        )
        rss = load["worker_peak_rss_mb"]
        out.append(
            _target(
                "worker peak RSS under load",
                f"< {WORKER_RSS_MB} MB",
                f"{rss} MB",
                rss < WORKER_RSS_MB,
            )
        )
    return out


def deep_pages(latency: list[dict]) -> list[dict]:
    """p50 of the library's deep page over its first page's, per user."""
    first = {r["user"]: r for r in latency if r["path"] == "resource library, first page"}
    rows = []
    for r in latency:
        if not r["path"].startswith("resource library, page ") or r["user"] not in first:
            continue
        base = first[r["user"]]["p50_ms"]
        rows.append(
            {
                "user": r["user"],
                "page": r["path"].removeprefix("resource library, page "),
                "first_p50_ms": base,
                "deep_p50_ms": r["p50_ms"],
                "ratio": round(r["p50_ms"] / base, 2) if base else 0.0,
            }
        )
    return rows


def taxii_targets(taxii: dict | None) -> list[dict]:
    """Issue 14's targets for the poll; n/a when it was not measured (and why)."""
    if not taxii:
        return []
    if "page" not in taxii:
        why = taxii.get("skipped", "not measured")
        return [_target("TAXII poll page p95", f"≤ {TAXII_PAGE_P95_MS} ms", why, None)]
    out = []
    p95 = taxii["page"]["p95_ms"]
    out.append(
        _target(
            f"TAXII poll page p95 (limit={taxii['limit']}, {taxii['visible_objects']:,} objects)",
            f"≤ {TAXII_PAGE_P95_MS} ms",
            f"{p95} ms over {taxii['page']['n']} pages",
            p95 <= TAXII_PAGE_P95_MS,
        )
    )
    counts = sorted(set(taxii["queries_per_page"]))
    measured = (
        f"{counts[0]} on each of {taxii['pages']} pages"
        if len(counts) == 1
        else f"varies: {', '.join(map(str, counts))}"
    )
    out.append(
        _target(
            "TAXII queries per poll page", "the same for every page", measured, len(counts) == 1
        )
    )
    after = taxii.get("added_after")
    if after:
        out.append(
            _target(
                "TAXII added_after poll",
                "returns only the new objects",
                f"{after['new_returned']} of {after['added']} new, "
                f"{after['older_returned']} older; p95 {after['p95_ms']} ms",
                after["only_new"],
            )
        )
    full = [r for r in taxii.get("comparison", []) if r.get("full", True)]
    if full:
        worst = max(r["ours_over_floor"] for r in full)
        measured = f"max {worst}x over {len(full)} full pages"
        for rest in (r for r in taxii["comparison"] if not r.get("full", True)):
            measured += (
                f"; the last page ({rest['entries']} entries) {rest['ours_over_floor']}x, "
                f"{round(rest['ours_p50_ms'] - rest['floor_p50_ms'], 1)} ms of fixed cost"
            )
        out.append(
            _target(
                f"TAXII poll page (limit={taxii['limit']}) against the SQL floor",
                f"within {FLOOR_LIMIT}x",
                measured,
                worst <= FLOOR_LIMIT,
            )
        )
    return out


def _latency_markdown(result: dict) -> list[str]:
    lines = [
        "",
        "## Measured users",
        "",
        "| user | resource grants of the org | visible resources | agreements | projects |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in result.get("subjects", []):
        v = s["visible"]
        lines.append(
            f"| {s['kind']} ({s['username']}) | {s['resource_grants']:,} | {v['resources']:,} | "
            f"{v['agreements']:,} | {v['projects']:,} |"
        )
    lines += [
        "",
        "## Latency (server-side, test client, ms)",
        "",
        "| path | user | p50 | p95 | p99 | queries |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in result.get("latency", []):
        lines.append(
            f"| {r['path']} | {r['user']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['queries']} |"
        )
    deep = deep_pages(result.get("latency", []))
    if deep:
        lines += [
            "",
            "Deep page, reached by following Next from the first page (p50, ms): "
            + "; ".join(
                f"{d['user']}: page {d['page']} {d['deep_p50_ms']} against page 1 "
                f"{d['first_p50_ms']} ({d['ratio']}x)"
                for d in deep
            )
            + ".",
        ]
    if result.get("floor"):
        lines += [
            "",
            "## Ours against the Django floor (same rows, same template, bare view; ms)",
            "",
            "The floor serves the same URL with our page's rows through the same template (the "
            "API: the same serializer and renderer) from a bare view: no access layer, Django's "
            "plain paginator, only the session, authentication and messages middleware "
            "(bench/floor.py). Timed in turns with ours; its page must show exactly our rows. "
            '"Ours" is the page as served (its list kept, portal.list_cache); "built" is '
            "ours with nothing kept, built from the database on every request.",
            "",
            "| page | user | rows | ours p50 | built p50 | floor p50 | ours / floor | "
            "built / floor | ours p95 | built p95 | floor p95 | queries ours / built / floor |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in result["floor"]:
            mark = "" if r["ratio_p50"] <= DJANGO_FLOOR_LIMIT else " **over**"
            built = r.get("built_ratio_p50", 0)
            built_mark = "" if built <= DJANGO_FLOOR_LIMIT else " **over**"
            lines.append(
                f"| {r['path']} | {r['user']} | {r['rows']} | {r['ours_p50_ms']} | "
                f"{r.get('built_p50_ms', '')} | {r['floor_p50_ms']} | {r['ratio_p50']}x{mark} | "
                f"{built}x{built_mark} | {r['ours_p95_ms']} | {r.get('built_p95_ms', '')} | "
                f"{r['floor_p95_ms']} | "
                f"{r['ours_queries']} / {r.get('built_queries', '')} / {r['floor_queries']} |"
            )
    if result.get("comparison"):
        lines += [
            "",
            "## Ours against naive guardian and the SQL floor (p50, ms)",
            "",
            "| page | user | ours | naive guardian | SQL floor | naive / ours | ours / floor |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in result["comparison"]:
            lines.append(
                f"| {r['page']} | {r['user']} | {r['ours_p50_ms']} | {r['naive_p50_ms']} | "
                f"{r['floor_p50_ms']} | {r['naive_over_ours']}x | {r['ours_over_floor']}x |"
            )
    return lines


def _taxii_markdown(taxii: dict | None) -> list[str]:
    if not taxii:
        return []
    if "page" not in taxii:
        return ["", "## TAXII poll", "", f"Not measured: {taxii.get('skipped')}."]
    page, after = taxii["page"], taxii.get("added_after") or {}
    lines = [
        "",
        "## TAXII poll (server-side, test client, ms)",
        "",
        f"{taxii['username']} polls {taxii['collection']}: {taxii['visible_objects']:,} "
        f"objects they see, {taxii['hidden_entries']:,} RED ones named to a colleague that "
        f"every page skips. `limit={taxii['limit']}`, following `next`: {taxii['pages']} "
        f"pages a walk, {taxii['walks']} timed walks, every one returning each visible "
        "object once.",
        "",
        "| request | p50 | p95 | p99 | queries |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| a page of the poll | {page['p50_ms']} | {page['p95_ms']} | {page['p99_ms']} | "
        f"{', '.join(map(str, sorted(set(taxii['queries_per_page']))))} (every page) |",
    ]
    if after:
        lines.append(
            f"| `added_after` ({after['new_returned']} of {after['added']} new returned, "
            f"{after['older_returned']} older) | {after['p50_ms']} | {after['p95_ms']} | "
            f"{after['p99_ms']} | {', '.join(map(str, after['queries']))} |"
        )
    if taxii.get("comparison"):
        lines += [
            "",
            "| page | ours | naive guardian | SQL floor | naive / ours | ours / floor |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in taxii["comparison"]:
            lines.append(
                f"| {r['page']} | {r['ours_p50_ms']} | {r['naive_p50_ms']} | "
                f"{r['floor_p50_ms']} | {r['naive_over_ours']}x | {r['ours_over_floor']}x |"
            )
    return lines


def _target(measure: str, target: str, measured: str, met: bool | None) -> dict:
    return {"measure": measure, "target": target, "measured": measured, "met": met}


def save(result: dict, stamp: str, part: str | None = None) -> tuple[Path, Path]:
    """Write the result; a run of one part gets files of its own, so it never replaces the
    day's whole run."""
    RESULTS.mkdir(exist_ok=True)
    base = RESULTS / f"{stamp}-{result['scale']['name']}{f'-{part}' if part else ''}"
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path.write_text(markdown(result))
    return json_path, md_path


def markdown(result: dict) -> str:
    scale, host = result["scale"], result["machine"]
    lines = [
        f"# Benchmark at `{scale['name']}` scale, {result['started_at']}",
        "",
        f"Machine: {host['cpus']} CPUs ({host['cpu_model']}), {host['ram_gib']} GiB RAM, "
        f"PostgreSQL {host['postgresql']}, Python {host['python']}. Load average "
        f"{host.get('load_average_start')} at the start, {host.get('load_average_end')} at the "
        "end (other work on the machine inflates every figure).",
        "",
        f"World: {scale['organisations']:,} organisations in {scale['nations']} nations, "
        f"{scale['users']:,} users, {scale['agreements']:,} agreements, "
        f"{scale['projects']:,} projects, {scale['milestones']:,} milestones, "
        f"{scale['resources']:,} resources, {scale.get('stix_objects', 0):,} STIX objects; "
        f"{result['world'].get('grant_rows', 0):,} grant rows "
        f"and {result['world'].get('share_rows', 0):,} shares. Seeded in "
        f"{result['world'].get('seed_seconds', '?')} s.",
        "",
        "## Targets",
        "",
        "| measure | target | measured | |",
        "| --- | --- | --- | --- |",
    ]
    for t in result.get("targets", []):
        mark = "met" if t["met"] else "n/a" if t["met"] is None else "**missed**"
        lines.append(f"| {t['measure']} | {t['target']} | {t['measured']} | {mark} |")
    if result.get("subjects"):
        lines += _latency_markdown(result)
    lines += _taxii_markdown(result.get("taxii"))
    if result.get("growth"):
        lines += [
            "",
            "## Growth, small to large (p50, ms)",
            "",
            "| path | user | small | large | ratio | queries small / large |",
            "| --- | --- | ---: | ---: | ---: | --- |",
        ]
        for g in result["growth"]:
            lines.append(
                f"| {g['path']} | {g['user']} | {g['small_p50_ms']} | {g['large_p50_ms']} | "
                f"{g['ratio']}x | {g['small_queries']} / {g['large_queries']} |"
            )
    load = result.get("throughput")
    if load:
        lines += _throughput_markdown(load)
    lines.append("")
    return "\n".join(lines)


def _throughput_markdown(load: dict) -> list[str]:
    wrk = load["wrk"]
    errors = f"{load['errors']} errors of {load['requests']:,} requests"
    if load["errors"]:
        statuses = ", ".join(f"{n} x {status}" for status, n in load["statuses"].items())
        sockets = ", ".join(f"{n} {kind}" for kind, n in load["socket_errors"].items() if n)
        errors += f" ({'; '.join(x for x in (statuses, sockets) if x)})"
    lines = [
        "",
        "## Throughput",
        "",
        f"gunicorn, {load['workers']} {load['worker_class']} workers on 127.0.0.1; wrk, "
        f"{wrk['threads']} thread and {wrk['connections']} connections replaying the page mix "
        f"for {load['sessions']} signed-in people of many organisations, {load['duration_s']} s "
        f"after a {load['warmup_s']} s warm-up (load average before: "
        f"{load['load_average_before']}): **{load['requests_per_s']} req/s**, {errors}. "
        f"Latency (wrk, queueing included): p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
        f"p99 {load['p99_ms']} ms, max {load['max_ms']} ms.",
        "",
        f"Server CPU: **{load['cpu_ms_per_request']} ms per request** (gunicorn workers "
        f"{load['worker_cpu_s']} s and master {load['master_cpu_s']} s of utime + stime over "
        f"the run); the PostgreSQL backends serving them {load['db_cpu_ms_per_request']} ms "
        f"per request more ({load['db_cpu_s']} s over {load['db_backends']} backends); wrk "
        f"itself {load.get('wrk_cpu_s', '?')} s. Worker peak RSS {load['worker_peak_rss_mb']} MB.",
        "",
        "Per page, server-side (gunicorn's access log, queueing not included):",
        "",
        "| page | requests | non-200 | p50 | p95 | p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in load["per_path"].items():
        lines.append(
            f"| {name} | {r['requests']} | {r['failures']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} |"
        )
    return lines
