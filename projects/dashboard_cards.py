"""Dashboard cards of projects: what awaits my review, what is overdue, and how the portfolio
is doing. Every card reads projects through `access.visible_to`, in a fixed number of queries.

The items' lines are templates/projects/card_items.html; the health card's few lines are
compiled here, and the dashboard includes them by object (`{% include %}` accepts a template
object as well as a name).
"""

from __future__ import annotations

import functools
from collections import Counter

from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import access, dashboard
from portal.models import Role
from projects.filters import AWAITING_MY_REVIEW, ITEM_MODELS, ProjectFilter, awaiting_review_by
from projects.health import AT_RISK, LATE, ON_TRACK, RUNNING, annotate_health, label
from projects.models import ItemStatus, Project, ProjectStatus

HEALTH_TEMPLATE = """<dl class="facts">
  {% for row in card.items %}
  <dt>{{ row.label }}</dt><dd><a href="{{ row.url }}">{{ row.count }}</a></dd>
  {% endfor %}
</dl>"""


@dashboard.register
def awaiting_my_review(user):
    """Submitted items of the projects the user is assigned to, not yet reviewed by them in
    the current round; each opens its row on the project page."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.reviewer:
        return None
    projects = access.visible_to(user, Project.objects.all())
    card = _items_card(
        [
            awaiting_review_by(user, model.objects.filter(project__in=projects))
            .select_related("project")
            .order_by("submitted_at", "pk")
            for model in ITEM_MODELS
        ],
        key=lambda item: (item.submitted_at, item.project.acronym, item.code),
        title=_("Awaiting your review"),
        empty_text=_("No milestone or deliverable awaits your review."),
        role=Role.REVIEWER,
    )
    if card.count:
        card.link_count = ProjectFilter(
            {"review": AWAITING_MY_REVIEW}, queryset=projects, request=_Request(user)
        ).qs.count()
        card.more_url = f"{reverse('projects:list')}?review={AWAITING_MY_REVIEW}"
        card.more_label = ngettext(
            "The %(count)s project that holds them",
            "The %(count)s projects that hold them",
            card.link_count,
        ) % {"count": card.link_count}
    return card


@dashboard.register
def overdue_items(user):
    """Unaccepted items past their due date, in running projects the user may see; each
    opens its row on the project page, and the link lists the late projects holding them."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.programme_manager:
        return None
    today = timezone.localdate()
    projects = access.visible_to(user, Project.objects.filter(status__in=RUNNING))
    card = _items_card(
        [
            model.objects.filter(project__in=projects, due_date__lt=today)
            .exclude(status=ItemStatus.ACCEPTED)
            .select_related("project")
            .order_by("due_date", "pk")
            for model in ITEM_MODELS
        ],
        key=lambda item: (item.due_date, item.project.acronym, item.code),
        title=_("Overdue items"),
        empty_text=_("Nothing in your projects is overdue."),
        role=Role.PROGRAMME_MANAGER,
    )
    if card.count:
        # The list's "late" is the same rule: a running project with an overdue item.
        card.link_count = annotate_health(projects, today).filter(health=LATE).count()
        card.more_url = f"{reverse('projects:list')}?health={LATE}"
        card.more_label = ngettext(
            "The %(count)s late project that holds them",
            "The %(count)s late projects that hold them",
            card.link_count,
        ) % {"count": card.link_count}
    return card


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
        title=_("Portfolio health"),
        template=_template(HEALTH_TEMPLATE),
        items=rows if counts else [],
        empty_text=_("None of your projects is active."),
        more_url=f"{list_url}?status=active",
        link_count=sum(counts.values()),
        more_label=ngettext(
            "The %(count)s active project", "All %(count)s active projects", sum(counts.values())
        )
        % {"count": sum(counts.values())},
        role=Role.PROGRAMME_MANAGER,
    )


# --- Helpers --------------------------------------------------------------------------------


def _items_card(querysets, *, key, title, empty_text, role) -> dashboard.Card:
    """One card of milestones and deliverables: the first rows of each kind merged in order,
    and how many there are of both; each item knows its row's anchor on the project page."""
    items, count = [], 0
    for queryset in querysets:
        rows, total = dashboard.first_rows(queryset)
        items += rows
        count += total
    items.sort(key=key)
    items = items[: dashboard.MAX_ITEMS]
    for item in items:
        item.kind = type(item)._meta.verbose_name.capitalize()
        item.anchor = f"{type(item)._meta.model_name}-{item.pk}"
    return dashboard.Card(
        title=title,
        template="projects/card_items.html",
        items=items,
        count=count,
        empty_text=empty_text,
        role=role,
    )


class _Request:
    """What a filter set reads of a request: who asks."""

    def __init__(self, user):
        self.user = user


@functools.cache
def _template(source: str):
    return engines["django"].from_string(source)
