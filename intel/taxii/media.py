"""TAXII 2.1 media types: what a client may ask for (Accept) and send (Content-Type)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"


class TaxiiRenderer(JSONRenderer):
    """Every TAXII 2.1 answer, envelopes and errors included, is application/taxii+json."""

    media_type = TAXII_21
    format = "taxii"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, Envelope):
            return data.render()
        return super().render(data, accepted_media_type, renderer_context)


@dataclass(frozen=True)
class Envelope:
    """A TAXII envelope of objects that are JSON text already (as stored), written around
    them: a page of 500 objects is neither parsed nor dumped again."""

    more: bool
    next: str | None
    objects: list[str]

    def render(self) -> bytes:
        head = {"more": self.more} | ({"next": self.next} if self.next else {})
        text = json.dumps(head, separators=(",", ":"))
        if self.objects:
            text = f'{text[:-1]},"objects":[{",".join(self.objects)}]}}'
        return text.encode()


class TaxiiNegotiation(BaseContentNegotiation):
    """Answers only clients that accept TAXII 2.1 (or anything); others get a 406."""

    def select_parser(self, request, parsers):
        return None  # a POST body is read by the view itself, after its checks

    def select_renderer(self, request, renderers, format_suffix=None):
        if not accepts_taxii(request.META.get("HTTP_ACCEPT", "")):
            raise NotAcceptable()
        return renderers[0], renderers[0].media_type


def accepts_taxii(header: str) -> bool:
    """Whether an Accept header admits application/taxii+json;version=2.1.

    No header, */* and application/* admit it; application/taxii+json without a version is
    read as the current version, 2.1. Another version (2.0) is refused.
    """
    if not header.strip():
        return True
    for part in header.split(","):
        media, params = parse(part)
        if not media:
            continue
        try:
            if float(params.pop("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        if media in ("*/*", "application/*"):
            return True
        if media == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def is_taxii_content(header: str) -> bool:
    """Whether a Content-Type is exactly TAXII 2.1 (a charset parameter aside)."""
    media, params = parse(header or "")
    return media == "application/taxii+json" and params.get("version") == "2.1"


def parse(value: str) -> tuple[str, dict[str, str]]:
    """A media type (lower case) and its parameters, from one Accept or Content-Type item."""
    media, *rest = value.split(";")
    params = {}
    for item in rest:
        name, _, val = item.partition("=")
        params[name.strip().lower()] = val.strip().strip('"').lower()
    return media.strip().lower(), params
