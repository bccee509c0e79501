"""Identifiers that count nothing: random primary keys and agreement references.

A sequential id in an address or an API answer tells whoever sees it how many objects of
that kind the whole portal holds, and how fast other nations create them. Every model of our
apps therefore takes a random primary key, through the apps' `default_auto_field`, so a new
model is covered without anyone remembering it.
"""

from __future__ import annotations

import secrets

from django.db import models

#: New ids lie in [MIN_ID, MAX_ID). Below 2**53, so JavaScript clients of the API read them
#: exactly; from 2**32, so they never meet the small sequential ids of rows created before,
#: and a new id never looks like a count.
MIN_ID = 2**32
MAX_ID = 2**53

#: Crockford's base32: digits and capitals without I, L, O and U, which read as 1, 0 or V.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> int:
    """A uniformly random id in [MIN_ID, MAX_ID), from the operating system's CSPRNG."""
    return MIN_ID + secrets.randbelow(MAX_ID - MIN_ID)


def random_code(groups: int = 2, size: int = 4) -> str:
    """Random Crockford base32 groups joined by dashes, e.g. 7KQ3-M9XD (5 bits a character)."""
    return "-".join("".join(secrets.choice(CROCKFORD) for _ in range(size)) for _ in range(groups))


class RandomIdField(models.BigAutoField):
    """A primary key given a random value on creation, by `new_id`.

    It is an AutoField to Django, so an app may name it as its `default_auto_field`, and a
    plain bigint to the database, with no sequence behind it: a row inserted without an id
    fails, instead of quietly taking the next number.

    Two ids collide with a probability of about n / 2**53 per insert for a table of n rows;
    the insert then fails on the primary key, never overwrites (Django inserts a new object
    whose key has a default without trying an UPDATE first).
    """

    description = "Random 53-bit integer"

    def __init__(self, *args, **kwargs):
        kwargs["default"] = new_id
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("default", None)  # always new_id: __init__ sets it
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        # The column of a BigIntegerField: bigint without IDENTITY (PostgreSQL) or
        # AUTOINCREMENT (SQLite).
        return "BigIntegerField"


def has_random_ids(model: type[models.Model]) -> bool:
    """Whether the model's ids are random, so that showing one reveals no count."""
    return isinstance(model._meta.pk, RandomIdField)
