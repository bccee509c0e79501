"""Notices to people: an in-app notification, and the same text by email after commit.

A notice is unread until its person opens it (through `portal:notification-open`, which marks
it read and goes to its link) or marks it read; its kind's first word (`agreement.`,
`project.`, `resource.`, `intel.`) is what the notification list's topics filter on.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

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
