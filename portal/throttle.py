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

An account is one counter whichever identifier is typed: its username or its email address,
in any case, with stray spaces. What matches no account is counted under what was typed.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from allauth.account.utils import filter_users_by_email
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext

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
        if minutes <= 1:
            return gettext(
                "Too many failed attempts. For your account's safety, try again in a minute."
            )
        return gettext(
            "Too many failed attempts. For your account's safety, try again in %(minutes)s minutes."
        ) % {"minutes": minutes}


def limits() -> dict[str, Limit]:
    per_account = settings.THROTTLE_PER_ACCOUNT
    per_address = settings.THROTTLE_PER_ADDRESS
    return {
        "account": Limit(per_account[0], per_account[1]),
        "address": Limit(per_address[0], per_address[1]),
    }


def check(scope: str, *, login: str = "", ip: str | None, user=None) -> None:
    """Raise Throttled if the account (from this address) or the address is locked out.

    The account is the one named by login, or user when the caller already knows who it is
    (re-authentication)."""
    now = time.time()
    for kind, key in _keys(scope, login, ip, user):
        state = cache.get(key)
        if state and state["count"] >= limits()[kind].attempts and state["until"] > now:
            raise Throttled(state["until"] - now)


def failed(scope: str, *, login: str = "", ip: str | None, user=None) -> None:
    """Count one failure against the account-and-address and the address."""
    now = time.time()
    for kind, key in _keys(scope, login, ip, user):
        limit = limits()[kind]
        state = cache.get(key)
        if not state or state["until"] <= now:
            state = {"count": 0, "until": now + limit.window}
        state["count"] += 1
        if state["count"] >= limit.attempts:
            # The cool-off runs from the failure that reached the limit.
            state["until"] = now + limit.window
        cache.set(key, state, timeout=limit.window + 60)


def succeeded(scope: str, *, login: str = "", ip: str | None, user=None) -> None:
    """Forget the account's failures from this address (not the address's own count).

    Given the user who signed in, only that account's count is forgotten, even if what was
    typed also names another account.
    """
    identities = [_user_identity(user.pk)] if user is not None else _identities(login)
    cache.delete_many([_account_key(scope, identity, ip) for identity in identities])


def _keys(scope: str, login: str, ip: str | None, user=None) -> list[tuple[str, str]]:
    """(kind, cache key) of every counter a password check with login from ip touches."""
    address = ip or "unknown"
    # Hashed so that neither usernames nor addresses sit in the cache table in clear.
    by_address = hashlib.sha256(address.encode()).hexdigest()
    identities = [_user_identity(user.pk)] if user is not None else _identities(login)
    accounts = [("account", _account_key(scope, i, ip)) for i in identities]
    return [*accounts, ("address", f"throttle:{scope}:address:{by_address}")]


def _account_key(scope: str, identity: str, ip: str | None) -> str:
    digest = hashlib.sha256(f"{identity}|{ip or 'unknown'}".encode()).hexdigest()
    return f"throttle:{scope}:account:{digest}"


def _identities(login: str) -> list[str]:
    """Whom a typed login names: every account whose username or email it is (a password is
    tried against each), else the login itself, normalised."""
    typed = login.strip().lower()
    if not typed:
        return ["login:"]
    users = get_user_model()._default_manager
    ids = set(
        users.filter(Q(username__iexact=typed) | Q(email__iexact=typed)).values_list(
            "pk", flat=True
        )
    )
    if "@" in typed:  # allauth also signs in by the addresses it keeps
        ids |= {user.pk for user in filter_users_by_email(typed)}
    return [_user_identity(pk) for pk in sorted(ids)] or [f"login:{typed}"]


def _user_identity(pk) -> str:
    return f"user:{pk}"
