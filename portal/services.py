"""Every write to organisations, memberships and API tokens.

Each function checks access, validates, mutates inside one transaction, syncs grants and
records an audit event. Views, serializers, the admin and the demo seeder all come here.
"""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.core import context as allauth_context
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from portal import access, audit, invitations, mfa, reauth, throttle
from portal.models import Invitation, InvitationState, Membership, Organisation, Role

User = get_user_model()

#: Told only to platform staff, who see every account anyway (see invite_member).
ADDRESS_TAKEN = _("An account with this email address already exists.")


# --- Organisations (platform staff) -----------------------------------------------------------


def create_organisation(
    *,
    actor,
    name: str,
    slug: str,
    country: str,
    kind: str,
    website: str = "",
    description: str = "",
) -> Organisation:
    """Create an organisation with its own grant group. Platform staff only."""
    _require_staff(actor)
    with transaction.atomic():
        group = Group.objects.create(name=f"org:{slug}")
        organisation = Organisation(
            name=name,
            slug=slug,
            country=country,
            kind=kind,
            website=website,
            description=description,
            group=group,
        )
        organisation.full_clean()
        organisation.save()
        access.sync_object(organisation)
        audit.record(
            actor,
            "organisation.created",
            organisation,
            organisation=organisation,
            slug=slug,
            country=country,
        )
    return organisation


