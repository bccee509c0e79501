"""The filter bar of the agreement list (and the API's filters)."""

import datetime

import django_filters
from django.utils import timezone

from agreements.models import Agreement, AgreementKind, AgreementStatus
from portal.filters import organisation_filter


class AgreementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AgreementStatus.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices, empty_label="Any kind")
    party = organisation_filter("Party", field_name="parties__organisation")
    expiring_within = django_filters.NumberFilter(
        label="Expiring within (days)", method="filter_expiring_within", min_value=0, max_value=3650
    )

    class Meta:
        model = Agreement
        fields = ["status", "kind", "party", "expiring_within"]

    def filter_expiring_within(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            status=AgreementStatus.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=int(value)),
        )
