"""Checking uploads before anything is stored: name, size, and type detected from the bytes."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from resources.models import ResourceKind

#: Signatures of executables, checked before anything else (puremagic names them vaguely).
EXECUTABLE_SIGNATURES = [
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xca\xfe\xba\xbe", "application/x-mach-binary"),
    (b"#!", "text/x-shellscript"),
]


@dataclass(frozen=True)
class CheckedFile:
    sha256: str
    size: int
    content_type: str
    original_name: str


def check_upload(upload, *, kind: str) -> CheckedFile:
    """Refuse a bad upload with a clear message; otherwise return what we know of it.

    Reads the file once, in chunks, so a large upload never sits in memory.
    """
    name = clean_name(upload.name or "")
    limit = settings.RESOURCE_MAX_UPLOAD_BYTES
    if upload.size == 0:
        raise ValidationError({"file": gettext("The file is empty.")})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": gettext("The file is %(size)s; the limit is %(limit)s.")
                % {"size": _megabytes(upload.size), "limit": _megabytes(limit)}
            }
        )
    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    content_type = detect_type(head)
    if content_type in settings.RESOURCE_DENIED_TYPES and kind != ResourceKind.TOOL:
        raise ValidationError(
            {
                "file": gettext(
                    "Files of type %(content_type)s are refused unless the resource is a tool."
                )
                % {"content_type": content_type}
            }
        )
    return CheckedFile(digest.hexdigest(), upload.size, content_type, name)


def clean_name(name: str) -> str:
    """The original file name, kept as metadata only: no paths, no control characters."""
    if not name.strip():
        raise ValidationError({"file": gettext("The file has no name.")})
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise ValidationError({"file": gettext("The file name must not contain a path.")})
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        raise ValidationError(
            {"file": gettext("The file name must not contain control characters.")}
        )
    if len(name) > 255:
        raise ValidationError({"file": gettext("The file name is longer than 255 characters.")})
    return name


def detect_type(head: bytes) -> str:
    """The content type from the first bytes, never from the name."""
    for signature, content_type in EXECUTABLE_SIGNATURES:
        if head.startswith(signature):
            return content_type
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    for match in matches:
        if match.mime_type:
            return match.mime_type
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            return "application/octet-stream"
    return "text/plain"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
