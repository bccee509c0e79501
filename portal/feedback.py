"""Messages shown where the eye is.

A view that acts on one item of a long page sends the person back to that item (a redirect to
`page#anchor`). Its message would then sit at the top of the page, out of sight, so it is
tagged with the anchor instead: the page renders it next to the item
(`{% messages_at anchor %}` in portal_tags) and leaves it out of the messages at the top.

    messages.success(request, "Review recorded.", extra_tags=feedback.at("milestone-4"))
    return feedback.redirect_to(project, "milestone-4")
"""

from __future__ import annotations

from django.shortcuts import redirect, resolve_url

#: The extra tag that names the anchor a message belongs to.
PREFIX = "at:"


def at(anchor: str) -> str:
    """The `extra_tags` value that shows a message next to the element with this id."""
    return f"{PREFIX}{anchor}" if anchor else ""


def anchor_of(message) -> str:
    """The anchor a message is shown at, or "" for a message of the whole page."""
    for tag in (message.extra_tags or "").split():
        if tag.startswith(PREFIX):
            return tag[len(PREFIX) :]
    return ""


def redirect_to(to, anchor: str = "", *args, **kwargs):
    """Redirect to an object, URL name or URL, and to the anchor on it when one is given."""
    url = resolve_url(to, *args, **kwargs)
    return redirect(f"{url}#{anchor}" if anchor else url)
