"""Streaming CSV exports (access reports, audit logs) that a spreadsheet opens safely."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from django.db.models import QuerySet

#: A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def stream(
    header: list[str],
    queryset: QuerySet,
    rows: Callable[[list], Iterable[Iterable]],
    *,
    batch: int = 2000,
) -> Iterator[str]:
    """CSV text, the header then one line per row, for a StreamingHttpResponse.

    `rows` turns one batch of the queryset into rows of cell values, so it can look up what
    the batch refers to in one query; the whole export never sits in memory.
    """
    writer = csv.writer(_LineBuffer())
    yield writer.writerow(header)
    iterator = queryset.iterator(chunk_size=batch)
    while chunk := list(islice(iterator, batch)):
        for row in rows(chunk):
            yield writer.writerow([safe_cell(value) for value in row])


class _LineBuffer:
    """csv.writer writes into this and gets the line back, so lines can be streamed."""

    def write(self, value: str) -> str:
        return value
