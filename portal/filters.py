"""Filter bars for the core's lists."""

import django_filters
from django_countries import countries

from portal.models import Organisation, OrganisationKind


class OrganisationFilter(django_filters.FilterSet):
    country = django_filters.ChoiceFilter(choices=list(countries), empty_label="Any country")
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices, empty_label="Any kind")

    class Meta:
        model = Organisation
        fields = ["country", "kind"]


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        label="Role",
        empty_label="Any role",
        method="filter_role",
        choices=[
            ("org_admin", "Organisation admin"),
            ("programme_manager", "Programme manager"),
            ("signatory", "Signatory"),
            ("reviewer", "Reviewer"),
        ],
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        empty_label="Any status",
        method="filter_status",
        choices=[("active", "Active"), ("deactivated", "Deactivated")],
    )

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{value: True})

    def filter_status(self, queryset, name, value):
        return queryset.filter(user__is_active=value == "active")
