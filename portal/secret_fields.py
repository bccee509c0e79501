"""Which model fields hold secrets, found by walking the models, and which lookups reach one.

A secret is anything that, once known, lets someone act as another person or read what they
may read: session keys and session data, API token keys, password hashes, TOTP secrets and
recovery-code seeds, calendar feed tokens, email confirmation keys. Nobody may list, filter,
search, order by or display one in the admin site (portal.admin_site enforces it), because
even a yes/no answer to "does it start with ab?" gives the whole secret away, one character at
a time.

No list is kept by hand. Every installed model is walked (`apps.get_models()`), and a concrete,
non-relational field is a secret when any of these holds:

1. **Its name says so.** One of the words of its name (split on anything but letters) is in
   `SECRET_WORDS`: `password`, `session_key`, `key`, `token`, `totp_secret`, `recovery_codes`,
   `api_key_hash` ... are all caught.
2. **It is the payload of a credential store.** A model whose class name has a word in
   `CREDENTIAL_MODEL_WORDS` (`Session`, `UserSession`, `Token`, `Authenticator` ...) stores
   credentials, and each of its fields that can carry free content is a secret; only its
   relations, an automatic primary key, dates and times, booleans and fields with fixed
   choices are not. That is how allauth's `Authenticator.data`, which holds TOTP secrets and
   recovery-code seeds under a name that says nothing, is caught.
3. **The project marks it**, for a secret whose name and model give no hint:
   `shared_material = secret(models.BinaryField())`.

The rules err towards secrecy (a `public_key`, or a session's browser name, is caught too):
staff never need to filter by such a field, and a miss would cost a partner their account.

A relation is not a secret itself, but a lookup that ends on one compares the field it points
at: `auth_token__gt=abc` compares `Token.key`, the token's primary key. So a lookup path
*reaches* a secret when any field on the path is one, or when it ends on a relation whose
compared field is one.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields import AutoFieldMixin

SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "otp",
        "totp",
        "hotp",
        "recovery",
        "credential",
        "credentials",
        "salt",
        "nonce",
        "seed",
    }
)
CREDENTIAL_MODEL_WORDS = frozenset(
    {"session", "token", "authenticator", "credential", "secret", "key", "otp", "totp"}
)
#: Field kinds that cannot carry a secret in a credential store (rule 2).
_NOT_PAYLOAD = (
    models.DateField,  # and DateTimeField
    models.TimeField,
    models.DurationField,
    models.BooleanField,
)
_MARK = "portal_secret"


def secret(field: models.Field) -> models.Field:
    """Mark a model field as a secret (rule 3); returns the field, to use in a model body."""
    setattr(field, _MARK, True)
    return field


def is_secret(field) -> bool:
    """Whether a model field holds a secret, by the three rules of this module."""
    if getattr(field, _MARK, False):
        return True
    if field.is_relation or not getattr(field, "concrete", False):
        return False
    if name_says_secret(field.name):
        return True
    model = getattr(field, "model", None)
    return model is not None and is_credential_store(model) and _is_payload(field)


def name_says_secret(name: str) -> bool:
    """Whether a name has a secret word in it (rule 1), for names that are no model field."""
    return bool(_words(name) & SECRET_WORDS)


def is_credential_store(model) -> bool:
    """Whether a model's name says it stores credentials (rule 2)."""
    return bool(_words(model._meta.object_name) & CREDENTIAL_MODEL_WORDS)


def all_secret_fields() -> list[models.Field]:
    """Every secret field of every installed model, proxies included, in a stable order."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if is_secret(field):
                found.setdefault(label(field), field)  # a proxy shares its model's fields
    return [found[name] for name in sorted(found)]


def label(field) -> str:
    """`app_label.model.field` of a field, as the tests and error messages name it."""
    return f"{field.model._meta.label_lower}.{field.name}"


def secret_reached(model, path: str):
    """The secret field a lookup path from model reaches (`user__auth_token__key__startswith`,
    `session_key`, `auth_token__gt`, `pk`), or None when it reaches none."""
    opts, field = model._meta, None
    for part in path.split(LOOKUP_SEP):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            break  # the rest are lookups and transforms on the last field
        if is_secret(field):
            return field
        if not field.is_relation or field.related_model is None:
            return None  # what follows transforms a plain value; it reaches nothing else
        opts = field.related_model._meta
    if field is not None and field.is_relation:
        compared = compared_field(field)
        if compared is not None and is_secret(compared):
            return compared
    return None


def compared_field(relation):
    """The field a filter on the relation itself compares: its target on the far side."""
    if relation.related_model is None:  # a generic foreign key: not queryable
        return None
    try:
        return relation.target_field
    except (AttributeError, FieldDoesNotExist):
        return relation.related_model._meta.pk


def paths_to_secrets(model, max_depth: int = 4) -> list[tuple[object, str]]:
    """Every lookup path from model that reaches a secret through at most max_depth relations
    (never through the same model twice), with the secret field it reaches:
    [(Token.key, "auth_token__key"), (Token.key, "auth_token"), (User.password, "password"), ...].
    """
    found = []
    _walk_to_secrets(model, "", max_depth, (model,), found)
    return found


def _walk_to_secrets(model, prefix: str, depth: int, chain: tuple, found: list) -> None:
    for field in model._meta.get_fields():
        path = prefix + field.name
        if is_secret(field):
            found.append((field, path))
            continue
        if not field.is_relation or field.related_model is None:
            continue
        compared = compared_field(field)
        if compared is not None and is_secret(compared):
            found.append((compared, path))  # a filter on the relation compares the secret
        if depth > 1 and field.related_model not in chain:
            chain_on = (*chain, field.related_model)
            _walk_to_secrets(field.related_model, path + LOOKUP_SEP, depth - 1, chain_on, found)


def _words(name: str) -> set[str]:
    # CamelCase model names and snake_case field names alike: "UserSession" -> user, session.
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return {word for word in re.split(r"[^a-z]+", spaced.lower()) if word}


def _is_payload(field) -> bool:
    if field.primary_key and isinstance(field, AutoFieldMixin):
        return False
    if field.choices:
        return False
    return not isinstance(field, _NOT_PAYLOAD)
