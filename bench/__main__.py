"""`python -m bench --scale small|large [--reseed] [--only seed|latency|taxii|throughput]`

Seeds (or reuses) the scale's world in PostgreSQL, measures latency and query counts, compares
each list page with the Django floor (bench/floor.py: the same rows through the same template
by a bare view), compares our access layer with naive guardian and the SQL floor, measures a
partner polling a TAXII collection (bench/taxii.py), runs the throughput test with wrk, and
writes bench/results/<date>-<scale>.json and .md with the targets marked met or missed.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import shutil
import sys
import time

from bench import environment
from bench.scales import SCALES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the world again")
    parser.add_argument(
        "--only",
        choices=["seed", "latency", "taxii", "throughput"],
        help="run one part (seed: only make the world ready)",
    )
    parser.add_argument("--iterations", type=int, help="timed requests per path and user")
    parser.add_argument("--duration", type=int, default=60, help="throughput run, seconds")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    if args.iterations:
        from dataclasses import replace

        scale = replace(scale, iterations=args.iterations)
    started = time.monotonic()
    stamp = datetime.datetime.now(datetime.UTC)

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}" if message[:1] != " " else message)
        sys.stdout.flush()

    environment.configure(scale)
    environment.prepare_redis()
    if args.only in (None, "throughput") and shutil.which("wrk") is None:
        raise SystemExit("the throughput run needs wrk: apt-get install wrk (or --only latency)")
    created = environment.ensure_database(scale, drop=False)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import seed

    world = None if (created or args.reseed) else seed.is_seeded(connection)
    if world is None:
        if not created:
            log(f"dropping {scale.database} to seed it again")
            connection.close()
            environment.ensure_database(scale, drop=True)
        log(f"migrating {scale.database}")
        call_command("migrate", verbosity=0, interactive=False)
        log(f"seeding the {scale.name} world with COPY")
        world = seed.seed(scale, connection)
        log(f"seeded in {world['seconds']} s; analysing")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        log("loading guardian's generic tables with the same grants (naive comparison)")
        world["generic_rows"] = seed.seed_generic_guardian(connection)
        problems = seed.verify()
        if problems:
            for line in problems[:20]:
                log(f"  drift: {line}")
            raise SystemExit("the seeded world is not faithful to the access policies")
        log("a sample of every protected model has exactly the grants sync_object derives")
        seed.mark_seeded(connection, world)
    else:
        log(f"reusing the {scale.name} world seeded at {world['seeded_at']}")
        call_command("migrate", verbosity=0, interactive=False)  # new app migrations, if any
    if environment.static_is_stale():
        log("collecting static files (DEBUG off serves hashed names from a manifest)")
        call_command("collectstatic", verbosity=0, interactive=False)
    if args.only == "seed":
        log(f"the {scale.name} world is ready")
        return 0

    from bench import compare, floor, latency, report, throughput

    # As portal.wsgi does in a server worker: start-up's objects, and here the harness's own,
    # stay out of the collector's walks, so a pause measures what requests leave behind.
    gc.freeze()

    result = {
        "started_at": stamp.isoformat(timespec="seconds"),
        "scale": scale.as_dict(),
        "machine": environment.machine(),
        "world": _world_summary(world),
    }
    if args.only in (None, "latency"):
        subjects = latency.pick_subjects()
        result["subjects"] = [
            {
                "kind": s.kind,
                "username": s.user.username,
                "organisation": s.organisation.slug,
                "resource_grants": s.resource_grants,
                "visible": s.visible,
            }
            for s in subjects
        ]
        for s in subjects:
            log(f"user {s.kind}: {s.user.username}, sees {s.visible}")
        log(f"latency: {scale.warmup} warm-up + {scale.iterations} timed requests per path")
        result["latency"] = latency.run(scale, subjects, log)
        log("Django floor: each list page against a bare view of the same rows, side by side")
        result["floor"] = floor.run(scale, subjects, log)
        log("comparison: ours, naive guardian (generic tables), hand-written SQL")
        result["comparison"] = compare.run(scale, subjects, log)
    if args.only in (None, "taxii"):
        from bench import taxii

        missing = taxii.unavailable()
        if missing:
            log(f"TAXII poll: skipped, {missing}")
            result["taxii"] = {"skipped": missing}
        else:
            log(f"TAXII poll: limit={taxii.LIMIT}, following next through the collection")
            result["taxii"] = taxii.run(scale, world, log)
    if args.only in (None, "throughput"):
        log(f"throughput: {args.duration} s")
        result["throughput"] = throughput.run(args.duration, log)
        t = result["throughput"]
        log(
            f"  {t['requests_per_s']} req/s, p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, "
            f"p99 {t['p99_ms']} ms, {t['errors']} errors, server CPU "
            f"{t['cpu_ms_per_request']} ms/request, worker peak RSS {t['worker_peak_rss_mb']} MB"
        )
    other_scale = "large" if scale.name == "small" else "small"
    other = report.latest(other_scale, part=args.only) or report.latest(other_scale)
    result["growth"] = report.growth(result, other)
    result["targets"] = report.targets(result, result["growth"])
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["machine"]["load_average_end"] = environment.load_average()
    json_path, md_path = report.save(result, stamp.strftime("%Y-%m-%d"), part=args.only)
    log("targets (issues 16 and 14; they apply at large scale):")
    for t in result["targets"]:
        mark = "met" if t["met"] else "n/a" if t["met"] is None else "MISSED"
        log(f"  {mark:<7} {t['measure']}: {t['measured']} (target {t['target']})")
    log(f"wrote {json_path.relative_to(environment.ROOT)} and {md_path.name}")
    return 0


def _world_summary(world: dict) -> dict:
    rows = world.get("rows", {})
    grants = sum(n for table, n in rows.items() if table.endswith("objectpermission"))
    return {
        "seeded_at": world.get("seeded_at"),
        "seed_seconds": world.get("seconds"),
        "grant_rows": grants,
        "share_rows": rows.get("resources_share", 0),
        "stix_objects": rows.get("intel_stixobject", 0),
        "collection_entries": rows.get("intel_collectionentry", 0),
        "rows": rows,
    }


if __name__ == "__main__":
    sys.exit(main())
