"""The filter bar of the project list."""

import django_filters

from portal.filters import PlainSelect
from portal.models import Organisation
from projects.health import HEALTH_CHOICES, annotate_health
from projects.models import Project, ProjectKind, ProjectStatus


class ProjectFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=ProjectKind.choices, empty_label="Any kind")
    participant = django_filters.ModelChoiceFilter(
        label="Participant",
        queryset=Organisation.objects.order_by("name"),
        to_field_name="slug",
        field_name="participants__organisation",
        empty_label="Any participant",
        widget=PlainSelect,
    )
    health = django_filters.ChoiceFilter(
        label="Health", choices=HEALTH_CHOICES, method="filter_health", empty_label="Any health"
    )

    class Meta:
        model = Project
        fields = ["status", "kind", "participant", "health"]

    def filter_health(self, queryset, name, value):
        """Late, at risk or on track today (the same rule as the badges)."""
        return annotate_health(queryset).filter(health=value)
