"""The filters of intelligence, one set for the list page, the API's list and both exports:
type, TLP, category, owner, agreement and added since."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from agreements.models import Agreement, AgreementStatus
from intel import stix
from intel.models import CollectionEntry, StixObject
from portal import access
from portal.filters import organisation_filter
from portal.vocabulary import TLP, DataCategory

#: The type filter, grouped as the STIX specification groups them.
TYPE_CHOICES = [
    (_("Domain objects"), [(t, t) for t in sorted(stix.SDO_TYPES)]),
    (_("Relationships and sightings"), [(t, t) for t in sorted(stix.SRO_TYPES)]),
    (_("Cyber observables"), [(t, t) for t in sorted(stix.SCO_TYPES)]),
]


class AgreementField(django_filters.fields.ChoiceField):
    """One of the requester's organisation's agreements, by reference (an amendment keeps
    it); an API client may name it by the id of any of its versions instead."""

    requester = None  # set by the filter set, per request

    def to_python(self, value):
        value = super().to_python(value).strip()
        if value.isdigit():
            found = _party_agreements(self.requester).filter(pk=int(value)).first()
            return found.reference if found else value
        return value


class AgreementFilter(django_filters.ChoiceFilter):
    field_class = AgreementField


class AddedSinceField(forms.Field):
    """A UTC day (what the page's date input sends), or a time with or without an offset
    (what an API client sends); the start of that day or that time, in UTC."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_error_messages = {
        "invalid": _(
            "Enter a date as YYYY-MM-DD, for example 2026-03-31, or a time such as "
            "2026-03-31T12:00:00Z."
        )
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        try:
            day = datetime.date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is not None:
            return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class AddedSinceFilter(django_filters.Filter):
    field_class = AddedSinceField


class StixObjectFilter(django_filters.FilterSet):
    # The groups are the page's; the schema lists the types themselves.
    type = extend_schema_field({"type": "string", "enum": sorted(stix.STORED_TYPES)})(
        django_filters.ChoiceFilter(
            label=_("Type"), choices=TYPE_CHOICES, empty_label=_("Any type")
        )
    )
    tlp = django_filters.ChoiceFilter(label=_("TLP"), choices=TLP.choices, empty_label=_("Any TLP"))
    data_category = django_filters.ChoiceFilter(
        label=_("Category"), choices=DataCategory.choices, empty_label=_("Any category")
    )
    owner = organisation_filter(_("Owner"))
    agreement = extend_schema_field(OpenApiTypes.STR)(
        AgreementFilter(
            label=_("Agreement"),
            choices=[],
            method="filter_agreement",
            empty_label=_("Any agreement"),
            help_text=_(
                "An agreement's reference (or id): what your organisation shared or received "
                "under it."
            ),
            error_messages={"invalid_choice": _("You are party to no agreement “%(value)s”.")},
        )
    )
    added_since = extend_schema_field(OpenApiTypes.DATETIME)(
        AddedSinceFilter(
            label=_("Added since"),
            method="filter_added_since",
            help_text=_("A date or a time, UTC unless it says otherwise (2026-11-30T10:00:00Z)."),
        )
    )

    class Meta:
        model = StixObject
        fields = ["type", "tlp", "data_category", "owner", "agreement", "added_since"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        # This instance's own copy of the field (the schema generator may have built and
        # cached the class's one, without a requester).
        requester = getattr(request, "user", None)
        field = self.filters["agreement"].field
        field.choices = _agreement_choices(requester)
        field.requester = requester

    def filter_agreement(self, queryset, name, value):
        """The organisation's view of the agreement's collection: what it shared under it
        and what reached it by a share under it, as its TAXII collection holds them. Other
        parties' shares under a multilateral agreement are theirs to know."""
        membership = getattr(getattr(self.request, "user", None), "membership", None)
        if membership is None:
            return queryset.none()
        entries = CollectionEntry.objects.filter(
            collection=value, viewer_id=membership.organisation_id
        )
        return queryset.filter(pk__in=entries.values("object_id"))

    def filter_added_since(self, queryset, name, value):
        try:
            value = value.astimezone(datetime.UTC)
        except OverflowError:
            # Beyond the last time there is nothing was added; before the first, everything.
            return queryset.none() if value.year > 1 else queryset
        return queryset.filter(added_at__gte=value)


def _party_agreements(user):
    """The agreements (past drafting) the person may see and their organisation is party
    to; one an organisation is not party to answers like one that does not exist."""
    membership = getattr(user, "membership", None)
    if membership is None:
        return Agreement.objects.none()
    return (
        access.visible_to(user, Agreement.objects.all())
        .filter(parties__organisation_id=membership.organisation_id)
        .exclude(status=AgreementStatus.DRAFT)
    )


def _agreement_choices(user) -> list[tuple[str, str]]:
    """One choice per reference, titled as its newest version is."""
    agreements = _party_agreements(user).order_by("reference", "-version")
    choices: dict[str, str] = {}
    for reference, title in agreements.values_list("reference", "title"):
        choices.setdefault(reference, f"{reference}: {title}")
    return list(choices.items())
