"""The process environment the harness runs Django in: the real settings module, DEBUG off,
a PostgreSQL database of its own per scale (created when missing), and a Redis database of
its own (REDIS_URL: the cache the targets are defined with), emptied at the start."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench.scales import Scale

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
#: Server part of the PostgreSQL URL; the database name is the scale's.
SERVER_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
#: Databases the harness may drop and recreate. Nothing else is ever touched.
OWN_PREFIX = "portal_bench_"
#: Redis for the application's cache (REDIS_URL); the harness owns this one database number
#: and empties it at the start of every run. Nothing else in that Redis is touched.
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")


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
        "REDIS_URL": REDIS_URL,
    }
    os.environ.update(env)
    return env


def redis_command(url: str, *args: str, timeout: float = 5) -> str:
    """Send one command to the Redis at `url` (after SELECT of its database number) and
    return the reply's text; an error reply raises. Plain RESP over a socket, so the harness
    needs no client package for the two commands it sends."""
    parts = urlsplit(url)
    database = (parts.path or "/0").lstrip("/") or "0"
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
    ) as sock:
        stream = sock.makefile("rwb")
        commands = [["AUTH", parts.password]] if parts.password else []
        commands += [["SELECT", database], list(args)]
        reply = ""
        for command in commands:
            stream.write(resp_encode(command))
            stream.flush()
            reply = resp_read(stream)
        return reply


def resp_encode(command: list[str]) -> bytes:
    out = [f"*{len(command)}\r\n".encode()]
    for arg in command:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def resp_read(stream) -> str:
    """One simple reply: status, error, integer or bulk string."""
    line = stream.readline()
    if not line:
        raise ConnectionError("Redis closed the connection")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n").decode()
    if kind == b"-":
        raise RuntimeError(f"Redis answered an error: {rest}")
    if kind == b"$":
        size = int(rest)
        return "" if size < 0 else stream.read(size + 2)[:-2].decode()
    return rest


def prepare_redis() -> None:
    """Stop, saying why, when Redis is not there (the targets assume it); otherwise empty
    the harness's own database, so no cached answer of an earlier run is read."""
    try:
        if redis_command(REDIS_URL, "PING") != "PONG":
            raise RuntimeError("no PONG")
        redis_command(REDIS_URL, "FLUSHDB")
    except (OSError, RuntimeError) as error:
        raise SystemExit(
            f"Redis is not reachable at {REDIS_URL} ({error}). The targets are defined with "
            "the Redis cache: start Redis (or set BENCH_REDIS) and run again."
        ) from None


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
