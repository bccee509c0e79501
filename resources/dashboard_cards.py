"""Dashboard card of resources: what partners shared with us lately."""

import datetime

from django.urls import reverse
from django.utils import timezone

from portal import access, dashboard
from resources.filters import SHARED_WITH_US, shared_with
from resources.models import Resource

RECENT_DAYS = 30


@dashboard.register
def recently_shared_with_us(user):
    if getattr(user, "membership", None) is None:
        return None
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    visible = access.visible_to(user, Resource.objects.all())
    shares = (
        shared_with(user)
        .filter(shared_at__gte=since, resource__in=visible)
        .select_related("resource__owner", "agreement")
        .order_by("-shared_at", "-pk")
    )
    return dashboard.Card(
        title="Recently shared with us",
        template="resources/card_shared.html",
        items=list(shares[:10]),
        empty_text=f"Nothing was shared with your organisation in the last {RECENT_DAYS} days.",
        more_url=reverse("resources:list") + f"?scope={SHARED_WITH_US}",
    )
