"""The filter bar of the intelligence list: type, TLP, owner, agreement and date added."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from intel import stix
from intel.models import IntelShare, StixObject
from portal import access
from portal.filters import organisation_filter
from portal.vocabulary import TLP

#: The type filter, grouped as the STIX specification groups them.
TYPE_CHOICES = [
    (_("Domain objects"), [(t, t) for t in sorted(stix.SDO_TYPES)]),
    (_("Relationships and sightings"), [(t, t) for t in sorted(stix.SRO_TYPES)]),
    (_("Cyber observables"), [(t, t) for t in sorted(stix.SCO_TYPES)]),
]


class StixObjectFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        label=_("Type"), choices=TYPE_CHOICES, empty_label=_("Any type")
    )
    tlp = django_filters.ChoiceFilter(label=_("TLP"), choices=TLP.choices, empty_label=_("Any TLP"))
    owner = organisation_filter(_("Owner"))
    agreement = django_filters.ChoiceFilter(
        label=_("Agreement"),
        choices=[],
        method="filter_agreement",
        empty_label=_("Any agreement"),
        error_messages={"invalid_choice": _("You are party to no agreement “%(value)s”.")},
    )
    added_since = django_filters.DateFilter(
        label=_("Added since"),
        method="filter_added_since",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, for example 2026-03-31.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = StixObject
        fields = ["type", "tlp", "owner", "agreement", "added_since"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.filters["agreement"].extra["choices"] = _agreement_choices(request)

    def filter_agreement(self, queryset, name, value):
        """What reached us, or what we shared, under the agreement: never the shares between
        other parties of a multilateral agreement, which are theirs to know."""
        membership = getattr(getattr(self.request, "user", None), "membership", None)
        if membership is None:
            return queryset.none()
        organisation = membership.organisation_id
        shared = (
            IntelShare.objects.live()
            .filter(agreement__reference=value)
            .filter(Q(recipient_id=organisation) | Q(object__owner_id=organisation))
        )
        return queryset.filter(pk__in=shared.values("object_id"))

    def filter_added_since(self, queryset, name, value):
        start = datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)
        return queryset.filter(added_at__gte=start)


def _agreement_choices(request) -> list[tuple[str, str]]:
    """The agreements the person's organisation is party to, by reference (an amendment keeps
    it, so one choice covers every version)."""
    user = getattr(request, "user", None)
    membership = getattr(user, "membership", None)
    if membership is None:
        return []
    agreements = (
        access.visible_to(user, Agreement.objects.all())
        .filter(parties__organisation_id=membership.organisation_id)
        .exclude(status="draft")
        .order_by("reference", "-version")
        .values_list("reference", "title")
    )
    choices: dict[str, str] = {}
    for reference, title in agreements:
        choices.setdefault(reference, f"{reference}: {title}")
    return list(choices.items())
