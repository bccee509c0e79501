"""Dashboard cards of the core, for organisation admins: invitations not yet accepted, and
failed sign-ins to their own organisation's accounts, each opening the list it counted."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import access, audit_log, dashboard
from portal.filters import PENDING
from portal.invitations import pending_memberships
from portal.models import Role

FAILED_SIGN_IN = "auth.sign_in_failed"
#: "Recent" sign-in failures: today and the six UTC days before it, as the audit log's
#: date filter reads them.
RECENT_DAYS = 7


@dashboard.register
def pending_invitations_card(user):
    organisation = _administered(user)
    if organisation is None:
        return None
    pending = pending_memberships(organisation.memberships.select_related("user"))
    items, count = dashboard.first_rows(pending.order_by("-created_at", "-pk"))
    return dashboard.Card(
        title=_("Invitations not accepted yet"),
        template="portal/card_invitations.html",
        items=items,
        count=count,
        empty_text=_("Everyone you invited has signed in."),
        more_url=reverse("portal:member-list", args=[organisation.slug]) + f"?status={PENDING}",
        role=Role.ORG_ADMIN,
    )


@dashboard.register
def failed_sign_ins(user):
    """Failed sign-ins to the organisation's accounts (the audit trail files each under the
    targeted account's organisation), since the start of the UTC day RECENT_DAYS - 1 ago."""
    organisation = _administered(user)
    if organisation is None:
        return None
    since = timezone.now().astimezone(datetime.UTC).date() - datetime.timedelta(
        days=RECENT_DAYS - 1
    )
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=datetime.UTC)
    failures = audit_log.concerning(organisation).filter(
        organisation=organisation, action=FAILED_SIGN_IN, created_at__gte=start
    )
    items, count = dashboard.first_rows(failures)
    audit_url = reverse("portal:organisation-audit", args=[organisation.slug])
    return dashboard.Card(
        title=_("Failed sign-ins in the last %(days)s days") % {"days": RECENT_DAYS},
        template="portal/card_sign_in_failures.html",
        items=items,
        count=count,
        empty_text=_("No one failed to sign in to your organisation's accounts."),
        more_url=f"{audit_url}?action={FAILED_SIGN_IN}&date_from={since:%Y-%m-%d}",
        role=Role.ORG_ADMIN,
    )


def _administered(user):
    """The organisation whose members the user manages, or None."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.org_admin:
        return None
    if not access.can(user, "manage_members", membership.organisation):
        return None
    return membership.organisation
