"""Notices to people: an in-app notification, and the same text by email after commit.

A notice is unread until its person opens it (through `portal:notification-open`, which marks
it read and goes to its link) or marks it read; its kind's first word (`agreement.`,
`project.`, `resource.`, `intel.`) is what the notification list's topics filter on.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext

from portal.models import Notification


def notify(
    users: Iterable, *, kind: str, title: str, body: str = "", url: str = "", actor=None
) -> int:
    """Notify each active user once, except the actor: nobody is told of what they did
    themselves. The emails leave only if the transaction commits."""
    actor_pk = getattr(actor, "pk", None)
    recipients = {
        user.pk: user for user in users if user.is_active and user.pk != actor_pk
    }.values()
    Notification.objects.bulk_create(
        Notification(user=user, kind=kind, title=title[:200], body=body, url=url)
        for user in recipients
    )
    addresses = [user.email for user in recipients if user.email]
    if addresses:
        link = f"{settings.PORTAL_BASE_URL}{url}" if url.startswith("/") else url
        message = f"{body}\n\n{link}".strip()
        transaction.on_commit(
            lambda: [
                send_mail(
                    f"{settings.PORTAL_NAME}: {title}", message, None, [address], fail_silently=True
                )
                for address in addresses
            ]
        )
    return len(recipients)


def unread_count(request) -> int:
    """The signed-in person's unread notifications, counted once per request."""
    if not hasattr(request, "_unread_notifications"):
        user = request.user
        request._unread_notifications = (
            user.notifications.filter(read_at__isnull=True).count() if user.is_authenticated else 0
        )
    return request._unread_notifications


def unread_badge(request, kind: str) -> str:
    """The count the top bar shows beside the menu button ("menu") or the notifications link
    ("notices"), or nothing when all is read."""
    count = unread_count(request)
    if not count:
        return ""
    label = gettext("unread notifications") if kind == "menu" else gettext("unread")
    return format_html(
        ' <span class="count">{}<span class="visually-hidden"> {}</span></span>', count, label
    )
