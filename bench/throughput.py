"""Throughput: gunicorn with 2 workers on loopback, driven by locust for a bounded time."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench.environment import ROOT, VAR

BIN = Path(sys.executable).parent
WORKERS = 2
LOAD_USERS = 16  # concurrent locust users, each a signed-in person
PEOPLE = 200  # distinct sessions, from as many organisations as possible


def run(duration: int, log: Callable[[str], None]) -> dict:
    people_file = VAR / "load-people.json"
    people_file.write_text(json.dumps(_sessions()))
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "portal.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        _wait_until_up(port)
        workers = _children(server.pid)
        peaks = {pid: 0 for pid in workers}
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(peaks, stop), daemon=True)
        sampler.start()
        prefix = VAR / "locust"
        log(f"  gunicorn pid {server.pid}, workers {workers}; {LOAD_USERS} locust users")
        subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--users",
                str(LOAD_USERS),
                "--spawn-rate",
                str(LOAD_USERS),
                "--run-time",
                f"{duration}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "10",
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_LOAD_USERS": str(people_file)},
            check=False,
            stdout=subprocess.DEVNULL,
            timeout=duration + 120,
        )
        stop.set()
        sampler.join()
        hwm = {pid: _status_kb(pid, "VmHWM") for pid in workers}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    result = _read_stats(Path(f"{prefix}_stats.csv"))
    result["worker_peak_rss_mb"] = round(
        max([*(v for v in hwm.values() if v), *peaks.values(), 0]) / 1024, 1
    )
    result["workers"] = WORKERS
    result["users"] = LOAD_USERS
    result["duration_s"] = duration
    result["failures_by_path"] = _read_failures(Path(f"{prefix}_failures.csv"))
    return result


def _sessions() -> list[dict]:
    """Sessions of programme managers and plain members of many organisations."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from portal import access
    from projects.models import Participant
    from resources.models import Resource

    rng = random.Random(7)
    candidates = list(
        get_user_model()
        .objects.filter(membership__org_admin=False, membership__signatory=False, is_active=True)
        .values_list("pk", flat=True)
    )
    people = []
    users = get_user_model().objects.select_related("membership")
    for user in users.filter(pk__in=rng.sample(candidates, min(PEOPLE, len(candidates)))):
        client = Client()
        client.force_login(user)
        visible = access.visible_to(user, Resource.objects.all()).order_by("-created_at", "-pk")
        participation = Participant.objects.filter(
            organisation_id=user.membership.organisation_id
        ).first()
        people.append(
            {
                "username": user.username,
                "cookie": settings.SESSION_COOKIE_NAME,
                "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "resources": list(visible.values_list("pk", flat=True)[:50]),
                "project": participation.project_id if participation else None,
            }
        )
    return people


def _read_stats(path: Path) -> dict:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    per_path = {
        row["Name"]: {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
        }
        for row in rows
        if row["Name"] != "Aggregated"
    }
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "requests_per_s": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "per_path": per_path,
    }


def _read_failures(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            {"path": row["Name"], "error": row["Error"], "count": int(row["Occurrences"])}
            for row in csv.DictReader(handle)
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{port}/accounts/login/"
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        if len(found) >= WORKERS:
            return found
        time.sleep(0.2)
    raise RuntimeError("gunicorn workers did not start")


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sample_rss(peaks: dict[int, int], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        for pid in peaks:
            peaks[pid] = max(peaks[pid], _status_kb(pid, "VmHWM"), _status_kb(pid, "VmRSS"))
