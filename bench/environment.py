"""The process environment the harness runs Django in: the real settings module, DEBUG off,
and a PostgreSQL database of its own per scale (created when missing)."""

from __future__ import annotations

import os
import platform
import secrets
import subprocess
import sys
from pathlib import Path

from bench.scales import Scale

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
#: Server part of the PostgreSQL URL; the database name is the scale's.
SERVER_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
#: Databases the harness may drop and recreate. Nothing else is ever touched.
OWN_PREFIX = "portal_bench_"


def database_url(scale: Scale) -> str:
    return f"{SERVER_URL.rstrip('/')}/{scale.database}"


def configure(scale: Scale) -> dict[str, str]:
    """Set the environment for portal.settings (this process and the gunicorn it starts)."""
    VAR.mkdir(parents=True, exist_ok=True)
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url(scale),
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "DEBUG": "0",
        # The test client answers as "testserver"; gunicorn listens on loopback only.
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        # Plain HTTP on loopback: no TLS to redirect to, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "VAR_DIR": str(VAR),
        "STATIC_ROOT": str(VAR / "static"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PORTAL_SIGNING_KEY_AUTOGENERATE": "1",
    }
    os.environ.update(env)
    return env


def ensure_database(scale: Scale, *, drop: bool) -> bool:
    """Create the scale's database if missing (drop it first when asked); True if created."""
    import psycopg

    name = scale.database
    if not name.startswith(OWN_PREFIX):
        raise SystemExit(f"refusing to touch database {name!r}: not a bench database")
    with psycopg.connect(f"{SERVER_URL.rstrip('/')}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def static_is_stale() -> bool:
    """Whether collectstatic must run: no manifest yet, or a static file changed since."""
    manifest = VAR / "static" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [ROOT / "static", Path(sys.prefix) / "lib"]
    return (
        any(
            path.stat().st_mtime > built
            for source in sources[:1]
            for path in source.rglob("*")
            if path.is_file()
        )
        or sources[1].stat().st_mtime > built
    )


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load: other work on it inflates every figure."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def machine() -> dict:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    try:
        version = subprocess.run(  # noqa: S603
            ["psql", SERVER_URL + "/postgres", "-Atc", "SHOW server_version"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        version = ""
    if not version:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": version,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average_start": load_average(),
    }
