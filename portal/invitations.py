"""Reading about people for the member pages: usernames suggested from a name, the pending
invitations an admin can resend or revoke, and what deactivating someone ends.

Writes (inviting, resending, revoking, deactivating) are in portal.services.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext
from rest_framework.authtoken.models import Token

from portal import access
from portal.models import Invitation, Organisation

User = get_user_model()

#: Letters NFKD does not take apart into a base letter and its marks.
_FOLDED = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
    }
)
_USERNAME_MAX = 150


def suggest_username(first_name: str = "", last_name: str = "", email: str = "") -> str:
    """A free username from the person's name: "Kadri Kask" gives "kadri.kask" (or
    "kadri.kask2" when that is taken), ASCII only; from the email address's local part when
    the name gives nothing (a name in another script), else "member"."""
    base = _fold(" ".join(part for part in (first_name, last_name) if part))
    if not base and email:
        base = _fold(email.split("@", 1)[0])
    base = (base or "member")[: _USERNAME_MAX - 4]
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def pending_memberships(memberships: QuerySet) -> QuerySet:
    """The one rule for an invitation not yet accepted: the account is active and has no
    usable password yet (accepting sets one), and the invitation was not revoked."""
    return memberships.filter(
        invitation__revoked_at__isnull=True,
        user__is_active=True,
        user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
    )


def pending_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    """The organisation's invitations nobody has accepted or revoked, newest link first;
    those whose link has expired are among them (resending gives a new one)."""
    return (
        Invitation.objects.filter(
            membership__in=pending_memberships(organisation.memberships.all())
        )
        .select_related("membership__user", "invited_by")
        .order_by("-sent_at", "pk")
    )


# --- What deactivation ends ---------------------------------------------------------------------

#: Each app says what of a person's it holds that deactivation ends (a calendar feed, named
#: grants): a function of the user giving sentences, each counted where it is cheap.
_deactivation_effects: list[Callable[[object], list[str]]] = []


def register_deactivation_effect(describe: Callable[[object], list[str]]) -> None:
    """Add what an app's own data loses when a person is deactivated (see deactivation_effects)."""
    _deactivation_effects.append(describe)


@dataclass(frozen=True)
class DeactivationSummary:
    """What switching this person's account off ends, in sentences for the confirmation."""

    sessions: int
    has_token: bool
    effects: list[str]

    @property
    def sentences(self) -> list[str]:
        said = [
            ngettext(
                "Their %(count)d open session ends: they are signed out at once.",
                "Their %(count)d open sessions end: they are signed out at once.",
                self.sessions,
            )
            % {"count": self.sessions}
            if self.sessions
            else gettext("They have no open session; they cannot sign in again.")
        ]
        if self.has_token:
            said.append(
                gettext(
                    "Their API token is deleted: partner systems and TAXII clients using it "
                    "are refused from now on."
                )
            )
        return said + self.effects


def deactivation_summary(user) -> DeactivationSummary:
    """Counts of what deactivating user ends: sessions, the API token and each app's own."""
    effects = []
    for describe in _deactivation_effects:
        effects.extend(describe(user))
    effects.extend(_named_grants(user))
    return DeactivationSummary(
        sessions=UserSession.objects.filter(user=user).count(),
        has_token=Token.objects.filter(user=user).exists(),
        effects=effects,
    )


def _named_grants(user) -> list[str]:
    """Grants to the person by name that no app described (every registered model's table)."""
    said = []
    for model in access.registered_models():
        if model in _described_models:
            continue
        table = access.policy_for(model).user_grants
        count = table.objects.filter(user=user).values("content_object").distinct().count()
        if count:
            said.append(
                gettext("Access granted to them by name ends on %(count)d %(things)s.")
                % {"count": count, "things": model._meta.verbose_name_plural}
            )
    return said


#: Models whose named grants an app's effect already describes in its own words.
_described_models: set = set()


def describe_named_grants_of(model) -> None:
    """Say that an app's deactivation effect already tells of model's named grants."""
    _described_models.add(model)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLDED))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text)
    return ".".join(words)
