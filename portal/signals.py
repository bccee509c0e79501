"""Sign-in, sign-out, failed sign-in, and changes to passwords and two-factor authentication
go to the audit trail."""

import time

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal import audit
from portal.middleware import SIGNED_IN_AT


@receiver(user_logged_in, dispatch_uid="portal.audit.signed_in")
def record_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()  # the absolute timeout counts from here
    audit.record(user, "auth.signed_in", user)


@receiver(user_logged_out, dispatch_uid="portal.audit.signed_out")
def record_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        reason = getattr(request, "sign_out_reason", "signed_out")
        audit.record(user, "auth.signed_out", user, reason=reason)


@receiver(user_login_failed, dispatch_uid="portal.audit.sign_in_failed")
def record_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    login = str(credentials.get("username") or credentials.get("email") or "")[:150]
    # Attribute the attempt to the targeted account's organisation, so its admins see it.
    target = (
        get_user_model()
        .objects.select_related("membership__organisation")
        .filter(Q(username__iexact=login) | Q(email__iexact=login))
        .first()
        if login
        else None
    )
    membership = getattr(target, "membership", None)
    audit.record(
        None,
        "auth.sign_in_failed",
        target,
        organisation=membership.organisation if membership else None,
        login=login,
        reason=kwargs.get("reason", "password"),
    )


# Model signals rather than allauth's: allauth sends its own after the commit, and the audit
# event belongs in the same transaction as the change, whichever path made it.
@receiver(post_save, sender=Authenticator, dispatch_uid="portal.audit.mfa_added")
def record_authenticator_added(sender, instance, created, **kwargs) -> None:
    if created:
        audit.record(instance.user, "auth.mfa_added", instance.user, type=instance.type)


@receiver(post_delete, sender=Authenticator, dispatch_uid="portal.audit.mfa_removed")
def record_authenticator_removed(sender, instance, **kwargs) -> None:
    audit.record(instance.user, "auth.mfa_removed", instance.user, type=instance.type)


@receiver(authenticator_reset, dispatch_uid="portal.audit.mfa_reset")
def record_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    audit.record(user, "auth.mfa_reset", user, type=authenticator.type)


@receiver(password_changed, dispatch_uid="portal.audit.password_changed")
def record_password_changed(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.password_changed", user)


@receiver(password_set, dispatch_uid="portal.audit.password_set")
def record_password_set(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.password_set", user)


@receiver(password_reset, dispatch_uid="portal.audit.password_reset")
def record_password_reset(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.password_reset", user)
