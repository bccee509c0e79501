"""The filter bar of the resource library."""

import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.filters import organisation_filter
from portal.vocabulary import TLP, DataCategory
from resources.models import Resource, ResourceKind, Share, ShareStatus

SHARED_WITH_US = "shared_with_us"
SHARED_BY_US = "shared_by_us"


class ResourceFilter(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[(SHARED_WITH_US, _("Shared with us")), (SHARED_BY_US, _("Shared by us"))],
        method="filter_scope",
        empty_label=_("Everything I can see"),
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=ResourceKind.choices, empty_label=_("Any kind")
    )
    tlp = django_filters.ChoiceFilter(label=_("TLP"), choices=TLP.choices, empty_label=_("Any TLP"))
    data_category = django_filters.ChoiceFilter(
        label=_("Category"), choices=DataCategory.choices, empty_label=_("Any category")
    )
    owner = organisation_filter(_("Owner"))
    shared_within = django_filters.NumberFilter(
        label=_("Shared with us within (days)"),
        method="filter_shared_within",
        min_value=0,
        max_value=3650,
    )

    class Meta:
        model = Resource
        fields = ["scope", "kind", "tlp", "data_category", "owner", "shared_within"]

    def filter_scope(self, queryset, name, value):
        """Narrow the library to what reached us through a share, or what we share out."""
        user = getattr(self.request, "user", None)
        membership = getattr(user, "membership", None)
        if membership is None:
            return queryset.none()
        if value == SHARED_WITH_US:
            return queryset.filter(pk__in=shared_with(user).values("resource_id"))
        if value == SHARED_BY_US:
            active = Share.objects.filter(status=ShareStatus.ACTIVE).values("resource_id")
            return queryset.filter(owner_id=membership.organisation_id, pk__in=active)
        return queryset

    def filter_shared_within(self, queryset, name, value):
        """What reached us through a share made in the last `value` days (the dashboard's
        "Recently shared with us")."""
        return shared_with_us_since(getattr(self.request, "user", None), queryset, int(value))


def shared_with_us_since(user, queryset, days: int):
    """Resources of `queryset` that a live share to the user's organisation made within the
    last `days` days reached."""
    since = timezone.now() - datetime.timedelta(days=days)
    recent = shared_with(user).filter(shared_at__gte=since)
    return queryset.filter(pk__in=recent.values("resource_id"))


def shared_with(user):
    """Live shares to the user's organisation; for TLP:RED only those that name the user."""
    membership = getattr(user, "membership", None)
    if membership is None:
        return Share.objects.none()
    named = Share.recipient_users.through.objects.filter(user_id=user.pk).values("share_id")
    return (
        Share.objects.live()
        .filter(recipient_id=membership.organisation_id)
        .filter(~Q(resource__tlp=TLP.RED) | Q(pk__in=named))
    )
