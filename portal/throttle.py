"""Brute-force throttling of password checks: sign-in (web and admin), API token creation and
re-authentication at the moment of acting.

Failures are counted per account and client address, and per client address alone. Reaching a
limit locks that key for a cool-off period; the lock always ends, so a partner's colleague who
mistyped five times, or an attacker who locks someone out on purpose, delays them but never
shuts them out for good. Counters live in the shared cache (the database cache in
production), so every worker process sees the same counts.

Callers check before verifying a password, count a failure after a wrong one, and clear the
account's counter after a right one; the per-address counter is not cleared by a success, so
an attacker cannot reset it by signing in to an account of their own between guesses.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

#: Password guesses against an account are one threat whichever door they come through: the
#: web sign-in, the admin (which sends staff to it) and API token creation share this scope.
SIGN_IN = "sign_in"


@dataclass(frozen=True)
class Limit:
    attempts: int
    #: Seconds: both the counting window and the cool-off once the limit is reached.
    window: int


class Throttled(PermissionDenied):
    """Too many failures: refuse, and say when to come back (the API answers 429 with a
    Retry-After header; a page shows the message)."""

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        when = "in a minute" if minutes <= 1 else f"in {minutes} minutes"
        return f"Too many failed attempts. For your account's safety, try again {when}."


def limits() -> dict[str, Limit]:
    per_account = settings.THROTTLE_PER_ACCOUNT
    per_address = settings.THROTTLE_PER_ADDRESS
    return {
        "account": Limit(per_account[0], per_account[1]),
        "address": Limit(per_address[0], per_address[1]),
    }


def check(scope: str, *, login: str, ip: str | None) -> None:
    """Raise Throttled if the account (from this address) or the address is locked out."""
    now = time.time()
    for kind, key in _keys(scope, login, ip).items():
        state = cache.get(key)
        if state and state["count"] >= limits()[kind].attempts and state["until"] > now:
            raise Throttled(state["until"] - now)


def failed(scope: str, *, login: str, ip: str | None) -> None:
    """Count one failure against the account-and-address and the address."""
    now = time.time()
    for kind, key in _keys(scope, login, ip).items():
        limit = limits()[kind]
        state = cache.get(key)
        if not state or state["until"] <= now:
            state = {"count": 0, "until": now + limit.window}
        state["count"] += 1
        if state["count"] >= limit.attempts:
            # The cool-off runs from the failure that reached the limit.
            state["until"] = now + limit.window
        cache.set(key, state, timeout=limit.window + 60)


def succeeded(scope: str, *, login: str, ip: str | None) -> None:
    """Forget the account's failures from this address (not the address's own count)."""
    cache.delete(_keys(scope, login, ip)["account"])


def _keys(scope: str, login: str, ip: str | None) -> dict[str, str]:
    address = ip or "unknown"
    # Hashed so that neither usernames nor addresses sit in the cache table in clear.
    account = hashlib.sha256(f"{login.strip().lower()}|{address}".encode()).hexdigest()
    by_address = hashlib.sha256(address.encode()).hexdigest()
    return {
        "account": f"throttle:{scope}:account:{account}",
        "address": f"throttle:{scope}:address:{by_address}",
    }
