"""A project's health at a glance: on track, at risk or late.

- late: some milestone or deliverable is past its due date and not accepted;
- at risk: not late, and some item due within AT_RISK_DAYS is still planned or sent back
  for changes, or some unaccepted item has slipped against its baseline;
- on track: neither.

Only running projects (proposed, active, suspended) can be late or at risk: a completed or
cancelled project has no schedule left to keep. `health()` answers for one project and
`annotate_health()` for a whole queryset in the same query, with the same rule.
"""

from __future__ import annotations

import datetime

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Deliverable, ItemStatus, Milestone, Project, ProjectStatus

ON_TRACK, AT_RISK, LATE = "on_track", "at_risk", "late"
HEALTH_LABELS = {ON_TRACK: _("On track"), AT_RISK: _("At risk"), LATE: _("Late")}
HEALTH_CHOICES = list(HEALTH_LABELS.items())
AT_RISK_DAYS = 14
RUNNING = frozenset({ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.SUSPENDED})
#: Items that still need work before their due date.
NOT_STARTED = frozenset({ItemStatus.PLANNED, ItemStatus.CHANGES_REQUESTED})


def health(project: Project, today: datetime.date | None = None, *, items=None) -> str:
    """The project's health on `today`; pass `items` (its milestones and deliverables) when
    they are already loaded, to ask the database nothing."""
    today = today or timezone.localdate()
    if project.status not in RUNNING:
        return ON_TRACK
    if items is None:
        items = [*project.milestones.all(), *project.deliverables.all()]
    items = list(items)
    if any(is_overdue(item, today) for item in items):
        return LATE
    if any(_at_risk(item, today) for item in items):
        return AT_RISK
    return ON_TRACK


def annotate_health(queryset: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Add a `health` column to a Project queryset, from EXISTS subqueries (no N+1).

    Calling it on a queryset that already carries the column changes nothing, so a filter and
    a list can both ask for it.
    """
    if "health" in queryset.query.annotations:
        return queryset
    today = today or timezone.localdate()
    late = _any_item(_overdue_condition(today))
    at_risk = _any_item(_at_risk_condition(today))
    running = Q(status__in=RUNNING)
    return queryset.annotate(
        health=Case(
            When(running & late, then=Value(LATE)),
            When(running & at_risk, then=Value(AT_RISK)),
            default=Value(ON_TRACK),
            output_field=CharField(),
        )
    )


def label(value: str) -> str:
    return str(HEALTH_LABELS.get(value, value))


def is_overdue(item, today: datetime.date) -> bool:
    """Past its due date and not accepted (whatever the project's state)."""
    return item.due_date < today and item.status != ItemStatus.ACCEPTED


def is_slipped(item) -> bool:
    """Due later than its baseline, and not accepted yet."""
    return (
        item.status != ItemStatus.ACCEPTED
        and item.baseline_due_date is not None
        and item.due_date > item.baseline_due_date
    )


def is_running(project: Project) -> bool:
    return project.status in RUNNING


# --- Helpers --------------------------------------------------------------------------------


def _at_risk(item, today: datetime.date) -> bool:
    soon = today <= item.due_date <= today + datetime.timedelta(days=AT_RISK_DAYS)
    return (soon and item.status in NOT_STARTED) or is_slipped(item)


def _overdue_condition(today: datetime.date) -> Q:
    return Q(due_date__lt=today) & ~Q(status=ItemStatus.ACCEPTED)


def _at_risk_condition(today: datetime.date) -> Q:
    soon = Q(
        due_date__gte=today,
        due_date__lte=today + datetime.timedelta(days=AT_RISK_DAYS),
        status__in=NOT_STARTED,
    )
    slipped = (
        ~Q(status=ItemStatus.ACCEPTED)
        & Q(baseline_due_date__isnull=False)
        & Q(due_date__gt=F("baseline_due_date"))
    )
    return soon | slipped


def _any_item(condition: Q) -> Q:
    """Some milestone or some deliverable of the outer project meets condition."""
    milestones = Exists(Milestone.objects.filter(condition, project=OuterRef("pk")))
    deliverables = Exists(Deliverable.objects.filter(condition, project=OuterRef("pk")))
    return Q(milestones) | Q(deliverables)
