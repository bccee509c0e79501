"""The dashboard's cards. Each app registers providers; a provider answers one role's
question ("what awaits my signature?") for the signed-in user, through the access layer."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Card:
    title: str
    template: str
    items: list = field(default_factory=list)
    empty_text: str = ""
    more_url: str = ""
    #: Show how many items the card lists (off where the items are rows of a summary).
    counted: bool = True


Provider = Callable[[object], Card | None]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    _providers.append(provider)
    return provider


def cards_for(user) -> list[Card]:
    return [card for provider in _providers if (card := provider(user)) is not None]
