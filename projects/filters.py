"""The filter bar of the project list (and the API's filters)."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from portal.filters import organisation_filter
from projects.health import HEALTH_CHOICES, annotate_health
from projects.models import (
    Deliverable,
    ItemStatus,
    Milestone,
    Project,
    ProjectKind,
    ProjectStatus,
    Review,
)

AWAITING_MY_REVIEW = "awaiting_me"


class ProjectFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, empty_label=_("Any status"))
    kind = django_filters.ChoiceFilter(choices=ProjectKind.choices, empty_label=_("Any kind"))
    participant = organisation_filter(_("Participant"), field_name="participants__organisation")
    health = django_filters.ChoiceFilter(
        label=_("Health"),
        choices=HEALTH_CHOICES,
        method="filter_health",
        empty_label=_("Any health"),
    )
    review = django_filters.ChoiceFilter(
        label=_("Review"),
        choices=[(AWAITING_MY_REVIEW, _("Awaiting my review"))],
        method="filter_review",
        empty_label=_("Any"),
    )

    class Meta:
        model = Project
        fields = ["status", "kind", "participant", "health", "review"]

    def filter_health(self, queryset, name, value):
        """Late, at risk or on track today (the same rule as the badges)."""
        return annotate_health(queryset).filter(health=value)

    def filter_review(self, queryset, name, value):
        """Projects holding an item that awaits the user's review (the dashboard's card)."""
        user = getattr(self.request, "user", None)
        condition = Q()
        for model in ITEM_MODELS:
            condition |= Exists(
                awaiting_review_by(user, model.objects.all()).filter(project=OuterRef("pk"))
            )
        return queryset.filter(condition)


ITEM_MODELS = (Milestone, Deliverable)


def awaiting_review_by(user, items):
    """Submitted milestones or deliverables (of one model) of the projects the user reviews,
    that they have not reviewed in the current round. The caller narrows the projects to what
    the user may see."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.reviewer:
        return items.none()
    field = items.model._meta.model_name
    reviewed = Review.objects.filter(
        **{field: OuterRef("pk")}, round=OuterRef("round"), reviewer_id=user.pk
    )
    return items.filter(status=ItemStatus.SUBMITTED, project__reviewers__user_id=user.pk).exclude(
        Exists(reviewed)
    )
