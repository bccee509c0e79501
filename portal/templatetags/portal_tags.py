"""Template helpers shared by every app: sanitised Markdown, TLP and status badges, and the
messages shown next to the item they are about."""

import functools

from django import template
from django.utils.html import format_html
from django.utils.text import slugify

from portal import feedback, list_cache, notifications
from portal import markdown as portal_markdown
from portal.vocabulary import TLP

register = template.Library()


@register.filter
def markdown(text: str):
    """Render Markdown with every raw HTML tag and script neutralised."""
    return portal_markdown.render(text)


@register.simple_tag
def tlp_badge(value: str):
    """A TLP 2.0 label in FIRST's colours (the CSS carries them)."""
    return _tlp_badge(value)


@functools.cache
def _tlp_badge(value: str):
    # FIRST's labels are not translated, so a badge is the same for every row and language.
    label = dict(TLP.choices).get(value, value)
    return format_html('<span class="tlp tlp-{}">{}</span>', value.replace("_", "-"), label)


@register.simple_tag
def status_badge(status: str, label: str = ""):
    """A status badge: the machine value picks its colour, the label is what people read.
    A tag rather than an included template: lists show one on every row."""
    return format_html('<span class="badge badge-{}">{}</span>', slugify(status), label or status)


@register.simple_tag(takes_context=True)
def unread_badge(context, kind: str):
    """The unread notifications' count of the top bar (portal.notifications.unread_badge); a
    hole while a page to keep is rendered, since the count is not the page's."""
    if list_cache.building_page():
        return list_cache.hole(f"unread-{kind}")
    return notifications.unread_badge(context["request"], kind)


@register.filter
def unanchored(messages):
    """The messages about the whole page: those tagged for an item are shown next to it."""
    return [message for message in messages if not feedback.anchor_of(message)]


@register.simple_tag(takes_context=True)
def messages_at(context, *parts):
    """The messages tagged (portal.feedback.at) for the element whose id joins `parts` with
    "-": `{% messages_at "milestone" item.pk as here %}`."""
    anchor = "-".join(str(part) for part in parts)
    return [m for m in context.get("messages", ()) if feedback.anchor_of(m) == anchor]
