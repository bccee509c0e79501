"""The filters of the intelligence list and export: type, TLP, owner, agreement, added since.

Written for the API while intel/filters.py (the HTML list's filter bar) was being written in
parallel; the two belong together in intel/filters.py once both exist.
"""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from agreements.models import Agreement
from intel import stix
from intel.models import CollectionEntry, StixObject
from portal import access
from portal.filters import organisation_filter
from portal.vocabulary import TLP, DataCategory


def _agreements_visible_to_requester(request):
    # An agreement the person may not see answers like one that does not exist.
    return access.visible_to(getattr(request, "user", None), Agreement.objects.all())


class StixObjectFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        label=_("Type"),
        choices=[(name, name) for name in sorted(stix.STORED_TYPES)],
        empty_label=_("Any type"),
    )
    tlp = django_filters.ChoiceFilter(label="TLP", choices=TLP.choices, empty_label=_("Any TLP"))
    data_category = django_filters.ChoiceFilter(
        label=_("Category"), choices=DataCategory.choices, empty_label=_("Any category")
    )
    owner = organisation_filter(_("Owner"))
    agreement = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            label=_("Agreement"),
            queryset=_agreements_visible_to_requester,
            method="filter_agreement",
            help_text=_("Id of an agreement: what your organisation shared or received under it."),
            error_messages={"invalid_choice": _("No agreement has the id “%(value)s”.")},
        )
    )
    added_since = django_filters.IsoDateTimeFilter(
        label=_("Added since"),
        method="filter_added_since",
        help_text=_("A date or time, UTC unless it says otherwise (2026-11-30T10:00:00Z)."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = StixObject
        fields = ["type", "tlp", "data_category", "owner", "agreement", "added_since"]

    def filter_agreement(self, queryset, name, value):
        """Objects in the requester's organisation's view of the agreement's collection:
        those it shared under it and those it received by a share under it. Another party's
        shares under the same agreement are not told."""
        membership = getattr(getattr(self.request, "user", None), "membership", None)
        if membership is None:
            return queryset.none()
        entries = CollectionEntry.objects.filter(
            collection=value.reference, viewer_id=membership.organisation_id
        )
        return queryset.filter(pk__in=entries.values("object_id"))

    def filter_added_since(self, queryset, name, value):
        try:
            value = value.astimezone(datetime.UTC)
        except OverflowError:
            # Beyond the last time there is nothing was added; before the first, everything.
            return queryset.none() if value.year > 1 else queryset
        return queryset.filter(added_at__gte=value)
