"""The certificate of completion: a PDF a person can read, of the same facts the bundle signs.

It is drawn from `evidence.build_payload`, so the certificate and the signed JSON bundle can
never tell different stories; the bundle is the proof, the certificate points to it.
"""

from __future__ import annotations

import datetime
import unicodedata
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from fpdf import FPDF, FontFace, XPos, YPos

from agreements import evidence
from agreements.models import Agreement, AgreementKind, AgreementStatus, SignatureMethod
from portal import signing
from portal.vocabulary import TLP, DataCategory

#: DejaVu covers the Latin, Greek and Cyrillic names of partners; without it the PDF falls
#: back to the core Helvetica font, which knows only Latin-1.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

_MARGIN = 18  # mm
_INK, _MUTED, _RULE, _TINT = (25, 32, 44), (95, 104, 118), (190, 198, 210), (232, 237, 244)
# How the signatory proved it was them, short enough for a table column.
_METHODS = {
    SignatureMethod.PASSWORD: "Password",
    SignatureMethod.PASSWORD_TOTP: "Password and TOTP",
}
# What NFKD cannot take apart into Latin-1: letters as their languages spell them without
# diacritics, and typographic punctuation as its plain form.
_LATIN = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "\u0131": "i",  # dotless i
        "Œ": "OE",
        "œ": "oe",
        "\u2018": "'",  # typographic quotes, dashes and ellipsis
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def build_certificate(agreement: Agreement) -> bytes:
    """A PDF certificate of a signed agreement; refuses one that is not signed yet."""
    payload = evidence.build_payload(agreement)
    document = payload["agreement"]
    pdf = _CertificatePDF(f"{document['reference']} v{document['version']}")
    pdf.add_page()
    _title(pdf, payload)
    _terms(pdf, payload)
    _parties(pdf, document["parties"])
    _signatures(pdf, payload["signatures"])
    _timeline(pdf, payload["timeline"], payload["history"]["head"])
    _how_to_verify(pdf)
    return bytes(pdf.output())


# --- Sections ---------------------------------------------------------------------------------


def _title(pdf: _CertificatePDF, payload: dict) -> None:
    document = payload["agreement"]
    pdf.write_line(payload["portal"]["name"].upper(), size=9, color=_MUTED)
    pdf.write_line("Certificate of completion", size=22, bold=True)
    pdf.write_line(
        f"{document['reference']} v{document['version']}: {document['terms']['title']}", size=13
    )
    pdf.ln(2)
    pdf.rule()
    status = _label(AgreementStatus, payload["status"])
    pdf.paragraph(
        "This certifies that every party signed the agreement below, on the content hash "
        f"shown. Its status when this certificate was issued ({_when(payload['issued_at'])} UTC) "
        f"was: {status}."
    )


def _terms(pdf: _CertificatePDF, payload: dict) -> None:
    document, terms = payload["agreement"], payload["agreement"]["terms"]
    categories = ", ".join(_label(DataCategory, c) for c in terms["data_categories"]) or "None"
    rows = [
        ("Reference", document["reference"]),
        ("Version", str(document["version"])),
        ("Title", terms["title"]),
        ("Status", _label(AgreementStatus, payload["status"])),
        ("Kind", _label(AgreementKind, terms["kind"])),
        ("TLP ceiling", _label(TLP, terms["tlp_ceiling"])),
        ("Data categories", categories),
        ("Effective from", _date(terms["effective_from"])),
        ("Expires on", _date(terms["expires_on"]) if terms["expires_on"] else "No expiry date"),
        ("Governing law", terms["governing_law"] or "Not stated"),
    ]
    if document["supersedes"]:
        rows.insert(2, ("Supersedes", document["supersedes"]))
    pdf.heading("The agreement")
    pdf.key_values(rows)
    pdf.ln(2)
    pdf.write_line(
        "Content hash (SHA-256 of the agreement's canonical terms, body and parties)",
        size=8.5,
        color=_MUTED,
    )
    pdf.write_line(payload["content_hash"], size=9, mono=True)


def _parties(pdf: _CertificatePDF, parties: list[dict]) -> None:
    pdf.heading("Parties")
    pdf.grid(
        ["Organisation", "Country", "Signatures required"],
        [[p["name"], p["country"], str(p["required_signatures"])] for p in parties],
        widths=(60, 15, 25),
    )


def _signatures(pdf: _CertificatePDF, signatures: list[dict]) -> None:
    pdf.heading("Signatures")
    pdf.grid(
        ["Signatory", "Organisation", "Signed (UTC)", "Method"],
        [
            [
                f"{s['name']} ({s['user']})",
                s["organisation_name"],
                _when(s["signed_at"]),
                _METHODS.get(s["method"], _label(SignatureMethod, s["method"])),
            ]
            for s in signatures
        ],
        widths=(27, 29, 24, 20),
    )


def _timeline(pdf: _CertificatePDF, events: list[dict], head: str | None) -> None:
    pdf.heading("Timeline")
    pdf.grid(
        ["Time (UTC)", "Event", "By"],
        [[_when(e["at"]), _event(e["action"]), _actor(e)] for e in events],
        widths=(25, 35, 40),
    )
    pdf.ln(2)
    pdf.write_line(
        "The agreement's whole history when this certificate was issued; the bundle proves it "
        "complete and in order. Hash of its last entry:",
        size=8.5,
        color=_MUTED,
    )
    pdf.write_line(head or "None", size=9, mono=True)


