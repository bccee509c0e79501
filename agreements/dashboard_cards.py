"""Dashboard cards of agreements: what awaits my signature, and what expires soon."""

import datetime

from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, AgreementStatus, Party
from portal import access, dashboard


@dashboard.register
def awaiting_my_signature(user):
    membership = getattr(user, "membership", None)
    if membership is None or not membership.signatory:
        return None
    designated = Party.signatories.through.objects.filter(user_id=user.pk).values(
        "party__agreement"
    )
    waiting = access.visible_to(
        user,
        Agreement.objects.filter(status=AgreementStatus.AWAITING_SIGNATURES, pk__in=designated),
    ).exclude(signatures__user=user, signatures__voided_at__isnull=True)
    return dashboard.Card(
        title="Awaiting your signature",
        template="agreements/card_agreements.html",
        items=list(waiting.order_by("submitted_at")[:10]),
        empty_text="No agreement awaits your signature.",
        more_url=reverse("agreements:list") + "?status=awaiting_signatures",
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
            expires_on__lte=today + datetime.timedelta(days=60),
        ),
    )
    return dashboard.Card(
        title="Agreements expiring within 60 days",
        template="agreements/card_agreements.html",
        items=list(soon.order_by("expires_on")[:10]),
        empty_text="None of your agreements expires in the next 60 days.",
        more_url=reverse("agreements:list") + "?expiring_within=60",
    )