def update_organisation(*, actor, organisation: Organisation, **changes) -> Organisation:
    """Change an organisation's directory entry. Platform staff only."""
    _require_staff(actor)
    editable = {"name", "country", "kind", "website", "description", "is_active"}
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError(
            gettext("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {name: getattr(organisation, name) for name in changes}
        for name, value in changes.items():
            setattr(organisation, name, value)
        organisation.full_clean()
        organisation.save()
        access.sync_object(organisation)
        if before.get("is_active", organisation.is_active) != organisation.is_active:
            # Members of an inactive organisation hold none of its grants, nor named ones.
            for membership in organisation.memberships.select_related("user", "organisation"):
                access.sync_membership(membership.user)
        changed = {k: [str(before[k]), str(v)] for k, v in changes.items() if before[k] != v}
        audit.record(
            actor, "organisation.updated", organisation, organisation=organisation, changes=changed
        )
    return organisation


# --- Members (organisation admins, or platform staff) ---------------------------------------


def invite_member(
    *,
    actor,
    organisation: Organisation,
    email: str,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    job_title: str = "",
    roles: Iterable[str] = (),
    base_url: str,
) -> Membership | None:
    """Create an account in organisation and email a one-time link to set its password.

    The invitation stays pending until the person sets a password; without a username, one
    is suggested from the name (portal.invitations.suggest_username).

    An address that already has an account gets no second one. Platform staff, who see every
    account, are told so; an organisation admin is answered as if the invitation went out
    (None is returned, and callers must answer alike), and the address's owner is told
    instead, so inviting cannot show whether an address is known to the portal.
    """
    _require_member_manager(actor, organisation)
    roles = _clean_roles(roles)
    email = email.strip()
    username = username.strip() or invitations.suggest_username(first_name, last_name, email)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": gettext("This username is already taken.")})
    owner = User.objects.filter(email__iexact=email).select_related("membership").first()
    if owner is not None:
        if actor.is_staff:
            raise ValidationError({"email": ADDRESS_TAKEN})
        _withhold_invitation(owner, organisation)
        return None
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        membership = Membership.objects.create(
            user=user,
            organisation=organisation,
            job_title=job_title,
            **{role: True for role in roles},
        )
        Invitation.objects.create(membership=membership, invited_by=actor, sent_at=timezone.now())
        access.sync_membership(user)
        audit.record(
            actor,
            "member.invited",
            membership,
            organisation=organisation,
            username=username,
            roles=sorted(roles),
        )
        _send_invitation(user, organisation, base_url)
    return membership


def resend_invitation(*, actor, membership: Membership, base_url: str) -> Invitation:
    """Email a new link to a person who has not accepted yet; the old link stops working."""
    organisation = membership.organisation
    _require_member_manager(actor, organisation)
    with transaction.atomic():
        invitation = _open_invitation(membership)
        user = invitation.membership.user
        # A new random unusable password changes what every reset token is made from, so
        # the link sent before no longer verifies.
        user.set_unusable_password()
        user.save(update_fields=["password"])
        invitation.sent_at = timezone.now()
        invitation.times_sent += 1
        invitation.save(update_fields=["sent_at", "times_sent"])
        audit.record(
            actor,
            "member.invitation_resent",
            invitation.membership,
            organisation=organisation,
            username=user.get_username(),
            times_sent=invitation.times_sent,
        )
        _send_invitation(user, organisation, base_url)
    return invitation


def revoke_invitation(*, actor, membership: Membership) -> Invitation:
    """Withdraw an invitation nobody has accepted: its link stops working and the account
    is switched off, so it holds no grant. It stays listed, as revoked."""
    organisation = membership.organisation
    _require_member_manager(actor, organisation)
    with transaction.atomic():
        invitation = _open_invitation(membership)
        user = invitation.membership.user
        user.set_unusable_password()
        user.is_active = False
        user.save(update_fields=["password", "is_active"])
        invitation.revoked_at = timezone.now()
        invitation.revoked_by = actor
        invitation.save(update_fields=["revoked_at", "revoked_by"])
        access.sync_membership(user)
        audit.record(
            actor,
            "member.invitation_revoked",
            invitation.membership,
            organisation=organisation,
            username=user.get_username(),
        )
    return invitation


def change_member_roles(*, actor, membership: Membership, roles: Iterable[str]) -> Membership:
    """Set exactly these roles on a member, keeping at least one active organisation admin."""
    organisation = membership.organisation
    _require_member_manager(actor, organisation)
    roles = _clean_roles(roles)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = set(membership.roles)
        for role in Role.values:
            setattr(membership, role, role in roles)
        if Role.ORG_ADMIN in before and Role.ORG_ADMIN not in roles:
            _ensure_another_admin(membership)
        membership.save()
        # A role can be what a grant rests on (a reviewer's projects): re-derive them now.
        access.sync_membership(membership.user)
        audit.record(
            actor,
            "member.roles_changed",
            membership,
            organisation=organisation,
            before=sorted(before),
            after=sorted(roles),
        )
    return membership


def deactivate_member(*, actor, membership: Membership) -> Membership:
    """Switch a member's account off and end their sessions and API token at once."""
    organisation = membership.organisation
    _require_member_manager(actor, organisation)
    if membership.user_id == actor.pk:
        raise ValidationError(gettext("You cannot deactivate your own account."))
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        user = membership.user
        if not user.is_active:
            raise ValidationError(
                gettext("%(username)s is already deactivated.") % {"username": user.get_username()}
            )
        if membership.org_admin:
            _ensure_another_admin(membership)
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended_sessions = end_all_sessions(user)
        Token.objects.filter(user=user).delete()
        access.sync_membership(user)
        audit.record(
            actor,
            "member.deactivated",
            membership,
            organisation=organisation,
            username=user.get_username(),
            ended_sessions=ended_sessions,
        )
    return membership


def reactivate_member(*, actor, membership: Membership) -> Membership:
    """Switch a deactivated member's account back on."""
    organisation = membership.organisation
    _require_member_manager(actor, organisation)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        user = membership.user
        if user.is_active:
            raise ValidationError(
                gettext("%(username)s is already active.") % {"username": user.get_username()}
            )
        user.is_active = True
        user.save(update_fields=["is_active"])
        access.sync_membership(user)
        audit.record(
            actor,
            "member.reactivated",
            membership,
            organisation=organisation,
            username=user.get_username(),
        )
    return membership


def end_all_sessions(user) -> int:
    """End every session the user has open; returns how many were ended."""
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    return len(sessions)


def sign_out_everywhere(*, actor) -> int:
    """End every session the actor has open, on every device; returns how many.

    The API token is a separate credential for partner systems and keeps working: the
    profile page offers to revoke it too.
    """
    _require_active(actor)
    with transaction.atomic():
        ended = end_all_sessions(actor)
        audit.record(actor, "auth.signed_out_everywhere", actor, ended_sessions=ended)
    return ended


# --- Accounts (platform staff) --------------------------------------------------------------
# Staff run accounts but never act as their owners: they cannot set or see a password, a
# token or a second factor, nor change the email address a reset goes to. They can send the
# owner a reset link and switch an account off. Each is audited for the account's organisation.

#: What staff may change on an account. Username and email are the owner's identity: a reset
#: goes to the email address, so whoever could change it could take the account over.
ACCOUNT_FIELDS_STAFF_CHANGE = ("first_name", "last_name")


def update_account(*, actor, user, **changes):
    """Change an account's name as platform staff; identity and credentials are not here."""
    _require_staff(actor)
    unknown = set(changes) - set(ACCOUNT_FIELDS_STAFF_CHANGE)
    if unknown:
        raise ValidationError(
            gettext("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = {name: getattr(user, name) for name in changes}
        for name, value in changes.items():
            setattr(user, name, value)
        user.full_clean(exclude=["password"])
        if changes:
            user.save(update_fields=list(changes))
        changed = {k: [before[k], v] for k, v in changes.items() if before[k] != v}
        audit.record(
            actor,
            "account.updated",
            user,
            organisation=_account_organisation(user),
            username=user.get_username(),
            changes=changed,
        )
    return user


def send_password_reset(*, actor, user, request) -> None:
    """Email the account's owner allauth's own password-reset link, at the account's own
    address; only the owner of that mailbox can complete it. Platform staff only."""
    _require_staff(actor)
    user = User.objects.get(pk=user.pk)
    if not user.is_active:
        raise ValidationError(
            gettext("%(username)s is deactivated; reactivate it first.")
            % {"username": user.get_username()}
        )
    if not user.email:
        raise ValidationError(
            gettext("%(username)s has no email address to send a link to.")
            % {"username": user.get_username()}
        )
    with transaction.atomic():
        audit.record(
            actor,
            "account.password_reset_sent",
            user,
            organisation=_account_organisation(user),
            username=user.get_username(),
        )
        _send_password_reset(request, user)


def deactivate_account(*, actor, user):
    """Switch an account off and end its sessions and API token at once. A member's account
    goes through deactivate_member (it keeps an organisation's last admin); a staff account
    has no organisation."""
    membership = Membership.objects.filter(user_id=user.pk).select_related("organisation").first()
    if membership is not None:
        return deactivate_member(actor=actor, membership=membership).user
    _require_staff(actor)
    if user.pk == actor.pk:
        raise ValidationError(gettext("You cannot deactivate your own account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise ValidationError(
                gettext("%(username)s is already deactivated.") % {"username": user.get_username()}
            )
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended_sessions = end_all_sessions(user)
        Token.objects.filter(user=user).delete()
        audit.record(
            actor,
            "account.deactivated",
            user,
            organisation=None,
            username=user.get_username(),
            ended_sessions=ended_sessions,
        )
    return user


# --- API tokens (each user, for themselves) -------------------------------------------------


def issue_api_token(*, request, username: str, password: str, otp: str = "") -> Token:
    """Give a partner system a fresh token for the account whose credentials it presents.

    The same throttle as the web sign-in guards it, and a code is needed once the account
    has an authenticator app. Failures are recorded like failed sign-ins.
    """
    ip = audit.client_ip.get()
    throttle.check(throttle.SIGN_IN, login=username, ip=ip)
    user = authenticate(request, username=username, password=password)
    if user is None:  # authenticate() has recorded the failed sign-in
        throttle.failed(throttle.SIGN_IN, login=username, ip=ip)
        raise ValidationError(gettext("The username or password is not correct."))
    totp = reauth.totp_authenticator(user)
    if totp is None and mfa.is_enrolled(user):
        raise ValidationError(
            gettext(
                "This account signs in with a passkey: create its API token on your profile page."
            )
        )
    if totp is not None and not reauth.code_is_valid(totp, otp):
        throttle.failed(throttle.SIGN_IN, login=username, ip=ip)
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=request, reason="otp"
        )
        raise ValidationError(
            {"otp": gettext("The authenticator code is missing, wrong or already used.")}
        )
    throttle.succeeded(throttle.SIGN_IN, login=username, ip=ip, user=user)
    return rotate_api_token(actor=user)


def rotate_api_token(*, actor) -> Token:
    """Replace the actor's API token with a new one; the old one stops working at once."""
    _require_active(actor)
    with transaction.atomic():
        replaced = Token.objects.filter(user=actor).delete()[0] > 0
        token = Token.objects.create(user=actor)
        audit.record(actor, "api_token.rotated" if replaced else "api_token.created", actor)
    return token


def revoke_api_token(*, actor) -> bool:
    """Delete the actor's API token, if any."""
    _require_active(actor)
    with transaction.atomic():
        deleted = Token.objects.filter(user=actor).delete()[0] > 0
        if deleted:
            audit.record(actor, "api_token.revoked", actor)
    return deleted


# --- Notifications (each user, their own) ---------------------------------------------------


def mark_notifications_read(*, actor) -> int:
    """Mark every unread notice of the actor read ("Mark all as read"). Audited like every
    write, on the person's own account: it touches nothing of anyone else's."""
    _require_active(actor)
    with transaction.atomic():
        count = actor.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        if count:
            audit.record(actor, "notifications.read", actor, count=count)
    return count


def mark_notification_read(*, actor, notification_id: int):
    """Mark one of the actor's own notices read (opened, or marked done) and return it; None
    when the actor has no such notice, whether it is someone else's or does not exist."""
    _require_active(actor)
    with transaction.atomic():
        notice = actor.notifications.select_for_update().filter(pk=notification_id).first()
        if notice is not None and notice.read_at is None:
            notice.read_at = timezone.now()
            notice.save(update_fields=["read_at"])
            audit.record(actor, "notifications.read", actor, count=1, kind=notice.kind)
    return notice


# --- Helpers --------------------------------------------------------------------------------


def _require_active(actor) -> None:
    if not (actor and actor.is_authenticated and actor.is_active):
        raise PermissionDenied(gettext("Sign in first."))


def _require_staff(actor) -> None:
    _require_active(actor)
    if not actor.is_staff:
        raise PermissionDenied(gettext("Only platform staff can manage organisations."))
    if not mfa.may_act_as(actor, mfa.STAFF):
        raise PermissionDenied(mfa.enrolment_message(mfa.STAFF))


def _require_member_manager(actor, organisation: Organisation) -> None:
    """Org admins manage their own organisation; platform staff manage accounts anywhere."""
    _require_active(actor)
    if actor.is_staff:
        _require_staff(actor)
        return
    access.require(actor, "manage_members", organisation)


def _clean_roles(roles: Iterable[str]) -> set[str]:
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError(
            gettext("Unknown roles: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}
        )
    return roles


def _open_invitation(membership: Membership) -> Invitation:
    """The membership's invitation, locked, if it can still be resent or revoked."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("membership__user")
        .filter(membership_id=membership.pk)
        .first()
    )
    if invitation is None:
        raise ValidationError(gettext("This person was not invited through the portal."))
    state = invitation.state()
    if state == InvitationState.ACCEPTED:
        raise ValidationError(
            gettext("%(username)s has already accepted the invitation.")
            % {"username": invitation.membership.user.get_username()}
        )
    if state == InvitationState.REVOKED:
        raise ValidationError(
            gettext("The invitation of %(username)s was revoked.")
            % {"username": invitation.membership.user.get_username()}
        )
    if not invitation.membership.user.is_active:
        raise ValidationError(
            gettext("%(username)s is deactivated; reactivate them first.")
            % {"username": invitation.membership.user.get_username()}
        )
    return invitation


def _ensure_another_admin(membership: Membership) -> None:
    others = Membership.objects.filter(
        organisation_id=membership.organisation_id, org_admin=True, user__is_active=True
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            gettext(
                "An organisation needs at least one active admin. Make someone else an admin first."
            )
        )


def _account_organisation(user) -> Organisation | None:
    """The organisation whose admins an event about this account concerns (None for staff)."""
    membership = Membership.objects.filter(user_id=user.pk).select_related("organisation").first()
    return membership.organisation if membership is not None else None


def _send_password_reset(request, user) -> None:
    """allauth's password-reset email, exactly as its "forgot password" page sends it."""
    adapter = get_account_adapter(request)
    uid = user_pk_to_url_str(user)
    key = default_token_generator.make_token(user)
    context = {
        "user": user,
        "password_reset_url": adapter.get_reset_password_from_key_url(f"{uid}-{key}"),
        "uid": uid,
        "key": key,
        "request": request,
        "username": user.get_username(),
    }
    with allauth_context.request_context(request):
        adapter.send_password_reset_mail(user, user.email, context)


def _withhold_invitation(owner, organisation: Organisation) -> None:
    """Tell the owner of an address someone tried to invite; nothing else changes.

    Recorded for the owner's organisation by the portal itself, not as the inviting admin's
    act: the inviting organisation's log would otherwise show that the address is known.
    """
    with transaction.atomic():
        audit.record(
            None,
            "member.invitation_withheld",
            owner,
            organisation=getattr(getattr(owner, "membership", None), "organisation", None),
            inviting_organisation=organisation.slug,
        )
        context = {"user": owner, "organisation": organisation, "portal_name": settings.PORTAL_NAME}
        # Sent like an invitation (at once, failing alike), so neither path stands out.
        send_mail(
            subject=render_to_string(
                "account/email/invitation_withheld_subject.txt", context
            ).strip(),
            message=render_to_string("account/email/invitation_withheld_message.txt", context),
            from_email=None,
            recipient_list=[owner.email],
        )


def _send_invitation(user, organisation: Organisation, base_url: str) -> None:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "organisation": organisation,
        "link": base_url.rstrip("/") + path,
        "portal_name": settings.PORTAL_NAME,
    }
    send_mail(
        subject=render_to_string("account/email/invitation_subject.txt", context).strip(),
        message=render_to_string("account/email/invitation_message.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
