"""The estate the abuse tests attack: nation A's objects in every state an action needs, its
partner B, and nation C (the attacker) with objects of its own of every kind, so C can reach
every route legitimately and only a foreign child id or field should stop it.

Everything is built through the services, as real use would. It is built once per test module
(see conftest.py) inside a transaction that is rolled back afterwards; each test runs in a
savepoint of it, so tests cannot see each other's writes.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agreements import services as agreement_services
from portal import services as portal_services
from portal.models import Role
from projects import services as project_services
from resources import services as resource_services
from tests.factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    designate_signatories,
    platform_staff,
)

ALL_ROLES = tuple(Role.values)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DAY = datetime.timedelta(days=1)


@dataclass
class Estate:
    """Named people and objects; `attr` names are what the write registry refers to."""

    objects: dict = field(default_factory=dict)
    #: The ids of every row of each model once the estate was built, to tell a test's own new
    #: rows from them: ids are random, so the highest is not the newest.
    built: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, **objects) -> None:
        self.objects.update(objects)

    def created(self, model):
        """The one row of model made since the estate was built (by the test's write)."""
        return model._default_manager.exclude(pk__in=self.built[model]).get()


def build_estate() -> Estate:
    estate = Estate()
    _people(estate)
    _agreements(estate)
    _resources(estate)
    _projects(estate)
    _intel(estate)
    _notices(estate)
    for model in apps.get_models():
        estate.built[model] = set(model._default_manager.values_list("pk", flat=True))
    return estate


# --- Helpers the tests use -------------------------------------------------------------------


def enrol_totp(user) -> None:
    """Give a person an authenticator app, as signatories and org admins must have."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, TOTP_SECRET)


def current_otp(user) -> str:
    """The person's current TOTP code, never marked used yet; "" if they have no app."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return ""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 0.5:  # too close to the next code: wait for it
        time.sleep(period - time.time() % period + 0.01)
    secret = decrypt(authenticator.data["secret"])
    code = format_hotp_value(hotp_value(secret, int(time.time()) // period))
    cache.delete(TOTP(authenticator)._get_used_cache_key(code))
    return code


def pdf(name: str = "report.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- The estate ------------------------------------------------------------------------------


def _people(estate: Estate) -> None:
    a = OrganisationFactory(name="Sec Atlantis CSIRT", slug="sec-atl", country="EE")
    b = OrganisationFactory(name="Sec Borealis Centre", slug="sec-bor", country="FI")
    c = OrganisationFactory(name="Sec Caldera Agency", slug="sec-cal", country="PL")
    estate.add(
        a=a,
        b=b,
        c=c,
        a_admin=UserFactory(organisation=a, username="sec-a-admin", roles=ALL_ROLES),
        a_pm=UserFactory(organisation=a, username="sec-a-pm", roles=[Role.PROGRAMME_MANAGER]),
        a_member=UserFactory(organisation=a, username="sec-a-member"),
        b_pm=UserFactory(organisation=b, username="sec-b-pm", roles=[Role.PROGRAMME_MANAGER]),
        b_signatory=UserFactory(organisation=b, username="sec-b-sig", roles=[Role.SIGNATORY]),
        b_reviewer=UserFactory(organisation=b, username="sec-b-rev", roles=[Role.REVIEWER]),
        b_member=UserFactory(organisation=b, username="sec-b-member"),
        c_admin=UserFactory(organisation=c, username="sec-c-admin", roles=ALL_ROLES),
        c_member=UserFactory(organisation=c, username="sec-c-member"),
        staff=platform_staff(),
        password=PASSWORD,
    )
    for user in (estate.a_admin, estate.b_signatory, estate.c_admin, estate.staff):
        enrol_totp(user)
    # Invited and not yet accepted: what resending and revoking an invitation act on.
    estate.add(
        a_invitee=portal_services.invite_member(
            actor=estate.staff,
            organisation=a,
            username="sec-a-invitee",
            email="sec-a-invitee@sec-atl.example",
            base_url="http://testserver/",
        ).user
    )


def _agreement(estate: Estate, actor, parties, *, sign: bool = True, submit: bool = True, **terms):
    from tests.agreements.conftest import fresh_reauth

    today = timezone.localdate()
    values = {
        "title": "Sec data exchange",
        "kind": "data_sharing",
        "purpose": "Exchange indicators.",
        "body": "# Terms\n\nThe parties share indicators under TLP.",
        "effective_from": today,
        "expires_on": today + 365 * DAY,
        "data_categories": ["threat_intelligence", "incidents", "research_outputs"],
        "tlp_ceiling": "red",
    }
    values.update(terms)
    agreement = agreement_services.create_agreement(actor=actor, parties=parties, **values)
    designate_signatories(agreement)
    if submit:
        agreement_services.submit(actor=actor, agreement=agreement)
    if sign:
        for party in agreement.parties.all():
            for user in party.signatories.all()[: party.required_signatures]:
                agreement_services.sign(
                    actor=user, agreement=agreement, reauthentication=fresh_reauth()
                )
    agreement.refresh_from_db()
    return agreement


def _agreements(estate: Estate) -> None:
    a, b, c = estate.a, estate.b, estate.c
    estate.add(
        ab_active=_agreement(estate, estate.a_pm, [a, b], title="A-B exchange in force"),
        ab_draft=_agreement(
            estate, estate.a_pm, [a, b], title="A-B draft", submit=False, sign=False
        ),
        ab_pending=_agreement(estate, estate.a_pm, [a, b], title="A-B awaiting", sign=False),
        ab_research=_agreement(estate, estate.a_pm, [a, b], kind="joint_rd", title="A-B R&D"),
        cb_active=_agreement(estate, estate.c_admin, [c, b], title="C-B exchange in force"),
        cb_research=_agreement(estate, estate.c_admin, [c, b], kind="joint_rd", title="C-B R&D"),
        cb_draft=_agreement(
            estate, estate.c_admin, [c, b], title="C-B draft", submit=False, sign=False
        ),
    )
    estate.add(
        ab_draft_party_a=estate.ab_draft.parties.get(organisation=a),
        cb_draft_party_c=estate.cb_draft.parties.get(organisation=c),
    )


def _resources(estate: Estate) -> None:
    from tests.agreements.conftest import fresh_reauth

    metadata = {
        "description": "Campaigns seen.",
        "kind": "report",
        "data_category": "threat_intelligence",
        "tags": ["apt"],
    }
    a_report = resource_services.create_resource(
        actor=estate.a_pm, file=pdf(), title="Sec A amber report", tlp="amber", **metadata
    )
    resource_services.add_version(actor=estate.a_pm, resource=a_report, file=pdf("v2.pdf"))
    a_share = resource_services.share_resource(
        actor=estate.a_pm, resource=a_report, agreement=estate.ab_active, recipient=estate.b
    )
    a_strict = resource_services.create_resource(
        actor=estate.a_pm, file=pdf(), title="Sec A strict report", tlp="amber_strict", **metadata
    )
    a_clear = resource_services.create_resource(
        actor=estate.a_pm, file=pdf(), title="Sec A public note", tlp="clear", **metadata
    )
    c_report = resource_services.create_resource(
        actor=estate.c_admin, file=pdf(), title="Sec C amber report", tlp="amber", **metadata
    )
    c_share = resource_services.share_resource(
        actor=estate.c_admin, resource=c_report, agreement=estate.cb_active, recipient=estate.b
    )
    estate.add(
        a_report=a_report,
        a_share=a_share,
        a_strict=a_strict,
        a_clear=a_clear,
        c_report=c_report,
        c_share=c_share,
        reauth=fresh_reauth,
    )


def _project(estate, actor, agreement, acronym, *, partners=(), kind="research", items=True):
    today = timezone.localdate()
    project = project_services.create_project(
        actor=actor,
        acronym=acronym,
        title=f"Sec project {acronym}",
        kind=kind,
        agreement=agreement,
        start_date=today - 10 * DAY,
        end_date=today + 300 * DAY,
        partners=list(partners),
        summary="A joint project.",
    )
    coordinator = project.participants.get(role="coordinator")
    if not items:
        return project, None, None, None
    wp = project_services.add_work_package(
        actor=actor,
        project=project,
        number=1,
        title="Design",
        lead=coordinator,
        start_date=today - 10 * DAY,
        end_date=today + 100 * DAY,
    )
    milestone = project_services.add_milestone(
        actor=actor, work_package=wp, code="MS1", title="Design agreed", due_date=today + 50 * DAY
    )
    deliverable = project_services.add_deliverable(
        actor=actor,
        work_package=wp,
        code="D1.1",
        title="Design report",
        type="report",
        tlp="amber",
        due_date=today + 60 * DAY,
    )
    return project, wp, milestone, deliverable


def _item(actor, work_package, model: str, code: str, days: int, *, submit: bool = False):
    today = timezone.localdate()
    if model == "milestone":
        item = project_services.add_milestone(
            actor=actor,
            work_package=work_package,
            code=code,
            title=f"Milestone {code}",
            due_date=today + days * DAY,
        )
    else:
        item = project_services.add_deliverable(
            actor=actor,
            work_package=work_package,
            code=code,
            title=f"Deliverable {code}",
            type="report",
            tlp="amber",
            due_date=today + days * DAY,
        )
    if submit:
        project_services.submit_item(actor=actor, item=item, evidence=f"{code} is done.")
    return item


def _projects(estate: Estate) -> None:
    a_pm, c_admin, b = estate.a_pm, estate.c_admin, estate.b
    research = estate.ab_research

    a_project, a_wp, a_ms, a_d = _project(estate, a_pm, research, "SEC-PROP", partners=[b])
    a_solo, *_ = _project(estate, a_pm, research, "SEC-SOLO", items=False)
    a_active, a_active_wp, a_active_ms, a_active_d = _project(
        estate, a_pm, research, "SEC-ACT", partners=[b]
    )
    project_services.assign_reviewer(actor=a_pm, project=a_active, user=estate.a_admin)
    project_services.activate(actor=a_pm, project=a_active)
    project_services.submit_item(actor=a_pm, item=a_active_d, evidence="Report attached.")
    a_active_ms2 = _item(a_pm, a_active_wp, "milestone", "MS2", 70, submit=True)
    a_active_d2 = _item(a_pm, a_active_wp, "deliverable", "D1.2", 80)
    a_suspended, *_ = _project(estate, a_pm, research, "SEC-SUSP", items=False)
    project_services.activate(actor=a_pm, project=a_suspended)
    project_services.suspend(actor=a_pm, project=a_suspended, reason="Paused.")
    a_bare, *_ = _project(estate, a_pm, research, "SEC-BARE", items=False)
    project_services.activate(actor=a_pm, project=a_bare)
    a_exercise, *_ = _project(
        estate, a_pm, research, "SEC-EXER", partners=[b], kind="exercise", items=False
    )

    # C's own project: active, with an item of every kind and state C's admin can act on.
    c_project, c_wp, c_ms, c_d = _project(
        estate, c_admin, estate.cb_research, "SEC-C", partners=[b]
    )
    project_services.assign_reviewer(actor=c_admin, project=c_project, user=c_admin)
    project_services.activate(actor=c_admin, project=c_project)
    project_services.submit_item(actor=c_admin, item=c_d, evidence="Report attached.")
    c_ms2 = _item(c_admin, c_wp, "milestone", "MS2", 70, submit=True)
    c_d2 = _item(c_admin, c_wp, "deliverable", "D1.2", 80)

    # Evidence linked to the items, for the routes that open it to the reviewers: each
    # side's report under its own submitted items, and A's public note already opened.
    c_ms2.linked_resources.add(estate.c_report)
    c_d.linked_versions.add(estate.c_report.versions.first())
    a_active_ms2.linked_resources.add(estate.a_report)
    a_active_d.linked_versions.add(estate.a_report.versions.first())
    a_active_ms.linked_resources.add(estate.a_report, estate.a_clear)
    project_services.open_evidence_to_reviewers(
        actor=a_pm, item=a_active_ms, resource=estate.a_clear
    )

    estate.add(
        a_project=a_project,
        a_wp=a_wp,
        a_ms=a_ms,
        a_d=a_d,
        a_project_b=a_project.participants.get(organisation=b),
        a_project_a=a_project.participants.get(role="coordinator"),
        a_solo=a_solo,
        a_active=a_active,
        a_active_ms=a_active_ms,
        a_active_ms2=a_active_ms2,
        a_active_d=a_active_d,
        a_active_d2=a_active_d2,
        a_suspended=a_suspended,
        a_bare=a_bare,
        a_exercise=a_exercise,
        a_exercise_b=a_exercise.participants.get(organisation=b),
        c_project=c_project,
        c_wp=c_wp,
        c_ms=c_ms,
        c_ms2=c_ms2,
        c_d=c_d,
        c_d2=c_d2,
        c_project_b=c_project.participants.get(organisation=b),
        c_project_c=c_project.participants.get(role="coordinator"),
    )


def _notices(estate: Estate) -> None:
    """An unread notice of A's member's, for the routes that mark notices read."""
    from portal.notifications import notify

    notify(
        [estate.a_member],
        kind="agreement.signed",
        title="Sec notice",
        url=estate.ab_active.get_absolute_url(),
    )


def _intel(estate: Estate) -> None:
    """A's indicators (one shared with B, one AMBER+STRICT to share), and C's own, shared
    with B, so C reaches every intelligence route legitimately."""
    from intel import services as intel_services
    from intel.markings import TLP2_IDS
    from tests.intel.conftest import indicator

    def stored(actor, value, **extra):
        return intel_services.import_objects(actor=actor, raw=indicator(value, **extra)).stored[0]

    def shared(obj, actor, agreement, recipient):
        return intel_services.share_object(
            actor=actor, obj=obj, agreement=agreement, recipient=recipient
        )[0]

    a_intel = stored(estate.a_pm, "198.51.100.81", name="Sec A beacon")
    strict = [TLP2_IDS["amber_strict"]]
    a_intel_strict = stored(
        estate.a_pm, "198.51.100.82", name="Sec A strict beacon", object_marking_refs=strict
    )
    c_intel = stored(estate.c_admin, "198.51.100.83", name="Sec C beacon")
    estate.add(
        a_intel=a_intel,
        a_intel_share=shared(a_intel, estate.a_pm, estate.ab_active, estate.b),
        a_intel_strict=a_intel_strict,
        c_intel=c_intel,
        c_intel_share=shared(c_intel, estate.c_admin, estate.cb_active, estate.b),
    )
