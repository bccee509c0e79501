"""Dashboard cards of projects: what awaits my review, what is overdue, and how the portfolio
is doing. Every card reads projects through `access.visible_to`, in a fixed number of queries.

The cards' small templates are compiled here rather than kept under templates/projects/: they
render a few lines each, and the dashboard includes them by object (`{% include %}` accepts a
template object as well as a name).
"""

from __future__ import annotations

import functools
from collections import Counter

from django.db.models import Exists, OuterRef
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from portal import access, dashboard
from projects.health import AT_RISK, LATE, ON_TRACK, RUNNING, annotate_health, label
from projects.models import Deliverable, ItemStatus, Milestone, Project, ProjectStatus, Review

MAX_ITEMS = 10

ITEMS_TEMPLATE = """<ul class="plain-list">
  {% for item in card.items %}
  <li><a href="{{ item.project.get_absolute_url }}">
      <code>{{ item.project.acronym }} {{ item.code }}</code> {{ item.title }}</a>
    <br><span class="muted small">{{ item.kind }} due {{ item.due_date|date:"j M Y" }},
      {% if item.status == "submitted" %}submitted {{ item.submitted_at|date:"j M Y" }}
      {% else %}{{ item.get_status_display|lower }}{% endif %}</span></li>
  {% endfor %}
</ul>"""

HEALTH_TEMPLATE = """<dl class="facts">
  {% for row in card.items %}
  <dt>{{ row.label }}</dt><dd><a href="{{ row.url }}">{{ row.count }}</a></dd>
  {% endfor %}
</dl>"""


@dashboard.register
def awaiting_my_review(user):
    """Submitted items of the projects the user is assigned to, not yet reviewed by them in
    the current round."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.reviewer:
        return None
    projects = access.visible_to(user, Project.objects.filter(reviewers__user=user))
    items = []
    for model, field in ((Milestone, "milestone"), (Deliverable, "deliverable")):
        reviewed = Review.objects.filter(
            **{field: OuterRef("pk")}, round=OuterRef("round"), reviewer=user
        )
        items += _tagged(
            model.objects.filter(project__in=projects, status=ItemStatus.SUBMITTED)
            .exclude(Exists(reviewed))
            .select_related("project")
            .order_by("submitted_at", "pk")[:MAX_ITEMS]
        )
    items.sort(key=lambda item: (item.submitted_at, item.project.acronym, item.code))
    return dashboard.Card(
        title="Awaiting your review",
        template=_template(ITEMS_TEMPLATE),
        items=items[:MAX_ITEMS],
        empty_text="No milestone or deliverable awaits your review.",
    )


@dashboard.register
def overdue_items(user):
    """Unaccepted items past their due date, in running projects the user may see."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.programme_manager:
        return None
    today = timezone.localdate()
    projects = access.visible_to(user, Project.objects.filter(status__in=RUNNING))
    items = []
    for model in (Milestone, Deliverable):
        items += _tagged(
            model.objects.filter(project__in=projects, due_date__lt=today)
            .exclude(status=ItemStatus.ACCEPTED)
            .select_related("project")
            .order_by("due_date", "pk")[:MAX_ITEMS]
        )
    items.sort(key=lambda item: (item.due_date, item.project.acronym, item.code))
    return dashboard.Card(
        title="Overdue items",
        template=_template(ITEMS_TEMPLATE),
        items=items[:MAX_ITEMS],
        empty_text="Nothing in your projects is overdue.",
        more_url=reverse("projects:list") + "?health=late",
    )


@dashboard.register
def portfolio_health(user):
    """How many of the user's visible active projects are on track, at risk or late."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.programme_manager:
        return None
    active = access.visible_to(user, Project.objects.filter(status=ProjectStatus.ACTIVE))
    # One query: the health rule of projects/health.py, computed by the database.
    counts = Counter(annotate_health(active).values_list("health", flat=True))
    list_url = reverse("projects:list")
    rows = [
        {
            "label": label(key),
            "count": counts[key],
            "url": f"{list_url}?status=active&health={key}",
        }
        for key in (ON_TRACK, AT_RISK, LATE)
    ]
    return dashboard.Card(
        title="Portfolio health",
        template=_template(HEALTH_TEMPLATE),
        items=rows if counts else [],
        empty_text="None of your projects is active.",
        more_url=f"{list_url}?status=active",
        counted=False,
    )


# --- Helpers --------------------------------------------------------------------------------


def _tagged(items) -> list:
    """The items, each told what it is, for the card's line."""
    items = list(items)
    for item in items:
        item.kind = type(item)._meta.verbose_name.capitalize()
    return items


@functools.cache
def _template(source: str):
    return engines["django"].from_string(source)
