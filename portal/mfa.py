"""Which roles need two-factor authentication, and whether a person has it.

Signatories, organisation admins and platform staff act for a whole organisation (or for the
platform), so a stolen password alone must not be enough to act in those roles. Until they
enrol they can still use the portal as members, but the access layer refuses the role's
actions (see `Rule.role` in portal.access) and every page tells them how to enrol.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils.translation import gettext

from portal.models import Role

#: What staff need it for, in the same words as the roles.
STAFF = "staff"


def is_enrolled(user) -> bool:
    """Whether the person has a second factor (an authenticator app or a passkey).

    Recovery codes alone do not count: they are the fallback of another factor. The answer
    is kept on the user object, so a request asks the database once.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_mfa_enrolled", None)
    if cached is None:
        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._mfa_enrolled = cached
    return cached


def forget(user) -> None:
    user.__dict__.pop("_mfa_enrolled", None)


def roles_needing_mfa(user) -> list[str]:
    """The person's roles that require two-factor authentication (staff included)."""
    if not getattr(user, "is_authenticated", False):
        return []
    membership = getattr(user, "membership", None)
    roles = [
        role
        for role in settings.MFA_REQUIRED_ROLES
        if membership is not None and getattr(membership, role, False)
    ]
    if user.is_staff:
        roles.append(STAFF)
    return roles


def roles_awaiting_enrolment(user) -> list[str]:
    """Roles the person holds but cannot act in until they enrol; empty once enrolled."""
    roles = roles_needing_mfa(user)
    return roles if roles and not is_enrolled(user) else []


def may_act_as(user, role: str) -> bool:
    """Whether the person may use a role now: they hold it, and have enrolled if it needs it."""
    if role == STAFF:
        holds = bool(getattr(user, "is_staff", False) and user.is_active)
    else:
        membership = getattr(user, "membership", None)
        holds = bool(membership is not None and getattr(membership, role, False))
    if not holds:
        return False
    needs = role == STAFF or role in settings.MFA_REQUIRED_ROLES
    return not needs or is_enrolled(user)


def role_label(role: str) -> str:
    return gettext("platform staff") if role == STAFF else str(Role(role).label).lower()


def enrolment_message(role: str) -> str:
    return gettext(
        "Acting as %(role)s needs two-factor authentication. Set up an "
        "authenticator app or a passkey from your profile page, then try again."
    ) % {"role": role_label(role)}
