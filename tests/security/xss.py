"""Stored cross-site scripting: payloads, a world whose every free-text field carries one, and
a scanner that finds executable markup in a page.

`XSS_FIELDS` names every free-text field the world fills; a guard test fails when a model
gains a free-text field that is in neither XSS_FIELDS nor NOT_FREE_TEXT.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils import timezone

from agreements import services as agreement_services
from portal.models import Role
from projects import services as project_services
from resources import services as resource_services
from tests.factories import OrganisationFactory, UserFactory, designate_signatories
from tests.security.estate import ALL_ROLES, Estate, enrol_totp, pdf

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(1)>'
QUOTE = "' onfocus=alert(1) autofocus x='"
BARE = "x onmouseover=alert(1)"  # harmless as text; an attribute if a value is left unquoted
TINY = "<b onblur=1>"  # twelve characters: fits the shortest free-text fields
FULL = " ".join([SCRIPT, IMG, SVG, QUOTE, BARE])
#: Markdown that must come out as inert text or as a safe link.
MARKDOWN = "\n\n".join(
    [
        f"# Heading {SCRIPT}",
        IMG,
        SVG,
        "[plain](javascript:alert(1))",
        "[mixed case](JaVaScRiPt:alert(1))",
        "[spaced]( javascript:alert(1))",
        "[entity](&#106;avascript:alert(1))",
        "[hex entity](&#x6A;avascript:alert(1))",
        "[tab](java\tscript:alert(1))",
        "[encoded](javascript%3Aalert(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[vbscript](vbscript:msgbox(1))",
        "![image](javascript:alert(1))",
        "![image2](x onerror=alert(1))",
        "<javascript:alert(1)>",
        "[reference][evil]\n\n[evil]: javascript:alert(1)",
        '[title](https://example.org "x\\" onmouseover=\\"alert(1)")',
        '<a href="javascript:alert(1)">raw link</a>',
        '<iframe src="javascript:alert(1)"></iframe>',
        "<style>body { background: url(javascript:alert(1)) }</style>",
        "| a | <script>alert(2)</script> |\n| --- | --- |\n| <img src=x onerror=alert(3)> | x |",
        "```\n<script>alert(4)</script>\n```",
        "<details open ontoggle=alert(1)>",
    ]
)
RICH = f"{FULL}\n\n{MARKDOWN}"
#: Strings whose appearance as-is in a page means markup got through unescaped.
#: (QUOTE is inert as text; the scanner finds it if it ever becomes an attribute.)
RAW = [SCRIPT, IMG, SVG, TINY, "<svg onload", "<img src=x", "<iframe"]


def fitting(max_length: int | None) -> str:
    """The richest payload that fits a field of this length."""
    for candidate in (FULL, f"{SCRIPT} {IMG}", SVG, TINY):
        if max_length is None or len(candidate) <= max_length:
            return candidate
    raise ValueError(max_length)


#: Every free-text field a person can fill, as "app.model.field"; the world fills them all.
XSS_FIELDS = {
    "portal.organisation.name",
    "portal.organisation.description",
    "portal.membership.job_title",
    "auth.user.first_name",
    "auth.user.last_name",
    "auth.user.email",
    "agreements.agreement.title",
    "agreements.agreement.purpose",
    "agreements.agreement.body",
    "agreements.agreement.governing_law",
    "agreements.agreement.prevailing_language",
    "agreements.agreement.termination_reason",
    "agreements.party.legal_contact",
    "agreements.party.technical_contact",
    "agreements.party.incident_contact",
    "agreements.signature.void_reason",
    "resources.resource.title",
    "resources.resource.description",
    "resources.resource.tags",
    "resources.resourceversion.original_name",
    "resources.resourceversion.note",
    "resources.share.end_reason",
    "projects.project.title",
    "projects.project.summary",
    "projects.project.scenario",
    "projects.workpackage.title",
    "projects.milestone.code",
    "projects.milestone.title",
    "projects.milestone.means_of_verification",
    "projects.milestone.evidence",
    "projects.milestone.late_justification",
    "projects.deliverable.code",
    "projects.deliverable.title",
    "projects.deliverable.evidence",
    "projects.deliverable.late_justification",
    "projects.review.comment",
    "projects.datechange.reason",
    "projects.contribution.unit",
    "projects.contribution.note",
    "projects.inject.title",
    "projects.inject.description",
}

#: Text fields that are not free text a person types, and why.
NOT_FREE_TEXT = {
    "portal.organisation.website": "a URLField: http(s) only (test_javascript_website_is_refused)",
    "portal.auditevent.actor_label": "a username, or the login tried (validated names)",
    "portal.auditevent.action": "set by the code",
    "portal.auditevent.object_type": "set by the code",
    "portal.auditevent.object_id": "set by the code",
    "portal.auditevent.object_repr": "str() of an object above: its payload is rendered too",
    "portal.auditevent.details": "JSON of values above, never rendered as markup",
    "portal.auditevent.prev_hash": "a SHA-256",
    "portal.auditevent.hash": "a SHA-256",
    "portal.auditevent.history": "set by the code: an object type and id",
    "portal.auditevent.history_prev_hash": "a SHA-256",
    "portal.auditevent.history_hash": "a SHA-256",
    "portal.notification.kind": "set by the code",
    "portal.notification.title": "built from the titles above: rendered in the test",
    "portal.notification.body": "built from the reasons above: rendered in the test",
    "portal.notification.url": "an internal path from get_absolute_url",
    "agreements.agreement.reference": "generated",
    "agreements.agreement.content_hash": "a SHA-256",
    "agreements.agreement.signed_document": "JSON built from the terms above",
    "agreements.agreement.data_categories": "a list of choices",
    "agreements.signature.content_hash": "a SHA-256",
    "resources.resourceversion.file": "a generated storage name",
    "resources.resourceversion.sha256": "a SHA-256",
    "resources.resourceversion.content_type": "detected from the bytes",
    "projects.project.acronym": "capital letters, digits and dashes only",
    "projects.calendarfeed.token": "generated",
    "auth.user.username": "letters, digits and @.+-_ only",
    "auth.user.password": "a hash, never shown",
}


def free_text_fields() -> set[str]:
    """Every CharField, TextField and JSONField of the portal's models (and the user's) that
    has no choices: what a person could put a payload into."""
    from django.apps import apps
    from django.db import models

    found = set()
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label not in {"portal", "agreements", "resources", "projects"} and (
            label != "auth.user"
        ):
            continue
        for f in model._meta.concrete_fields:
            text = isinstance(f, models.CharField | models.TextField | models.JSONField)
            free = text and not f.choices and not isinstance(f, models.SlugField)
            if free or isinstance(f, models.FileField):
                found.add(f"{label}.{f.name}")
    return found


# --- The world ---------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str


def build_xss_estate() -> Estate:
    """Two partner nations whose every free-text field carries a payload, and the objects in
    the states the dashboard and every page show: awaiting signature, shared, under review,
    overdue, withdrawn, revoked, terminated."""
    from tests.agreements.conftest import fresh_reauth

    estate = Estate()
    day = datetime.timedelta(days=1)
    today = timezone.localdate()
    a = OrganisationFactory(
        name=f"Atl {FULL}", slug="xss-atl", description=RICH, website="https://atl.example"
    )
    b = OrganisationFactory(name=f"Bor {FULL}", slug="xss-bor", description=RICH)
    person = {"first_name": fitting(150), "last_name": fitting(150), "job_title": fitting(120)}
    a_admin = UserFactory(
        organisation=a,
        username="xss-a-admin",
        roles=ALL_ROLES,
        email='"<svg/onload=alert(1)>"@atl.example',
        **person,
    )
    a_pm = UserFactory(
        organisation=a, username="xss-a-pm", roles=[Role.PROGRAMME_MANAGER], **person
    )
    b_pm = UserFactory(
        organisation=b, username="xss-b-pm", roles=[Role.PROGRAMME_MANAGER], **person
    )
    b_signatory = UserFactory(
        organisation=b, username="xss-b-sig", roles=[Role.SIGNATORY], **person
    )
    for user in (a_admin, b_signatory):
        enrol_totp(user)
    estate.add(a=a, b=b, a_admin=a_admin, a_pm=a_pm, b_pm=b_pm, b_signatory=b_signatory)

    def agreement(kind="data_sharing", *, sign=True, submit=True):
        made = agreement_services.create_agreement(
            actor=a_pm,
            parties=[a, b],
            title=f"{kind} {FULL}",
            kind=kind,
            purpose=FULL,
            body=RICH,
            effective_from=today,
            expires_on=today + 365 * day,
            data_categories=["threat_intelligence", "research_outputs"],
            tlp_ceiling="red",
            governing_law=fitting(100),
            prevailing_language=fitting(50),
        )
        designate_signatories(made)
        party = made.parties.get(organisation=a)
        agreement_services.update_party(
            actor=a_pm,
            party=party,
            legal_contact=fitting(200),
            technical_contact=fitting(200),
            incident_contact=fitting(200),
        )
        if submit:
            agreement_services.submit(actor=a_pm, agreement=made)
        if sign:
            for signer in (a_admin, b_signatory):
                agreement_services.sign(
                    actor=signer, agreement=made, reauthentication=fresh_reauth()
                )
        made.refresh_from_db()
        return made

    exchange = agreement()
    research = agreement("joint_rd")
    pending = agreement(sign=False)  # awaits A's admin's signature: a dashboard card
    withdrawn = agreement(sign=False)
    agreement_services.sign(actor=b_signatory, agreement=withdrawn, reauthentication=fresh_reauth())
    agreement_services.withdraw(actor=a_pm, agreement=withdrawn, reason=FULL)
    ending = agreement()
    agreement_services.terminate(
        actor=a_admin, agreement=ending, reason=RICH, effective_on=today + 30 * day
    )
    estate.add(
        exchange=exchange, research=research, pending=pending, withdrawn=withdrawn, ending=ending
    )

    report = resource_services.create_resource(
        actor=a_pm,
        file=pdf(f"a{IMG}{SVG}.pdf"),
        note=FULL,
        title=FULL,
        description=RICH,
        kind="report",
        data_category="threat_intelligence",
        tlp="amber",
        tags=[SVG, TINY, IMG],
    )
    resource_services.add_version(actor=a_pm, resource=report, file=pdf(f"{IMG}.pdf"), note=FULL)
    share = resource_services.share_resource(
        actor=a_pm, resource=report, agreement=exchange, recipient=b
    )
    revoked = resource_services.create_resource(
        actor=a_pm,
        file=pdf(),
        title=f"Revoked {FULL}",
        description=RICH,
        kind="report",
        data_category="threat_intelligence",
        tlp="green",
    )
    revoked_share = resource_services.share_resource(
        actor=a_pm, resource=revoked, agreement=exchange, recipient=b
    )
    resource_services.revoke_share(actor=a_pm, share=revoked_share, reason=FULL)
    estate.add(report=report, share=share, revoked=revoked)

    project = project_services.create_project(
        actor=a_pm,
        acronym="XSS-1",
        title=FULL,
        kind="research",
        agreement=research,
        start_date=today - 60 * day,
        end_date=today + 300 * day,
        partners=[b],
        summary=RICH,
    )
    coordinator = project.participants.get(organisation=a)
    partner = project.participants.get(organisation=b)
    wp = project_services.add_work_package(
        actor=a_pm,
        project=project,
        number=1,
        title=FULL,
        lead=coordinator,
        start_date=today - 60 * day,
        end_date=today + 200 * day,
    )
    milestone = project_services.add_milestone(
        actor=a_pm,
        work_package=wp,
        code=TINY,
        title=FULL,
        due_date=today + 20 * day,
        means_of_verification=FULL,
    )
    deliverable = project_services.add_deliverable(
        actor=a_pm,
        work_package=wp,
        code=TINY,
        title=FULL,
        type="report",
        tlp="amber",
        due_date=today + 30 * day,
    )
    project_services.add_contribution(
        actor=a_pm, participant=coordinator, kind="funding", amount=1000, unit=TINY, note=FULL
    )
    project_services.assign_reviewer(actor=a_pm, project=project, user=a_admin)
    project_services.activate(actor=a_pm, project=project)
    project_services.change_due_date(
        actor=a_pm, item=milestone, new_date=today + 25 * day, reason=FULL
    )
    project_services.submit_item(
        actor=a_pm, item=milestone, evidence=RICH, late_justification=FULL, resources=[report]
    )
    project_services.review_item(
        actor=a_admin, item=milestone, decision="request_changes", comment=RICH
    )
    project_services.submit_item(
        actor=a_pm,
        item=deliverable,
        evidence=RICH,
        late_justification=FULL,
        versions=[report.latest_version],
    )
    overdue = project_services.add_milestone(
        actor=a_pm, work_package=wp, code="<b onblur=2>", title=FULL, due_date=today - 5 * day
    )
    exercise = project_services.create_project(
        actor=a_pm,
        acronym="XSS-EX",
        title=FULL,
        kind="exercise",
        agreement=research,
        start_date=today - 10 * day,
        end_date=today + 100 * day,
        partners=[b],
        summary=RICH,
        scenario=RICH,
    )
    project_services.add_inject(
        actor=a_pm,
        project=exercise,
        release_at=timezone.now() - day,
        title=FULL,
        description=RICH,
        targets=[exercise.participants.get(organisation=b)],
    )
    estate.add(
        project=project,
        partner=partner,
        milestone=milestone,
        deliverable=deliverable,
        overdue=overdue,
        exercise=exercise,
    )
    return estate


# --- The scanner -------------------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"}
DANGEROUS_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style"}


@dataclass
class Scanner(HTMLParser):
    """Lists what in a page could run script: event handlers, script URLs, foreign scripts."""

    nonce: str = ""
    problems: list[str] = field(default_factory=list)

    def __post_init__(self):
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)

    def _check(self, tag: str, named: dict, attrs: list) -> None:
        where = f"<{tag} {' '.join(n for n, _ in attrs)}>"
        for name, value in attrs:
            name = name.lower()
            if re.match(r"^(on|hx-on|data-hx-on)", name):
                self.problems.append(f"event handler {name}={value!r} in {where}")
            if name in URL_ATTRIBUTES and value and _script_scheme(value):
                self.problems.append(f"{name}={value!r} in {where}")
            if name in {"hx-vals", "hx-headers"} and value and "js:" in value.replace(" ", ""):
                self.problems.append(f"{name} evaluates script in {where}")
        if tag == "script" and not self._own_script(named):
            self.problems.append(f"a script that is not the site's own: {where} {named!r}")
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"a <{tag}> element")
        if tag == "meta" and (named.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("a meta refresh")

    def _own_script(self, named: dict) -> bool:
        """Ours: a file of our static files (the policy allows 'self'), a nonce'd script, or
        inert JSON data for a script of ours."""
        src = named.get("src")
        if src is not None:
            return src.startswith("/static/")
        return named.get("nonce") == self.nonce or _data_type(named.get("type") or "")


#: What the URL standard strips from both ends of a URL.
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def _data_type(script_type: str) -> bool:
    return script_type.lower() in {"application/json", "application/ld+json"}


def _script_scheme(value: str) -> bool:
    """Whether a browser would run the URL: read as the URL standard reads it, with controls
    and spaces stripped from both ends and tabs and newlines removed anywhere."""
    cleaned = re.sub(r"[\t\n\r]", "", value.strip(C0_AND_SPACE)).lower()
    return cleaned.startswith(("javascript:", "vbscript:", "data:text", "data:application"))


def scan(response) -> list[str]:
    """What could run in this page, and any payload that came through unescaped."""
    body = response.content.decode(errors="replace")
    policy = response.get("Content-Security-Policy", "")
    nonce = re.search(r"'nonce-([^']+)'", policy)
    scanner = Scanner(nonce=nonce.group(1) if nonce else "")
    scanner.feed(body)
    scanner.close()
    problems = list(scanner.problems)
    problems += [f"unescaped {raw!r}" for raw in RAW if raw in body]
    script_src = next(
        (d for d in policy.split(";") if d.strip().startswith("script-src")), "script-src"
    )
    if not policy or "unsafe-inline" in script_src or "unsafe-eval" in script_src:
        problems.append(f"weak script policy: {script_src!r}")
    return problems
