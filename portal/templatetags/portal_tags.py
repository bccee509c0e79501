"""Template helpers shared by every app: sanitised Markdown and TLP badges."""

from django import template
from django.utils.html import format_html

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
    label = dict(TLP.choices).get(value, value)
    return format_html('<span class="tlp tlp-{}">{}</span>', value.replace("_", "-"), label)