def _how_to_verify(pdf: _CertificatePDF) -> None:
    """Steps any reader can follow with the portal's public address and Python alone; none
    needs an account here or the portal's source."""
    base = settings.PORTAL_BASE_URL
    key_url = f"{base}{evidence.PUBLIC_KEY_PATH}"
    verifier_url = f"{base}{reverse('evidence-verifier')}"
    pdf.heading("How to verify", keep_with=60)
    pdf.paragraph(
        "This certificate is a readable summary. The proof is the agreement's JSON evidence "
        f"bundle (Evidence (JSON) on the agreement's page), signed with the portal's Ed25519 "
        f"key {signing.key_id()}. Anyone can check it offline, without trusting the portal, "
        "with Python 3 and the cryptography package (pip install cryptography):"
    )
    steps = [
        f"1. Save the portal's public key from {key_url} as portal-key.pem.",
        f"2. Save the verifier from {verifier_url} as verify.py (one file, SHA-256 "
        f"{evidence.verifier_sha256()}); read it before running it.",
        "3. Run: python3 verify.py BUNDLE.json --public-key portal-key.pem",
    ]
    for step in steps:
        pdf.write_line(step, size=9.5)
    pdf.paragraph(
        f'It prints "Evidence verified" with the key id, which must be {signing.key_id()}, '
        "or names every problem it found. The key id is the first 16 hexadecimal characters "
        "of the SHA-256 of the raw public key."
    )


# --- The PDF ----------------------------------------------------------------------------------


class _CertificatePDF(FPDF):
    """An A4 page in the portal's fonts; all text passes through `printable()` first."""

    def __init__(self, footer_label: str):
        super().__init__(format="A4")
        self.footer_label = footer_label
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_MARGIN)
        self.full_unicode = _add_fonts(self)
        self.set_title(self.printable(f"Certificate of completion {footer_label}"))
        self.set_author(self.printable(settings.PORTAL_NAME))

    def printable(self, value: str) -> str:
        return value if self.full_unicode else _latin1(value)

    def use(self, *, size: float = 10, bold: bool = False, mono: bool = False, color=_INK):
        family = (
            ("DejaVuMono" if mono else "DejaVu")
            if self.full_unicode
            else ("Courier" if mono else "Helvetica")
        )
        self.set_font(family, "B" if bold and not mono else "", size)
        self.set_text_color(*color)

    def write_line(self, value: str, **style) -> None:
        self.use(**style)
        self.multi_cell(
            0,
            self.font_size * 1.45,
            self.printable(value),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def paragraph(self, value: str) -> None:
        self.ln(2)
        self.write_line(value, size=9.5)

    def heading(self, value: str, *, keep_with: float = 25) -> None:
        # A heading stranded at the foot of a page, its section on the next, reads badly.
        if self.get_y() + 5 + keep_with > self.page_break_trigger:
            self.add_page()
        if self.get_y() > self.t_margin:  # no gap above a heading that opens a page
            self.ln(5)
        self.write_line(value, size=12.5, bold=True)
        self.ln(1)

    def rule(self) -> None:
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)

    def key_values(self, rows: list[tuple[str, str]]) -> None:
        self.use(size=9.5)
        self.set_draw_color(*_RULE)
        with self.table(
            col_widths=(28, 72),
            first_row_as_headings=False,
            text_align="LEFT",
            borders_layout="HORIZONTAL_LINES",
            padding=(0.8, 2),
            line_height=self.font_size * 1.3,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(self.printable(label), style=FontFace(emphasis="BOLD", color=_MUTED))
                row.cell(self.printable(value))

    def grid(self, headings: list[str], rows: list[list[str]], *, widths) -> None:
        self.use(size=9)
        self.set_draw_color(*_RULE)
        if not rows:
            self.write_line("None.", size=9, color=_MUTED)
            return
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            borders_layout="HORIZONTAL_LINES",
            headings_style=FontFace(emphasis="BOLD", fill_color=_TINT),
            padding=(1, 2),
            line_height=self.font_size * 1.35,
        ) as table:
            for cells in [headings, *rows]:
                row = table.row()
                for cell in cells:
                    row.cell(self.printable(cell))

    def footer(self) -> None:
        self.set_y(-12)
        self.use(size=8, color=_MUTED)
        text = f"{settings.PORTAL_NAME} - certificate of completion {self.footer_label}"
        self.cell(0, 5, self.printable(text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def _add_fonts(pdf: FPDF) -> bool:
    """Register DejaVu when the system has it; say whether text may use all of Unicode."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return False
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    mono = FONT_DIR / "DejaVuSansMono.ttf"
    pdf.add_font("DejaVuMono", "", mono if mono.exists() else regular)
    return True


# --- Text -------------------------------------------------------------------------------------


def _latin1(value: str) -> str:
    """The closest Latin-1 spelling: accents kept where Latin-1 has them, else stripped."""
    out = []
    for char in value.translate(_LATIN):
        if _encodes(char):
            out.append(char)
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", char) if _encodes(c))
    return "".join(out)


def _encodes(char: str) -> bool:
    try:
        char.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _date(iso: str) -> str:
    return datetime.date.fromisoformat(iso).strftime("%d %B %Y")


def _when(iso: str) -> str:
    return (
        datetime.datetime.fromisoformat(iso).astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    )


def _event(action: str) -> str:
    return action.split(".", 1)[-1].replace("_", " ").capitalize()


def _actor(event: dict) -> str:
    if not event["actor"]:
        return "The portal (scheduled)"
    organisation = event["actor_organisation"]
    return f"{event['actor']} ({organisation})" if organisation else event["actor"]
