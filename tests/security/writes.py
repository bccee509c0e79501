"""Every route that writes, with one valid request to it, found by walking the URLconf.

The CSRF, malformed-input and mass-assignment tests send variations of these requests. A new
route that accepts POST, PUT or PATCH fails `test_every_write_route_has_a_valid_request`
until a valid request for it is added to WRITES (or a reason to NOT_WRITES).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Signature
from intel.models import IntelShare, StixObject
from portal.models import Membership
from projects.models import (
    Contribution,
    Deliverable,
    Inject,
    Milestone,
    Participant,
    Project,
    Review,
    ReviewerAssignment,
    WorkPackage,
)
from resources.models import Resource, ResourceVersion, Share
from tests.access.routes import Route, all_routes, excluded_reason, is_allauth
from tests.security.estate import PDF, Estate, current_otp

DAY = datetime.timedelta(days=1)


def today(days: int = 0) -> str:
    return (timezone.localdate() + days * DAY).isoformat()


def latest(model) -> Callable[[Estate], object]:
    """The subject of a creation: the row of model the write made."""
    return lambda e: e.created(model)


def named(name: str) -> Callable[[Estate], object]:
    """The subject of a change: an object of the estate, fresh from the database."""

    def subject(e):
        obj = getattr(e, name)
        return type(obj).objects.get(pk=obj.pk)

    return subject


@dataclass(frozen=True)
class Write:
    """One valid request to a write route, made by `actor` (an estate name)."""

    route: str
    method: str
    actor: str
    kwargs: Callable[[Estate], dict]
    data: Callable[[Estate], dict] = lambda e: {}
    #: What the request creates or changes, for the mass-assignment test; None for actions
    #: that carry no model fields (a confirmation, a deletion, a token).
    subject: Callable[[Estate], object] | None = None
    multipart: bool = False
    #: Fields the form or serializer takes besides those in `data` (an unticked checkbox,
    #: an optional field): the mass-assignment test leaves them alone.
    also_writable: frozenset[str] = field(default_factory=frozenset)
    #: False for an endpoint that ignores the session and takes credentials in its body.
    session: bool = True

    def user(self, e: Estate):
        """The person who sends the request; None for an anonymous one."""
        return getattr(e, self.actor) if self.actor else None

    @property
    def is_api(self) -> bool:
        return self.route_obj.is_api

    @property
    def route_obj(self) -> Route:
        return ROUTES_BY_NAME[self.route]

    def url(self, e: Estate) -> str:
        return reverse(self.route, kwargs=self.kwargs(e))

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


def _pk(name):
    return lambda e: {"pk": getattr(e, name).pk}


def _reauth(e, user_name: str) -> dict:
    user = getattr(e, user_name)
    return {"password": e.password, "otp": current_otp(user)}


def _agreement_terms(e) -> dict:
    return {
        "title": "New exchange",
        "kind": "data_sharing",
        "purpose": "Exchange indicators.",
        "body": "# Terms\n\nShare indicators.",
        "data_categories": ["threat_intelligence"],
        "tlp_ceiling": "amber",
        "permitted_actions": "internally_visible",
        "retention_days": 365,
        "on_termination": "delete",
        "effective_from": today(),
        "expires_on": today(200),
        "renewal_notice_days": 60,
        "governing_law": "Estonian law",
        "prevailing_language": "English",
    }


def _web_agreement(e) -> dict:
    return {**_agreement_terms(e), "parties": [e.a.pk, e.b.pk], "encryption_required": "on"}


def _api_agreement(e) -> dict:
    return {**_agreement_terms(e), "parties": [e.a.slug, e.b.slug], "encryption_required": True}


_AGREEMENT_BOOLEANS = frozenset(
    {"attribution_allowed", "encryption_required", "affected_parties_notifiable"}
)


def _resource_metadata() -> dict:
    return {
        "title": "New report",
        "description": "What we saw.",
        "kind": "report",
        "data_category": "threat_intelligence",
        "tlp": "amber",
    }


def _upload(name="new.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _project_plan() -> dict:
    return {
        "title": "New project",
        "summary": "Joint work.",
        "start_date": today(),
        "end_date": today(200),
        "required_acceptances": 1,
    }


def _stix_bundle() -> str:
    import json
    import uuid

    from tests.intel.conftest import bundle, indicator

    return json.dumps(bundle(indicator("198.51.100.91", stix_id=f"indicator--{uuid.uuid4()}")))


def _created_sighting(e):
    from intel.models import Sighting

    return e.created(Sighting)


def _item(model, name):
    return lambda e: {"pk": e.a_active.pk, "item": model, "item_pk": getattr(e, name).pk}


WEB_WRITES = [
    # --- The core -------------------------------------------------------------------------
    Write(
        "portal:member-invite",
        "POST",
        "a_admin",
        lambda e: {"slug": e.a.slug},
        lambda e: {
            "username": "sec-invited",
            "email": "sec-invited@atl.example",
            "first_name": "New",
            "last_name": "Person",
            "job_title": "Analyst",
            "roles": ["reviewer"],
        },
        subject=latest(Membership),
    ),
    Write(
        "portal:member-roles",
        "POST",
        "a_admin",
        lambda e: {"slug": e.a.slug, "member_pk": e.a_member.membership.pk},
        lambda e: {"roles": ["reviewer"]},
        subject=lambda e: Membership.objects.get(user=e.a_member),
    ),
    Write(
        "portal:member-activation",
        "POST",
        "a_admin",
        lambda e: {"slug": e.a.slug, "member_pk": e.a_member.membership.pk},
    ),
    Write(
        "portal:member-invitation-resend",
        "POST",
        "a_admin",
        lambda e: {"slug": e.a.slug, "member_pk": e.a_invitee.membership.pk},
    ),
    Write(
        "portal:member-invitation-revoke",
        "POST",
        "a_admin",
        lambda e: {"slug": e.a.slug, "member_pk": e.a_invitee.membership.pk},
    ),
    Write(
        "portal:profile-token", "POST", "a_member", lambda e: {}, lambda e: {"operation": "rotate"}
    ),
    Write("calendar:manage", "POST", "a_member", lambda e: {}, lambda e: {"operation": "create"}),
    Write("portal:sign-out-everywhere", "POST", "a_member", lambda e: {}),
    Write("portal:notifications-read-all", "POST", "a_member", lambda e: {}),
    Write(
        "portal:notification-read",
        "POST",
        "a_member",
        lambda e: {"notice_pk": e.a_member.notifications.get().pk},
    ),
    # --- Agreements -----------------------------------------------------------------------
    Write(
        "agreements:create",
        "POST",
        "a_pm",
        lambda e: {},
        _web_agreement,
        subject=latest(Agreement),
        also_writable=_AGREEMENT_BOOLEANS,
    ),
    Write(
        "agreements:edit",
        "POST",
        "a_pm",
        _pk("ab_draft"),
        _web_agreement,
        subject=named("ab_draft"),
        also_writable=_AGREEMENT_BOOLEANS,
    ),
    Write(
        "agreements:party",
        "POST",
        "a_pm",
        lambda e: {"pk": e.ab_draft.pk, "party_pk": e.ab_draft_party_a.pk},
        lambda e: {
            "signatories": [e.a_admin.username],
            "required_signatures": 1,
            "legal_contact": "Legal desk",
            "technical_contact": "SOC",
            "incident_contact": "+372 000 0000",
        },
        subject=named("ab_draft_party_a"),
    ),
    Write("agreements:submit", "POST", "a_pm", _pk("ab_draft"), subject=named("ab_draft")),
    Write(
        "agreements:withdraw",
        "POST",
        "a_pm",
        _pk("ab_pending"),
        lambda e: {"reason": "Terms change."},
        subject=named("ab_pending"),
    ),
    Write(
        "agreements:sign",
        "POST",
        "a_admin",
        _pk("ab_pending"),
        lambda e: {"consent": "on", **_reauth(e, "a_admin")},
        subject=latest(Signature),
    ),
    Write(
        "agreements:decline",
        "POST",
        "a_admin",
        _pk("ab_pending"),
        lambda e: {"reason": "Clause 3 must change.", **_reauth(e, "a_admin")},
        subject=named("ab_pending"),
    ),
    Write(
        "agreements:terminate",
        "POST",
        "a_admin",
        _pk("ab_active"),
        lambda e: {"reason": "Programme ends.", "effective_on": today(10)},
        subject=named("ab_active"),
    ),
    Write("agreements:amend", "POST", "a_pm", _pk("ab_active"), subject=latest(Agreement)),
    # --- Resources ------------------------------------------------------------------------
    Write(
        "resources:create",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {**_resource_metadata(), "tags": "apt, phishing", "file": _upload()},
        subject=latest(Resource),
        multipart=True,
    ),
    Write(
        "resources:edit",
        "POST",
        "a_pm",
        _pk("a_report"),
        lambda e: {**_resource_metadata(), "tags": "apt"},
        subject=named("a_report"),
    ),
    Write(
        "resources:version-upload",
        "POST",
        "a_pm",
        _pk("a_report"),
        lambda e: {"file": _upload("v3.pdf"), "note": "Typos fixed."},
        subject=latest(ResourceVersion),
        multipart=True,
    ),
    Write(
        "resources:share",
        "POST",
        "a_pm",
        _pk("a_strict"),
        lambda e: {"option": f"{e.ab_active.pk}:{e.b.pk}", **_reauth(e, "a_pm")},
        subject=latest(Share),
    ),
    Write(
        "resources:revoke",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_report.pk, "share_pk": e.a_share.pk},
        lambda e: {"reason": "No longer needed."},
        subject=named("a_share"),
    ),
    # --- Projects -------------------------------------------------------------------------
    Write(
        "projects:create",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {
            **_project_plan(),
            "acronym": "SEC-NEW",
            "kind": "research",
            "agreement": e.ab_research.pk,
            "partners": [e.b.pk],
        },
        subject=latest(Project),
    ),
    Write(
        "projects:edit",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: _project_plan(),
        subject=named("a_project"),
    ),
    Write(
        "projects:participant-add",
        "POST",
        "a_pm",
        _pk("a_solo"),
        lambda e: {"organisation": e.b.pk, "role": "partner"},
        subject=latest(Participant),
    ),
    Write(
        "projects:participant-remove",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_project.pk, "participant_pk": e.a_project_b.pk},
    ),
    Write(
        "projects:reviewer-assign",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {"user": e.a_admin.username},
        subject=latest(ReviewerAssignment),
    ),
    Write(
        "projects:work-package-add",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "number": 2,
            "title": "Pilot",
            "lead": e.a_project_a.pk,
            "start_date": today(),
            "end_date": today(90),
        },
        subject=latest(WorkPackage),
    ),
    Write(
        "projects:milestone-add",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "work_package": e.a_wp.pk,
            "code": "MS9",
            "title": "Pilot running",
            "due_date": today(40),
            "means_of_verification": "Demo",
        },
        subject=latest(Milestone),
    ),
    Write(
        "projects:deliverable-add",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "work_package": e.a_wp.pk,
            "code": "D9.1",
            "title": "Pilot report",
            "due_date": today(40),
            "type": "report",
            "tlp": "amber",
        },
        subject=latest(Deliverable),
    ),
    Write(
        "projects:contribution-add",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "participant": e.a_project_a.pk,
            "kind": "funding",
            "amount": "1000.00",
            "unit": "EUR",
            "note": "Year one",
        },
        subject=latest(Contribution),
    ),
    Write(
        "projects:inject-add",
        "POST",
        "a_pm",
        _pk("a_exercise"),
        lambda e: {
            "release_at": f"{today(30)}T10:00",
            "title": "Ransomware at the port",
            "description": "The port authority reports encrypted servers.",
            "targets": [e.a_exercise_b.pk],
        },
        subject=latest(Inject),
    ),
    Write(
        "projects:item-due-date",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_project.pk, "item": "milestone", "item_pk": e.a_ms.pk},
        lambda e: {"due_date": today(75), "reason": "Supplier late."},
        subject=named("a_ms"),
    ),
    Write(
        "projects:item-submit",
        "POST",
        "a_pm",
        _item("milestone", "a_active_ms"),
        lambda e: {"evidence": "Minutes attached.", "late_justification": ""},
        subject=named("a_active_ms"),
    ),
    Write(
        "projects:item-review",
        "POST",
        "a_admin",
        _item("deliverable", "a_active_d"),
        lambda e: {"decision": "accept", "comment": "Fine."},
        subject=latest(Review),
    ),
    Write(
        "projects:evidence-open",
        "POST",
        "a_pm",
        lambda e: {**_item("milestone", "a_active_ms")(e), "resource_pk": e.a_report.pk},
    ),
    Write(
        "projects:evidence-close",
        "POST",
        "a_pm",
        lambda e: {**_item("milestone", "a_active_ms")(e), "resource_pk": e.a_clear.pk},
    ),
    Write("projects:activate", "POST", "a_pm", _pk("a_project"), subject=named("a_project")),
    Write(
        "projects:suspend",
        "POST",
        "a_pm",
        _pk("a_active"),
        lambda e: {"reason": "Funding gap."},
        subject=named("a_active"),
    ),
    Write("projects:resume", "POST", "a_pm", _pk("a_suspended"), subject=named("a_suspended")),
    Write("projects:complete", "POST", "a_pm", _pk("a_bare"), subject=named("a_bare")),
    Write(
        "projects:cancel",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {"reason": "Superseded."},
        subject=named("a_project"),
    ),
    # --- Intelligence -------------------------------------------------------------------
    Write(
        "intel:create-indicator",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {
            "name": "Sec new beacon",
            "pattern": "[ipv4-addr:value = '198.51.100.90']",
            "valid_from": f"{today()}T10:00",
            "tlp": "amber",
            "data_category": "threat_intelligence",
        },
        subject=latest(StixObject),
    ),
    Write(
        "intel:import",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {
            "format": "stix",
            "text": _stix_bundle(),
            "default_tlp": "green",
            "data_category": "threat_intelligence",
        },
        subject=latest(StixObject),
    ),
    Write(
        "intel:share",
        "POST",
        "a_pm",
        _pk("a_intel_strict"),
        lambda e: {"option": f"{e.ab_active.pk}:{e.b.pk}", **_reauth(e, "a_pm")},
        subject=latest(IntelShare),
    ),
    Write(
        "intel:revoke",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_intel.pk, "share_pk": e.a_intel_share.pk},
        lambda e: {"reason": "No longer needed."},
        subject=named("a_intel_share"),
    ),
    Write(
        "intel:sighting",
        "POST",
        "b_member",
        _pk("a_intel"),
        lambda e: {"count": 3, "first_seen": f"{today(-1)}T08:00", "tlp": "amber"},
        subject=latest(StixObject),
    ),
]

API_WRITES = [
    # --- The core -------------------------------------------------------------------------
    Write(
        "api-token",
        "POST",
        "",
        lambda e: {},
        lambda e: {"username": e.a_member.username, "password": e.password},
        session=False,
    ),
    # --- Agreements -----------------------------------------------------------------------
    Write(
        "agreement-list", "POST", "a_pm", lambda e: {}, _api_agreement, subject=latest(Agreement)
    ),
    Write(
        "agreement-detail",
        "PUT",
        "a_pm",
        _pk("ab_draft"),
        _api_agreement,
        subject=named("ab_draft"),
    ),
    Write(
        "agreement-detail",
        "PATCH",
        "a_pm",
        _pk("ab_draft"),
        lambda e: {"title": "Renamed draft"},
        subject=named("ab_draft"),
    ),
    Write(
        "agreement-designate",
        "POST",
        "a_pm",
        lambda e: {"pk": e.ab_draft.pk, "party_pk": e.ab_draft_party_a.pk},
        lambda e: {
            "signatories": [e.a_admin.username],
            "required_signatures": 1,
            "legal_contact": "Legal desk",
            "technical_contact": "SOC",
            "incident_contact": "+372 000 0000",
        },
        subject=named("ab_draft_party_a"),
    ),
    Write("agreement-submit", "POST", "a_pm", _pk("ab_draft"), subject=named("ab_draft")),
    Write(
        "agreement-withdraw",
        "POST",
        "a_pm",
        _pk("ab_pending"),
        lambda e: {"reason": "Terms change."},
        subject=named("ab_pending"),
    ),
    Write(
        "agreement-sign",
        "POST",
        "a_admin",
        _pk("ab_pending"),
        lambda e: {"consent": "on", **_reauth(e, "a_admin")},
        subject=latest(Signature),
    ),
    Write(
        "agreement-decline",
        "POST",
        "a_admin",
        _pk("ab_pending"),
        lambda e: {"reason": "Clause 3 must change.", **_reauth(e, "a_admin")},
        subject=named("ab_pending"),
    ),
    Write(
        "agreement-terminate",
        "POST",
        "a_admin",
        _pk("ab_active"),
        lambda e: {"reason": "Programme ends.", "effective_on": today(10)},
        subject=named("ab_active"),
    ),
    Write("agreement-amend", "POST", "a_pm", _pk("ab_active"), subject=latest(Agreement)),
    # --- Resources ------------------------------------------------------------------------
    Write(
        "resource-list",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {**_resource_metadata(), "tags": ["apt"], "note": "First", "file": _upload()},
        subject=latest(Resource),
        multipart=True,
    ),
    Write(
        "resource-detail",
        "PUT",
        "a_pm",
        _pk("a_report"),
        lambda e: {**_resource_metadata(), "tags": ["apt"]},
        subject=named("a_report"),
    ),
    Write(
        "resource-detail",
        "PATCH",
        "a_pm",
        _pk("a_report"),
        lambda e: {"title": "Renamed report"},
        subject=named("a_report"),
    ),
    Write(
        "resource-versions",
        "POST",
        "a_pm",
        _pk("a_report"),
        lambda e: {"file": _upload("v3.pdf"), "note": "Typos fixed."},
        subject=latest(ResourceVersion),
        multipart=True,
    ),
    Write(
        "resource-shares",
        "POST",
        "a_pm",
        _pk("a_strict"),
        lambda e: {"agreement": e.ab_active.pk, "recipient": e.b.slug, **_reauth(e, "a_pm")},
        subject=latest(Share),
    ),
    Write(
        "resource-revoke",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_report.pk, "share_pk": e.a_share.pk},
        lambda e: {"reason": "No longer needed."},
        subject=named("a_share"),
    ),
    # --- Intelligence ---------------------------------------------------------------------
    Write(
        "intel-import-list",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {"bundle": _stix_bundle(), "default_tlp": "green"},
        subject=latest(StixObject),
    ),
    Write(
        "intel-object-share",
        "POST",
        "a_pm",
        _pk("a_intel_strict"),
        lambda e: {"agreement": e.ab_active.pk, "recipient": e.b.slug, **_reauth(e, "a_pm")},
        subject=latest(IntelShare),
    ),
    Write(
        "intel-object-revoke",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_intel.pk, "share_pk": e.a_intel_share.pk},
        lambda e: {"reason": "No longer needed."},
        subject=named("a_intel_share"),
    ),
    Write(
        "intel-object-sightings",
        "POST",
        "b_pm",
        _pk("a_intel"),
        lambda e: {"count": 2, "first_seen": f"{today(-2)}T10:00:00Z", "tlp": "amber"},
        subject=_created_sighting,
    ),
    # --- Projects -------------------------------------------------------------------------
    Write(
        "project-list",
        "POST",
        "a_pm",
        lambda e: {},
        lambda e: {
            **_project_plan(),
            "acronym": "SEC-NEW",
            "kind": "research",
            "agreement": e.ab_research.pk,
            "partners": [e.b.slug],
        },
        subject=latest(Project),
    ),
    Write(
        "project-detail",
        "PATCH",
        "a_pm",
        _pk("a_project"),
        lambda e: {"title": "Renamed project"},
        subject=named("a_project"),
    ),
    Write("project-activate", "POST", "a_pm", _pk("a_project"), subject=named("a_project")),
    Write(
        "project-suspend",
        "POST",
        "a_pm",
        _pk("a_active"),
        lambda e: {"reason": "Funding gap."},
        subject=named("a_active"),
    ),
    Write("project-resume", "POST", "a_pm", _pk("a_suspended"), subject=named("a_suspended")),
    Write("project-complete", "POST", "a_pm", _pk("a_bare"), subject=named("a_bare")),
    Write(
        "project-cancel",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {"reason": "Superseded."},
        subject=named("a_project"),
    ),
    Write(
        "project-participants",
        "POST",
        "a_pm",
        _pk("a_solo"),
        lambda e: {"organisation": e.b.slug, "role": "partner"},
        subject=latest(Participant),
    ),
    Write(
        "project-reviewers",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {"user": e.a_admin.username},
        subject=latest(ReviewerAssignment),
    ),
    Write(
        "project-contributions",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {"participant": e.a.slug, "kind": "funding", "amount": "1000.00", "unit": "EUR"},
        subject=latest(Contribution),
    ),
    Write(
        "project-work-packages",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "number": 2,
            "title": "Pilot",
            "lead": e.a.slug,
            "start_date": today(),
            "end_date": today(90),
        },
        subject=latest(WorkPackage),
    ),
    Write(
        "project-milestones",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "work_package": 1,
            "code": "MS9",
            "title": "Pilot running",
            "due_date": today(40),
            "means_of_verification": "Demo",
        },
        subject=latest(Milestone),
    ),
    Write(
        "project-deliverables",
        "POST",
        "a_pm",
        _pk("a_project"),
        lambda e: {
            "work_package": 1,
            "code": "D9.1",
            "title": "Pilot report",
            "due_date": today(40),
            "type": "report",
            "tlp": "amber",
        },
        subject=latest(Deliverable),
    ),
    Write(
        "project-submit-milestone",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_active.pk, "item_pk": e.a_active_ms.pk},
        lambda e: {"evidence": "Minutes attached.", "resources": [e.a_report.pk]},
        subject=named("a_active_ms"),
    ),
    Write(
        "project-submit-deliverable",
        "POST",
        "a_pm",
        lambda e: {"pk": e.a_active.pk, "item_pk": e.a_active_d2.pk},
        lambda e: {"evidence": "Report attached."},
        subject=named("a_active_d2"),
    ),
    Write(
        "project-review-milestone",
        "POST",
        "a_admin",
        lambda e: {"pk": e.a_active.pk, "item_pk": e.a_active_ms2.pk},
        lambda e: {"decision": "accept", "comment": "Fine."},
        subject=latest(Review),
    ),
    Write(
        "project-review-deliverable",
        "POST",
        "a_admin",
        lambda e: {"pk": e.a_active.pk, "item_pk": e.a_active_d.pk},
        lambda e: {"decision": "request_changes", "comment": "Add the annex."},
        subject=latest(Review),
    ),
]

WRITES = WEB_WRITES + API_WRITES

#: Routes that accept an unsafe method but are not in WRITES, and why.
NOT_WRITES: dict[str, str] = {
    "taxii:objects": "TAXII 2.1 POST reads only an application/taxii+json envelope, which "
    "the abuse tests' form and JSON requests cannot carry; tests/intel/taxii covers its "
    "refusals (401, 403, 404, 413, 415, 400, CSRF for a session) and its per-object status",
}


ROUTES_BY_NAME = {route.name: route for route in all_routes()}


def write_methods(route: Route) -> list[str]:
    """The unsafe methods a route's view handles."""
    if route.viewset_actions:
        return sorted(m.upper() for m in route.viewset_actions if m in ("post", "put", "patch"))
    view = route.view_class
    if view is None:
        return []
    # Django's FormView answers PUT as POST; the web's forms send POST, and the CSRF tests
    # send every unsafe method anyway.
    allowed = getattr(view, "http_method_names", [])
    return ["POST"] if "post" in allowed and hasattr(view, "post") else []


def write_routes() -> list[tuple[Route, str]]:
    """(route, method) for every non-admin, non-allauth route that writes."""
    found = []
    for route in all_routes():
        if excluded_reason(route) or is_allauth(route):
            continue
        for method in write_methods(route):
            found.append((route, method))
    return found


def allauth_write_routes() -> list[Route]:
    return [route for route in all_routes() if is_allauth(route) and write_methods(route)]
