"""The filter bar of the project list."""

import django_filters

from portal.filters import organisation_filter
from projects.health import HEALTH_CHOICES, annotate_health
from projects.models import Project, ProjectKind, ProjectStatus


class ProjectFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=ProjectKind.choices, empty_label="Any kind")
    participant = organisation_filter("Participant", field_name="participants__organisation")
    health = django_filters.ChoiceFilter(
        label="Health", choices=HEALTH_CHOICES, method="filter_health", empty_label="Any health"
    )

    class Meta:
        model = Project
        fields = ["status", "kind", "participant", "health"]

    def filter_health(self, queryset, name, value):
        """Late, at risk or on track today (the same rule as the badges)."""
        return annotate_health(queryset).filter(health=value)
