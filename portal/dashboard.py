"""The dashboard's cards. Each app registers providers; a provider answers one role's
question ("what awaits my signature?") for the signed-in user, through the access layer.

A card's count is what it counted, not what it shows: it lists at most `MAX_ITEMS` rows,
each a link to the item itself, and its `more_url` opens a list filtered to exactly what it
counted, whose rows number `link_count` (the same as `count` unless the card counts items and
the list shows the projects holding them, as its link says). Each provider runs a fixed number
of queries, however many rows there are.

Cards come role first (the reviewer's queue, the signatory's signatures, the manager's work,
the admin's), and the cards with nothing in them go last, folded away by the template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet

MAX_ITEMS = 10

#: The order of each role's job on the dashboard; a card of no role (every member's) comes
#: after the roles' cards.
ROLE_ORDER = ("reviewer", "signatory", "programme_manager", "org_admin", "")


@dataclass
class Card:
    title: str
    template: object
    items: list = field(default_factory=list)
    empty_text: str = ""
    more_url: str = ""
    #: What the card counted; None for a card of figures rather than rows (portfolio health).
    count: int | None = None
    #: The rows at more_url, when they are not the counted items themselves (the projects
    #: holding them, for instance); the link's label says which.
    link_count: int | None = None
    more_label: str = ""
    #: Whose job the card answers (a Role value, or "" for every member).
    role: str = ""
    #: The card's id on the page (its provider's name), set by cards_for.
    slug: str = ""

    def __post_init__(self) -> None:
        if self.link_count is None:
            self.link_count = self.count

    @property
    def is_empty(self) -> bool:
        return not self.items

    @property
    def counted(self) -> bool:
        return self.count is not None


Provider = Callable[[object], Card | None]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    _providers.append(provider)
    return provider


def cards_for(user) -> list[Card]:
    """The user's cards: the ones with something in them first, each role's in turn."""
    cards = []
    for provider in _providers:
        card = provider(user)
        if card is not None:
            card.slug = card.slug or provider.__name__.removesuffix("_card").replace("_", "-")
            cards.append(card)
    return sorted(cards, key=lambda card: (card.is_empty, ROLE_ORDER.index(card.role)))


def first_rows(queryset: QuerySet, limit: int = MAX_ITEMS) -> tuple[list, int]:
    """The first `limit` rows and how many there are in all, in one query when they fit."""
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, len(rows)
    return rows[:limit], queryset.order_by().count()
