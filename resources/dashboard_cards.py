"""Dashboard card of resources: what partners shared with us lately. It counts resources, as
the library's list filtered to the same period does."""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from portal import access, dashboard
from resources.filters import shared_with, shared_with_us_since
from resources.models import Resource

RECENT_DAYS = 30


@dashboard.register
def recently_shared_with_us(user):
    if getattr(user, "membership", None) is None:
        return None
    # The recent shares pick a few hundred rows; each is then checked on its own, rather
    # than against a hash of every grant a hub holds.
    visible = access.visible_walk(user, Resource.objects.all())
    latest = shared_with(user).filter(resource=OuterRef("pk")).order_by("-shared_at", "-pk")
    resources = (
        shared_with_us_since(user, visible, RECENT_DAYS)
        .select_related("owner")
        .annotate(
            last_shared_at=Subquery(latest.values("shared_at")[:1]),
            last_shared_under=Subquery(latest.values("agreement__reference")[:1]),
        )
        .order_by("-last_shared_at", "-pk")
    )
    items, count = dashboard.first_rows(resources)
    return dashboard.Card(
        title=_("Recently shared with us"),
        template="resources/card_shared.html",
        items=items,
        count=count,
        empty_text=_("Nothing was shared with your organisation in the last %(days)s days.")
        % {"days": RECENT_DAYS},
        more_url=reverse("resources:list") + f"?shared_within={RECENT_DAYS}",
    )
