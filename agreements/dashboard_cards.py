"""Dashboard cards of agreements: what awaits my signature, my organisation's drafts, what
waits on the other parties, and what expires soon. Each card's link opens the agreement list
filtered (agreements/filters.py) to exactly what the card counted."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.filters import (
    AWAITING_MY_SIGNATURE,
    AWAITING_PARTNERS,
    awaiting_partners_of,
    awaiting_signature_of,
)
from agreements.models import Agreement, AgreementStatus
from portal import access, dashboard
from portal.models import Role

TEMPLATE = "agreements/card_agreements.html"
EXPIRY_DAYS = 60


@dashboard.register
def awaiting_my_signature(user):
    membership = getattr(user, "membership", None)
    if membership is None or not membership.signatory:
        return None
    waiting = awaiting_signature_of(user, access.visible_to(user, Agreement.objects.all()))
    items, count = dashboard.first_rows(waiting.order_by("submitted_at", "pk"))
    return dashboard.Card(
        title=_("Awaiting your signature"),
        template=TEMPLATE,
        items=items,
        count=count,
        empty_text=_("No agreement awaits your signature."),
        more_url=_list_url(awaiting=AWAITING_MY_SIGNATURE),
        role=Role.SIGNATORY,
    )


@dashboard.register
def drafts(user):
    """Drafts the user's organisation is a party to: its programme managers' work."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.programme_manager:
        return None
    visible = access.visible_to(user, Agreement.objects.filter(status=AgreementStatus.DRAFT))
    items, count = dashboard.first_rows(visible.order_by("-updated_at", "-pk"))
    return dashboard.Card(
        title=_("Drafts"),
        template=TEMPLATE,
        items=items,
        count=count,
        empty_text=_("No draft is open."),
        more_url=_list_url(status=AgreementStatus.DRAFT),
        role=Role.PROGRAMME_MANAGER,
    )


@dashboard.register
def awaiting_partners(user):
    """Out for signature, signed in full by the user's organisation: the others' turn."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.programme_manager:
        return None
    waiting = awaiting_partners_of(user, access.visible_to(user, Agreement.objects.all()))
    items, count = dashboard.first_rows(waiting.order_by("submitted_at", "pk"))
    return dashboard.Card(
        title=_("Awaiting other parties' signatures"),
        template=TEMPLATE,
        items=items,
        count=count,
        empty_text=_("No agreement your organisation signed waits on another party."),
        more_url=_list_url(awaiting=AWAITING_PARTNERS),
        role=Role.PROGRAMME_MANAGER,
    )


@dashboard.register
def expiring_soon(user):
    if getattr(user, "membership", None) is None:
        return None
    today = timezone.localdate()
    soon = access.visible_to(
        user,
        Agreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=EXPIRY_DAYS),
        ),
    )
    items, count = dashboard.first_rows(soon.order_by("expires_on", "pk"))
    return dashboard.Card(
        title=_("Agreements expiring within %(days)s days") % {"days": EXPIRY_DAYS},
        template=TEMPLATE,
        items=items,
        count=count,
        empty_text=_("None of your agreements expires in the next %(days)s days.")
        % {"days": EXPIRY_DAYS},
        more_url=_list_url(expiring_within=EXPIRY_DAYS),
    )


def _list_url(**query) -> str:
    return reverse("agreements:list") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
