"""The portal's Ed25519 signing key: what lets partners check our evidence without trusting us.

The private key is loaded once per process, from `PORTAL_SIGNING_KEY` (PEM text) or from the
file `PORTAL_SIGNING_KEY_FILE`. Every app server behind the load balancer must use the same
key, and partners compare its id with the published one, so production configures it; a key is
generated on first use only in development and tests.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

#: How many hex characters of the SHA-256 fingerprint make a key id (64 bits): enough for a
#: person to compare by eye; the full key is what actually verifies.
KEY_ID_LENGTH = 16


@functools.cache
def private_key() -> Ed25519PrivateKey:
    """The portal's private key, loaded (or, in development, generated) once per process."""
    pem = (settings.PORTAL_SIGNING_KEY or "").strip()
    if pem:
        # An environment variable often carries the PEM's newlines escaped as "\n".
        return _load_private_pem(pem.replace("\\n", "\n").encode(), "PORTAL_SIGNING_KEY")
    path = Path(settings.PORTAL_SIGNING_KEY_FILE)
    if path.exists():
        return _load_private_pem(path.read_bytes(), str(path))
    if settings.DEBUG or settings.PORTAL_SIGNING_KEY_AUTOGENERATE:
        return _generate(path)
    raise ImproperlyConfigured(
        "The portal has no evidence signing key. Set PORTAL_SIGNING_KEY to an Ed25519 private "
        f"key in PEM form, or put one in {path} (PORTAL_SIGNING_KEY_FILE), e.g. with "
        "`openssl genpkey -algorithm ed25519`. Every app server needs the same key."
    )


def public_key_pem() -> str:
    """The portal's public key as PEM text (SubjectPublicKeyInfo), the form partners pin."""
    return _public_pem(private_key().public_key())


def key_id(public_key_pem: str | None = None) -> str:
    """The id of a public key (the portal's own by default): the first 16 hex characters of
    SHA-256 over the raw 32-byte Ed25519 public key. Raises ValueError for an unusable key."""
    public = (
        private_key().public_key() if public_key_pem is None else load_public_key(public_key_pem)
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def sign(data: bytes) -> str:
    """The portal's Ed25519 signature over data, base64-encoded."""
    return base64.b64encode(private_key().sign(data)).decode("ascii")


def canonical_bytes(document: dict) -> bytes:
    """The one byte form of a JSON document that the portal signs: sorted keys, compact
    separators, no ASCII escaping, UTF-8 (the form evidence bundles sign their payload in)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def verify(public_key_pem: str, data: bytes, signature_b64: str) -> bool:
    """True only if signature_b64 is a valid signature of data by that key; never raises."""
    try:
        public = load_public_key(public_key_pem)
        signature = base64.b64decode(signature_b64, validate=True)
        public.verify(signature, data)
    except (ValueError, TypeError, binascii.Error, InvalidSignature):
        return False
    return True


def load_public_key(public_key_pem: str) -> Ed25519PublicKey:
    """Parse PEM text as an Ed25519 public key; ValueError with a clear message otherwise."""
    try:
        public = serialization.load_pem_public_key(public_key_pem.encode())
    except (ValueError, TypeError, AttributeError) as error:
        raise ValueError("it is not a public key in PEM form") from error
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("it is not an Ed25519 public key")
    return public


def _load_private_pem(pem: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"The evidence signing key in {source} is not an unencrypted PEM private key."
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"The evidence signing key in {source} is not an Ed25519 key.")
    return key


def _generate(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a private (0600) temporary file, then link it into place: the link fails if the
    # file exists, so when two processes start at once both end up with the first one's key,
    # and nobody ever reads a half-written file.
    fd, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    temporary = Path(temporary_name)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return _load_private_pem(path.read_bytes(), str(path))
    finally:
        temporary.unlink()
    return key


def _public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@receiver(setting_changed)
def _forget_key_when_settings_change(*, setting, **kwargs) -> None:
    # override_settings in tests must not keep signing with the key of the previous settings.
    if setting.startswith("PORTAL_SIGNING_KEY") or setting == "DEBUG":
        private_key.cache_clear()
