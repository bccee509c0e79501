"""Path traversal and header tricks in upload names, through the web and the API: whatever the
name, the file lands under PRIVATE_STORAGE_ROOT with a generated name, the name kept as
metadata has no path in it, and the download's Content-Disposition is a safe file name.

Multipart bodies are built by hand: Django's test client strips paths from file names itself,
which would hide what a real attacker's client sends.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from resources import services
from resources.models import ResourceVersion
from tests.security.estate import PDF
from tests.security.support import changes, client_for, form_errors, json_message, rolled_back
from tests.security.writes import WRITES

NAMES = [
    "../../etc/passwd",
    "../../../../../../../../tmp/sec-abuse-escaped.pdf",
    "..\\..\\windows\\system32\\x.txt",
    "/abs/path.txt",
    "C:\\abs\\path.txt",
    "C:report.pdf",
    "..",
    ".",
    "evil\x00.pdf",
    "a" * 300 + ".pdf",
    "report\u202efdp.exe",
    "zero\u200bwidth.pdf",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "&#x2e;&#x2e;&#x2f;etc&#x2f;passwd",
    "..%c0%af..%c0%afetc",
    'quo"te.pdf',
    "new\r\nContent-Type: text/html.pdf",
    "semi;colon=1.pdf",
    "naïve résumé ✓.pdf",
    "CON",
    " .pdf",
]

UPLOADS = [w for w in WRITES if w.multipart]
BOUNDARY = "----SecAbuseBoundary7MA4YWxkTrZu0gW"


def _header(name: str, form: str) -> bytes:
    if form == "quoted":
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'filename="{escaped}"'.encode()
    return f"filename*=UTF-8''{quote(name, safe='')}".encode()


def _multipart(fields: dict, filename: bytes) -> bytes:
    parts = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
                + str(item).encode()
                + b"\r\n"
            )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '.encode()
        + filename
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + PDF
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def _files_on_disk() -> set[Path]:
    root = Path(settings.PRIVATE_STORAGE_ROOT)
    return {p.resolve() for p in root.rglob("*") if p.is_file()}


def _safe_name(name: str) -> bool:
    return (
        bool(name.strip())
        and name not in {".", ".."}
        and "/" not in name
        and "\\" not in name
        and not any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name)
        and len(name) <= 255
    )


def _disposition_name(header: str) -> str:
    """The file name a browser would save under, from a Content-Disposition header."""
    assert "\r" not in header and "\n" not in header, header
    assert header.startswith("attachment"), header
    extended = re.search(r"filename\*=utf-8''([^;]+)", header, re.IGNORECASE)
    if extended:
        return unquote(extended.group(1))
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"', header)
    assert plain, header
    return re.sub(r"\\(.)", r"\1", plain.group(1))


def test_uploads_go_to_the_private_root():
    root = Path(settings.PRIVATE_STORAGE_ROOT).resolve()
    assert Path(storages["private"].location).resolve() == root
    assert not str(root).startswith(str(Path(settings.STATIC_ROOT).resolve()))


@pytest.mark.parametrize("form", ["quoted", "extended"])
@pytest.mark.parametrize("write", UPLOADS, ids=str)
def test_an_upload_name_never_becomes_a_path(estate, write, form):
    client = client_for(write.user(estate), api=write.is_api)
    root = Path(settings.PRIVATE_STORAGE_ROOT).resolve()
    fields = {k: v for k, v in write.data(estate).items() if k != "file"}
    problems = []
    for name in NAMES:
        body = _multipart(fields, _header(name, form))
        with rolled_back():
            on_disk, before = _files_on_disk(), changes()
            response = client.generic(
                write.method,
                write.url(estate),
                body,
                content_type=f"multipart/form-data; boundary={BOUNDARY}",
            )
            accepted = response.status_code in (201, 302)
            new_files = _files_on_disk() - on_disk
            if not accepted:
                refused = (
                    json_message(response)
                    if write.is_api
                    else response.status_code == 200 and "file" in form_errors(response)
                )
                if not refused or changes() != before or new_files:
                    problems.append(f"{name!r}: {response.status_code}, refused badly")
                continue
            version = estate.created(ResourceVersion)
            path = Path(version.file.path).resolve()
            if not re.fullmatch(r"resources/\d+/[0-9a-f]{32}", version.file.name):
                problems.append(f"{name!r}: stored as {version.file.name!r}")
            if not path.is_relative_to(root) or new_files != {path}:
                problems.append(f"{name!r}: written to {sorted(map(str, new_files))}")
            if not _safe_name(version.original_name):
                problems.append(f"{name!r}: kept as {version.original_name!r}")
            problems += _download_problems(estate, version, name)
    assert not problems, problems


def _download_problems(estate, version, sent: str) -> list[str]:
    problems = []
    resource = version.resource
    web, api = client_for(estate.a_pm), client_for(estate.a_pm, api=True)
    for response in (
        web.get(reverse("resources:version-download", args=[resource.pk, version.number])),
        api.get(reverse("resource-download", args=[resource.pk]), {"version": version.number}),
    ):
        if response.status_code != 200:
            problems.append(f"{sent!r}: download answered {response.status_code}")
            continue
        header = response["Content-Disposition"]
        try:
            saved_as = _disposition_name(header)
        except AssertionError:
            problems.append(f"{sent!r}: Content-Disposition {header!r}")
            continue
        if not _safe_name(saved_as) or os.path.basename(saved_as) != saved_as:
            problems.append(f"{sent!r}: downloads as {saved_as!r}")
        if response["X-Content-Type-Options"] != "nosniff":
            problems.append(f"{sent!r}: download may be sniffed")
        b"".join(response.streaming_content)
    return problems


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..\\x.txt", "/abs.txt", "..", "a\x00.pdf", "r\u202efdp.exe", "a" * 256],
)
def test_the_service_refuses_a_path_that_reaches_it(estate, name):
    """Defence in depth: should a parser ever pass a path through, the service refuses it."""
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    upload._name = name  # past UploadedFile's own basename()
    before, on_disk = changes(), _files_on_disk()

    with pytest.raises(ValidationError) as refused:
        services.create_resource(
            actor=estate.a_pm,
            file=upload,
            title="Traversal",
            kind="report",
            data_category="threat_intelligence",
            tlp="amber",
        )

    assert "file" in refused.value.message_dict
    assert changes() == before
    assert _files_on_disk() == on_disk


def test_the_download_header_escapes_what_the_name_carries(estate):
    """A stored name with quotes and non-ASCII letters still makes one safe header."""
    for name in ('quo"te;x=1.pdf', "naïve résumé ✓.pdf", "a\\b.pdf".replace("\\", "_")):
        upload = SimpleUploadedFile(name, PDF, content_type="application/pdf")
        version = services.add_version(actor=estate.a_pm, resource=estate.a_report, file=upload)
        assert _download_problems(estate, version, name) == []
        response = client_for(estate.a_pm).get(
            reverse("resources:version-download", args=[estate.a_report.pk, version.number])
        )
        assert _disposition_name(response["Content-Disposition"]) == name
