"""Pagination that counts a list only up to a cap.

An exact count of what a user can see costs as much as reading all of it: at national scale
a library holds hundreds of thousands of visible rows, and counting them was most of a list
page's time, growing with the data. Past the cap the list says "more than 1,000" and pages
on by Previous and Next, which needs only one row beyond the page.

Counting reads the keys of the first rows rather than `COUNT(*)`. Below the cap those keys
are every matching row, and the page is then read among them: a filter that matches a few
rows of a million (AMBER reports, for an organisation granted a handful) is then found from
those keys, where the newest-first index walk PostgreSQL would otherwise choose reads the
whole table to fill a page that never fills (1.3 s at national scale).
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

from portal import lookups  # noqa: F401  (registers `__any`)

#: Lists are counted exactly up to this many rows.
COUNT_CAP = 1000
#: The deepest page anyone may ask for; deeper offsets only cost the database (and a page
#: number beyond 64 bits would not even reach it).
MAX_PAGE = 4000


class CappedPaginator(Paginator):
    """`parts`, when given, are disjoint querysets whose union is object_list (as from
    `access.visible_parts`); the keys are read part by part, each with a plan of its own."""

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, parts=None, walk=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.parts = [object_list] if parts is None else parts
        #: Makes the same rows as object_list, decided row by row (`access.visible_walk`):
        #: a page past the cap reads them along the list's order, with no set of keys to
        #: build. A callable, so that a list that is counted never builds it.
        self.make_walk = walk or (lambda: object_list)
        if any(part.model is not object_list.model for part in self.parts):
            raise ValueError("the parts of a list must be of the list's own rows")

    @cached_property
    def head(self) -> list:
        """The keys of the first cap + 1 matching rows, in no particular order."""
        keys: list = []
        for part in self.parts:
            wanted = self.cap + 1 - len(keys)
            if wanted <= 0:
                break
            keys += part.order_by().values_list("pk", flat=True)[:wanted]
        return keys

    @cached_property
    def count(self) -> int:
        """The number of rows, or cap + 1 when there are more than cap."""
        return len(self.head)

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        # Past the cap the last page is not known; this is the last one the count reaches.
        return super().num_pages if not self.is_capped else -(-self.cap // self.per_page)

    def validate_number(self, number) -> int:
        if not self.is_capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1 or number > MAX_PAGE:
            raise EmptyPage("That page contains no results")
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.is_capped:
            among_head = self.object_list.filter(pk__any=self.head)
            return self._get_page(among_head[bottom : bottom + self.per_page], number, self)
        walk = self.make_walk()
        if walk.model is not self.object_list.model:
            raise ValueError("the walk of a list must be of the list's own rows")
        rows = list(walk[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CappedPage(Page):
    """A page past the count's cap: whether a next page exists is known from one extra row."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)
