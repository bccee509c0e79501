"""Pagination that counts a list only up to a cap, and pages on from the row it stopped at.

An exact count of what a user can see costs as much as reading all of it: at national scale
a library holds hundreds of thousands of visible rows, and counting them was most of a list
page's time, growing with the data. Past the cap the list says "more than 1,000" and pages
on by Previous and Next, which needs only one row beyond the page.

Counting reads the keys of the first rows rather than `COUNT(*)`. Below the cap those keys
are every matching row, and the page is then read among them: a filter that matches a few
rows of a million (AMBER reports, for an organisation granted a handful) is then found from
those keys, where the newest-first index walk PostgreSQL would otherwise choose reads the
whole table to fill a page that never fills (1.3 s at national scale).

Previous and Next carry a cursor rather than a page number (keyset pagination): the next
page is the rows strictly after this page's last row in the list's order, `(sort value, pk)`,
so it is the first page's query plus one condition that an index walk starts from, with no
OFFSET: page 200 costs what page 1 costs. `?page=N` alone still pages by offset, for old
links. The cursor is the boundary row's sort values and key, encrypted and authenticated
with a key derived from SECRET_KEY (`Keyset.token`): a URL, and the server logs that keep it,
never show a title or a name, and a cursor cannot be forged or altered. It only narrows the
list it is applied to, which the access layer has already filtered, so it can never show a
row outside the user's grants; a cursor that cannot be read raises `InvalidPage`, and the
list views answer it with the list's first page and a message (portal.base_views).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import math
import uuid
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import EmptyPage, InvalidPage, Page, PageNotAnInteger, Paginator
from django.db.models import F, Field, OrderBy, Q, QuerySet
from django.db.models.query import ModelIterable
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property

from portal import lookups  # noqa: F401  (registers `__any`)

#: Lists are counted exactly up to this many rows.
COUNT_CAP = 1000
#: The deepest page anyone may ask for by number; deeper offsets only cost the database (and
#: a page number beyond 64 bits would not even reach it). Cursors go on past it.
MAX_PAGE = 4000
#: A page number carried beside a cursor is only a label; it stays a sane integer.
MAX_LABEL = 10**9
#: Longer than any cursor of real values (a few hundred characters); anything longer is junk.
MAX_TOKEN = 4096
#: Parameters that say where a page starts, dropped from links that start the list anew.
PAGE_PARAMS = ("page", "after", "before")


class InvalidCursor(InvalidPage):
    """A cursor that cannot be read: malformed, altered, made for another order, or stale."""


class KeysetPaginatorMixin:
    """Pages that start after (or end before) a row, for any paginator over a queryset ordered
    by fields or annotations ending in the primary key. `keyset` is None for other lists,
    which then page by number only."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        self.keyset = Keyset.of(object_list) if isinstance(object_list, QuerySet) else None
        if self.keyset is not None:
            object_list = self.keyset.ordered(object_list)
        super().__init__(object_list, per_page, *args, **kwargs)

    def cursor_page(self, token, *, backwards: bool = False, number=None) -> Page:
        """The page after the cursor's row (before it, when `backwards`), labelled `number`.
        Raises InvalidPage for a cursor that cannot be read or a page with no rows."""
        if self.keyset is None:
            raise InvalidCursor("This list does not page by cursor")
        values = self.keyset.read(token)
        number = self._label(number)
        rows_after = self._page_source().filter(self.keyset.beyond(values, backwards=backwards))
        if backwards:
            rows_after = rows_after.reverse()
        rows = list(rows_after[: self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows:
            raise EmptyPage("That page contains no results")
        if backwards:
            rows.reverse()
            # Nothing before it: this is the first page, whatever the link called it.
            return KeysetPage(rows, number if more else 1, self, previous=more, next=True)
        return KeysetPage(rows, max(number, 2), self, previous=True, next=more)

    def _page_source(self) -> QuerySet:
        """The rows a page is read from: the list itself, unless a subclass knows better."""
        return self.object_list

    def _label(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise InvalidCursor("That page number is not an integer") from None
        if not 1 <= number <= MAX_LABEL:
            raise InvalidCursor("That page number is out of range")
        return number

    def _get_page(self, *args, **kwargs) -> Page:
        return KeysetPage(*args, **kwargs)


class CappedPaginator(KeysetPaginatorMixin, Paginator):
    """`parts`, when given, are disjoint querysets whose union is object_list (as from
    `access.visible_parts`); the keys are read part by part, each with a plan of its own."""

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, parts=None, walk=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.parts = [self.object_list] if parts is None else parts
        #: Makes the same rows as object_list, decided row by row (`access.visible_walk`):
        #: a page past the cap reads them along the list's order, with no set of keys to
        #: build. A callable, so that a list that is counted never builds it.
        self.make_walk = walk or (lambda: self.object_list)
        if any(part.model is not self.object_list.model for part in self.parts):
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
            rows = self._page_source()[bottom : bottom + self.per_page]
            return self._get_page(rows, number, self)
        rows = list(self._page_source()[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, next=len(rows) > self.per_page)

    def _page_source(self) -> QuerySet:
        """Below the cap, the rows among the counted keys; past it, the walk."""
        if not self.is_capped:
            return self.object_list.filter(pk__any=self.head)
        walk = self.make_walk()
        if walk.model is not self.object_list.model:
            raise ValueError("the walk of a list must be of the list's own rows")
        return self.keyset.ordered(walk) if self.keyset is not None else walk

    def _label(self, number) -> int:
        number = super()._label(number)
        # A counted list has a last page; a label past it (rows gone since) is the last one.
        return number if self.is_capped else min(number, max(self.num_pages, 1))


class KeysetPaginator(KeysetPaginatorMixin, Paginator):
    """Django's counted paginator, with cursor pages."""


class KeysetPage(Page):
    """A page that knows the cursors of its first and last rows. A page read after a cursor
    knows whether others come before and after it from the rows it read, not from a count."""

    def __init__(self, object_list, number, paginator, *, previous=None, next=None):
        super().__init__(object_list, number, paginator)
        self._previous, self._next = previous, next

    def has_next(self) -> bool:
        return super().has_next() if self._next is None else self._next

    def has_previous(self) -> bool:
        return super().has_previous() if self._previous is None else self._previous

    @property
    def next_cursor(self) -> str:
        """The cursor for the rows after this page, or "" when the list has no keyset."""
        keyset = getattr(self.paginator, "keyset", None)
        return keyset.token(self[len(self) - 1]) if keyset is not None and len(self) else ""

    @property
    def previous_cursor(self) -> str:
        """The cursor for the rows before this page, or "" when the list has no keyset."""
        keyset = getattr(self.paginator, "keyset", None)
        return keyset.token(self[0]) if keyset is not None and len(self) else ""


class CappedPage(KeysetPage):
    """A page past the count's cap: whether a next page exists is known from one extra row."""

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def link_queries(page: Page, query) -> dict[str, str]:
    """The query strings of the Previous and Next links of `page`, keeping the parameters of
    `query` (a QueryDict of filters, search and sort) but where the page starts: a cursor and
    the page number as its label where the list has a keyset, the page number alone if not."""
    links = {}
    for name, wanted, param, cursor, number in (
        ("previous_page_query", page.has_previous, "before", "previous_cursor", page.number - 1),
        ("next_page_query", page.has_next, "after", "next_cursor", page.number + 1),
    ):
        links[name] = ""
        if not wanted():
            continue
        link = query.copy()
        for name_of_start in PAGE_PARAMS:
            link.pop(name_of_start, None)
        link["page"] = str(max(number, 1))
        token = getattr(page, cursor, "")  # a plain Django page has none: by number, then
        if token:
            link[param] = token
        links[name] = link.urlencode()
    return links


# --- The order of a list, and cursors in it --------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One column of a list's order: a field, an annotation or a lookup through a to-one
    relation, with where its NULLs go (`nulls_last`, in the list's own direction)."""

    name: str
    descending: bool
    nulls_last: bool
    nullable: bool
    field: Field
    #: Read from the row itself; otherwise the page selects it as `keyset_<n>`.
    attribute: str | None

    def order(self):
        if not self.nullable:
            return f"-{self.name}" if self.descending else self.name
        # Explicit, so that SQLite puts NULLs where PostgreSQL does (they sort as the largest
        # value there): the same rows come in the same order on both, and the cursor agrees.
        return OrderBy(
            F(self.name),
            descending=self.descending,
            nulls_first=None if self.nulls_last else True,
            nulls_last=True if self.nulls_last else None,
        )


class Keyset:
    """A total order of a list, (terms..., pk), and the cursors of its rows."""

    def __init__(self, model, terms: tuple[Term, ...]):
        self.terms = terms
        shape = [model._meta.label_lower] + [[t.name, t.descending, t.nulls_last] for t in terms]
        #: A cursor made for another list or another order is refused, not misread.
        self.fingerprint = hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:12]

    @classmethod
    def of(cls, queryset: QuerySet) -> Keyset | None:
        """The keyset of a queryset's ordering, or None if it is not a total order of plain
        columns ending in the primary key (random, raw SQL, expressions, to-many lookups)."""
        query = queryset.query
        if queryset._iterable_class is not ModelIterable or query.combinator or query.is_sliced:
            return None
        if query.extra_order_by:
            return None
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        terms, names = [], set()
        for item in ordering:
            term = _term(queryset, item)
            if term is None:
                return None
            if term.name in names:
                continue
            names.add(term.name)
            terms.append(term)
            if term.name == "pk":  # the order is total here: what follows never decides
                return cls(queryset.model, tuple(terms))
        return None

    def ordered(self, queryset: QuerySet) -> QuerySet:
        """The queryset in this order, selecting the values the rows do not carry."""
        related = {
            f"keyset_{n}": F(term.name)
            for n, term in enumerate(self.terms)
            if term.attribute is None
        }
        if related:
            queryset = queryset.annotate(**related)
        return queryset.order_by(*(term.order() for term in self.terms))

    def values(self, row) -> list:
        return [getattr(row, term.attribute or f"keyset_{n}") for n, term in enumerate(self.terms)]

    def token(self, row) -> str:
        """The cursor of a row: its sort values and key, encrypted and authenticated."""
        payload = {"o": self.fingerprint, "v": [_plain(value) for value in self.values(row)]}
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return _fernet().encrypt(data).decode().rstrip("=")

    def read(self, token) -> list:
        """The values of a cursor, typed as their columns; InvalidCursor if it cannot be."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN or not token.isascii():
            raise InvalidCursor("That cursor is not valid")
        try:
            data = _fernet().decrypt(token + "=" * (-len(token) % 4))
            payload = json.loads(data)
        except (InvalidToken, ValueError, TypeError):
            raise InvalidCursor("That cursor is not valid") from None
        if not isinstance(payload, dict) or payload.get("o") != self.fingerprint:
            raise InvalidCursor("That cursor is not for this list")
        raw = payload.get("v")
        if not isinstance(raw, list) or len(raw) != len(self.terms):
            raise InvalidCursor("That cursor is not for this list")
        return [_typed(term, value) for term, value in zip(self.terms, raw, strict=True)]

    def beyond(self, values: list, *, backwards: bool = False) -> Q:
        """Rows strictly after `values` in this order (before them, when `backwards`).

        The lexicographic (a, b, pk) > (x, y, k) is spelled out column by column, since each
        column has its own direction, and led by a bound on the first column alone (a >= x),
        which an index walk on that column starts from instead of reading the rows before it.
        """
        condition, ties = None, Q()
        for term, value in zip(self.terms, values, strict=True):
            past = _past(term, value, backwards)
            if past is not None:
                condition = ties & past if condition is None else condition | (ties & past)
            ties &= _at(term, value)
        if condition is None:  # past the last row of the order: nothing comes after it
            return Q(pk__in=[])
        lead = _past(self.terms[0], values[0], backwards, inclusive=True)
        return lead & condition if lead is not None and len(self.terms) > 1 else condition


def _at(term: Term, value) -> Q:
    return Q(**{f"{term.name}__isnull": True}) if value is None else Q(**{term.name: value})


def _past(term: Term, value, backwards: bool, *, inclusive: bool = False) -> Q | None:
    """Rows whose `term` lies past `value` in the walk's direction (or at it, `inclusive`);
    None if no row can (or, `inclusive`, if every row does)."""
    descending = term.descending != backwards
    nulls_last = term.nulls_last != backwards
    if value is None:
        if inclusive:
            return Q(**{f"{term.name}__isnull": True}) if nulls_last else None
        return None if nulls_last else Q(**{f"{term.name}__isnull": False})
    lookup = ("lt" if descending else "gt") + ("e" if inclusive else "")
    past = Q(**{f"{term.name}__{lookup}": value})
    if term.nullable and nulls_last:
        past |= Q(**{f"{term.name}__isnull": True})
    return past


def _term(queryset: QuerySet, item) -> Term | None:
    """One item of order_by as a Term, or None if a cursor cannot follow it."""
    nulls_last = None
    if isinstance(item, str):
        if item == "?" or "." in item:
            return None
        descending, name = item.startswith("-"), item.lstrip("-")
    elif isinstance(item, OrderBy) and isinstance(item.expression, F):
        descending, name = item.descending, item.expression.name
        if item.nulls_first or item.nulls_last:
            nulls_last = bool(item.nulls_last)
    elif isinstance(item, F):
        descending, name = False, item.name
    else:
        return None
    resolved = _resolve(queryset, name)
    if resolved is None:
        return None
    name, field, nullable, attribute = resolved
    if nulls_last is None:
        nulls_last = not descending  # NULLs sort as the largest value, as in PostgreSQL
    return Term(name, descending, nulls_last, nullable, field, attribute)


def _resolve(queryset: QuerySet, name: str):
    """(name, field, nullable, attribute on the row or None) of an ordering name."""
    query, opts = queryset.query, queryset.model._meta
    if name in ("pk", opts.pk.name, opts.pk.attname):
        return "pk", opts.pk, False, "pk"
    if name in query.annotations:
        output = query.annotations[name].output_field
        attribute = name if name in query.annotation_select else None
        return name, output, True, attribute  # an expression may yield NULL: assume it can
    parts, nullable = name.split("__"), False
    for index, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return None
        last = index == len(parts) - 1
        if not field.is_relation:
            if not last:
                return None
            attribute = field.attname if len(parts) == 1 else None
            return name, field, nullable or field.null, attribute
        # Ordering by a relation orders by its model's ordering; a to-many one is no order.
        if last or not (field.many_to_one or field.one_to_one):
            return None
        nullable = nullable or field.null or not field.concrete
        opts = field.related_model._meta
    return None


def _plain(value):
    """A sort value as JSON."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _typed(term: Term, value):
    """A cursor's JSON value as its column's Python value, or InvalidCursor."""
    if value is None:
        if not term.nullable:
            raise InvalidCursor("That cursor is not valid")
        return None
    boolean = term.field.get_internal_type() == "BooleanField"
    if isinstance(value, dict | list) or isinstance(value, bool) != boolean:
        raise InvalidCursor("That cursor is not valid")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise InvalidCursor("That cursor is not valid")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidCursor("That cursor is not valid")
    if isinstance(value, str) and "\x00" in value:  # PostgreSQL cannot compare text with NUL
        raise InvalidCursor("That cursor is not valid")
    try:
        typed = term.field.to_python(value)
        if isinstance(typed, datetime.datetime) and settings.USE_TZ:
            if typed.tzinfo is None:
                raise InvalidCursor("That cursor is not valid")
            typed = typed.astimezone(datetime.UTC)
    except (ValidationError, ValueError, TypeError, OverflowError):
        raise InvalidCursor("That cursor is not valid") from None
    if isinstance(typed, int) and not isinstance(typed, bool) and not -(2**63) <= typed < 2**63:
        raise InvalidCursor("That cursor is not valid")
    return typed


def _fernet() -> MultiFernet:
    """Cursor keys derived from SECRET_KEY and its fallbacks: a rotated key still reads the
    cursors of links made before the rotation, for as long as it is a fallback."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(secret) for secret in secrets])


def _fernet_for(secret: str) -> Fernet:
    key = salted_hmac("portal.pagination.cursor", "", secret=secret, algorithm="sha256")
    return Fernet(base64.urlsafe_b64encode(key.digest()))
