"""The secret iCal address of a person's due dates: milestones, deliverables and project ends.

A calendar application cannot sign in, so a long random token in the address stands for its
owner. Every fetch recomputes what the owner may see *now* through `access.visible_to`: a
participant removed from a project, a reviewer unassigned or an account deactivated stops
seeing its dates at the next refresh. The token is revocable and rotatable; its owner's
changes are audited, and so is every fetch with an unknown (or revoked) token. Successful
fetches are not audited: calendar applications poll every few minutes.

The calendar is written by hand to RFC 5545: CRLF line ends, lines folded at 75 octets
(never inside a UTF-8 character), and TEXT values escaped.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from portal import access, audit
from projects.models import (
    CalendarFeed,
    Deliverable,
    Milestone,
    Project,
    ProjectStatus,
)

MAX_LINE_OCTETS = 75
CRLF = "\r\n"


@dataclass(frozen=True)
class Event:
    """One all-day event of the calendar."""

    uid: str
    date: datetime.date
    summary: str
    description: str
    url: str


# --- The owner's changes ----------------------------------------------------------------------


def create_calendar_feed(*, actor) -> CalendarFeed:
    """Give the actor a secret calendar address; an existing one is kept as it is."""
    _require_active(actor)
    with transaction.atomic():
        feed, created = CalendarFeed.objects.get_or_create(user=actor)
        if created:
            audit.record(actor, "calendar_feed.created", actor)
    return feed


def rotate_calendar_feed(*, actor) -> CalendarFeed:
    """Replace the actor's address with a new one; the old one stops working at once."""
    _require_active(actor)
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=actor).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=actor)
            audit.record(actor, "calendar_feed.created", actor)
            return feed
        feed.token = CalendarFeed._meta.get_field("token").get_default()
        feed.save(update_fields=["token"])
        audit.record(actor, "calendar_feed.rotated", actor)
    return feed


def revoke_calendar_feed(*, actor) -> bool:
    """Delete the actor's address, if any; calendar applications get 404 from then on."""
    _require_active(actor)
    with transaction.atomic():
        deleted = CalendarFeed.objects.filter(user=actor).delete()[0] > 0
        if deleted:
            audit.record(actor, "calendar_feed.revoked", actor)
    return deleted


# --- Fetching ---------------------------------------------------------------------------------


def open_feed(token: str) -> CalendarFeed:
    """The feed the token names, if its owner is active; otherwise the refusal is audited
    and the answer is a 404, whatever the reason."""
    feed = (
        CalendarFeed.objects.select_related("user__membership__organisation")
        .filter(token=token)
        .first()
    )
    if feed is None:
        # Never the token itself: an unknown one may be a mistyped real one.
        audit.record(None, "calendar_feed.refused", reason="unknown_or_revoked_token")
        raise Http404
    if not feed.user.is_active:
        membership = getattr(feed.user, "membership", None)
        audit.record(
            None,
            "calendar_feed.refused",
            feed.user,
            organisation=membership.organisation if membership else None,
            reason="inactive_user",
        )
        raise Http404
    return feed


def calendar_for(feed: CalendarFeed, *, base_url: str, now: datetime.datetime | None = None) -> str:
    """The owner's calendar as RFC 5545 text: the due dates they may see today."""
    now = now or timezone.now()
    return render(events_for(feed.user, base_url=base_url), now=now)


def events_for(user, *, base_url: str) -> list[Event]:
    """Due dates of milestones and deliverables, and project ends, of the projects the user
    may see (cancelled ones have no schedule left), in three queries."""
    base_url = base_url.rstrip("/")
    host = urlsplit(base_url).hostname or "portal"
    projects = access.visible_to(user, Project.objects.exclude(status=ProjectStatus.CANCELLED))
    events = []
    for project in projects:
        events.append(
            Event(
                uid=f"project-{project.pk}-end@{host}",
                date=project.end_date,
                summary=f"{project.acronym} ends",
                description=f"{project.title}\nStatus: {project.get_status_display().lower()}.",
                url=base_url + project.get_absolute_url(),
            )
        )
    for model in (Milestone, Deliverable):
        items = model.objects.filter(project__in=projects).select_related("project", "work_package")
        for item in items:
            events.append(_item_event(item, host=host, base_url=base_url))
    events.sort(key=lambda event: (event.date, event.summary))
    return events


def render(events: list[Event], *, now: datetime.datetime) -> str:
    """VCALENDAR text with one VEVENT per event, CRLF line ends and folded lines."""
    stamp = _utc_stamp(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(settings.PORTAL_NAME)}//Project due dates//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(settings.PORTAL_NAME + ': due dates')}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{event.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.date + datetime.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"DESCRIPTION:{escape_text(event.description)}",
            f"URL:{event.url}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line so no physical line exceeds 75 octets (RFC 5545 3.1); each
    continuation starts with one space, and no UTF-8 character is split."""
    if len(line.encode()) <= MAX_LINE_OCTETS:
        return line
    parts, current, size = [], [], 0
    for char in line:
        octets = len(char.encode())
        if size + octets > MAX_LINE_OCTETS:
            parts.append("".join(current))
            current, size = [], 1  # the continuation's leading space
        current.append(char)
        size += octets
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


# --- Helpers --------------------------------------------------------------------------------


def _item_event(item, *, host: str, base_url: str) -> Event:
    project = item.project
    kind = "milestone" if isinstance(item, Milestone) else "deliverable"
    lines = [
        f"{kind.capitalize()} {item.code} of {project.acronym}: {item.title}",
        f"Project: {project.title}",
        f"Work package: WP{item.work_package.number} {item.work_package.title}",
        f"Status: {item.get_status_display().lower()}.",
    ]
    if item.slip_days:
        lines.append(f"Baseline: {item.baseline_due_date:%d %B %Y} ({item.slip_days:+d} days).")
    return Event(
        uid=f"{kind}-{item.pk}@{host}",
        date=item.due_date,
        summary=f"{project.acronym} {item.code} due: {item.title}",
        description="\n".join(lines),
        url=base_url + project.get_absolute_url(),
    )


def _utc_stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _require_active(actor) -> None:
    if not (actor and actor.is_authenticated and actor.is_active):
        raise PermissionDenied(gettext("Sign in first."))
