"""Sign-in, sign-out and failed sign-in go to the audit trail."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.dispatch import receiver

from portal import audit


@receiver(user_logged_in, dispatch_uid="portal.audit.signed_in")
def record_sign_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.signed_in", user)


@receiver(user_logged_out, dispatch_uid="portal.audit.signed_out")
def record_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(user, "auth.signed_out", user)


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
    )
