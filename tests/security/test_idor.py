"""Insecure direct object references: nation C puts a child id of nation A's (a milestone, a
party, a share, a member...) under a parent of its own, which C may see and act on. The child
must not be found (404), and nothing may change. The matrix in tests/access covers A's parents
themselves; this covers what it cannot: routes whose URL or body names a child.

Routes are found by walking the URLconf: any URL keyword besides the parent's pk or slug names
a child, and CHILDREN must say how to pick C's own child and A's for it.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.fields import IntegerField

from portal.api.base import AccessViewSet
from portal.base_views import ObjectAccessMixin
from resources.models import Resource
from tests.access.routes import Route, all_routes, excluded_reason, is_allauth
from tests.security.estate import Estate
from tests.security.support import (
    changes,
    client_for,
    describe_change,
    form_errors,
    rolled_back,
    send,
    snapshot,
)
from tests.security.writes import API_WRITES, WEB_WRITES, WRITES, write_methods

PARENT_KWARGS = {"pk", "slug"}
#: URL keywords that are not object ids: the calendar's secret (tested in tests/projects) and
#: the kind of project item (its id is item_pk).
NOT_CHILDREN = {"token", "item"}


@dataclass(frozen=True)
class Where:
    """The route's pattern, and the item kind a web item URL carries."""

    pattern: str
    item: str = ""


@dataclass(frozen=True)
class Child:
    """How a child keyword is filled: C's own child (the control) and A's (the attack)."""

    own: Callable[[Estate, Where], object]
    foreign: Callable[[Estate, Where], object]
    #: The child row of A's that must stay as it was.
    foreign_row: Callable[[Estate, Where], object] = lambda e, where: None


def _item(where: Where, e, side: str):
    """The project item for an item route: one in the state the route's action needs."""
    kind = "deliverable" if "deliverable" in where.pattern + where.item else "milestone"
    action = next(a for a in ("review", "submit", "due-date", "evidence") if a in where.pattern)
    states = {  # (C's own, A's): planned items to submit or reschedule, submitted to review
        ("milestone", "evidence"): ("c_ms2", "a_active_ms2"),  # linking the report
        ("deliverable", "evidence"): ("c_d", "a_active_d"),  # linking a version of it
        ("milestone", "submit"): ("c_ms", "a_active_ms"),
        ("milestone", "due-date"): ("c_ms", "a_active_ms"),
        ("milestone", "review"): ("c_ms2", "a_active_ms2"),
        ("deliverable", "submit"): ("c_d2", "a_active_d2"),
        ("deliverable", "due-date"): ("c_d2", "a_active_d2"),
        ("deliverable", "review"): ("c_d", "a_active_d"),
    }
    own, foreign = states[(kind, action)]
    return getattr(e, own if side == "own" else foreign)


def _share(where: Where, e, side: str):
    """A resource's share, or an intelligence object's for the intelligence routes."""
    intel = "intel" in where.pattern
    return getattr(e, f"{'c' if side == 'own' else 'a'}_{'intel_share' if intel else 'share'}")


CHILDREN = {
    "member_pk": Child(
        own=lambda e, where: e.c_member.membership.pk,
        foreign=lambda e, where: e.a_member.membership.pk,
        foreign_row=lambda e, where: e.a_member.membership,
    ),
    "party_pk": Child(
        own=lambda e, where: e.cb_draft_party_c.pk,
        foreign=lambda e, where: e.ab_draft_party_a.pk,
        foreign_row=lambda e, where: e.ab_draft_party_a,
    ),
    "share_pk": Child(
        own=lambda e, where: _share(where, e, "own").pk,
        foreign=lambda e, where: _share(where, e, "foreign").pk,
        foreign_row=lambda e, where: _share(where, e, "foreign"),
    ),
    # Version numbers count per resource: A's report has a version 2, C's report has not.
    "number": Child(own=lambda e, where: 1, foreign=lambda e, where: 2),
    "participant_pk": Child(
        own=lambda e, where: e.c_project_b.pk,
        foreign=lambda e, where: e.a_project_b.pk,
        foreign_row=lambda e, where: e.a_project_b,
    ),
    # The evidence a project item links: C's report under C's items, A's report under them.
    "resource_pk": Child(
        own=lambda e, where: e.c_report.pk,
        foreign=lambda e, where: e.a_report.pk,
        foreign_row=lambda e, where: e.a_report,
    ),
    "item_pk": Child(
        own=lambda e, where: _item(where, e, "own").pk,
        foreign=lambda e, where: _item(where, e, "foreign").pk,
        foreign_row=lambda e, where: _item(where, e, "foreign"),
    ),
}

#: C's parent for each parent model.
PARENTS = {
    "portal.organisation": lambda e: {"slug": e.c.slug},
    "agreements.agreement": lambda e: {"pk": e.cb_draft.pk},
    "resources.resource": lambda e: {"pk": e.c_report.pk},
    "projects.project": lambda e: {"pk": e.c_project.pk},
    "intel.stixobject": lambda e: {"pk": e.c_intel.pk},
}


def _today(days=0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


#: What C sends to a child route: what would do harm if the child were found.
BODIES = {
    "member-roles": lambda e: {"roles": ["org_admin", "programme_manager"]},
    "party": lambda e: {
        "signatories": [e.c_admin.username],
        "required_signatures": 1,
        "legal_contact": "pwned",
    },
    "revoke": lambda e: {"reason": "pwned"},
    "item-due-date": lambda e: {"due_date": _today(90), "reason": "pwned"},
    "item-submit": lambda e: {"evidence": "pwned", "late_justification": "pwned"},
    "submit": lambda e: {"evidence": "pwned"},
    "review": lambda e: {"decision": "accept", "comment": "pwned"},
}


def _body(route: Route, e) -> dict:
    name = route.name.split(":")[-1]
    for key, body in BODIES.items():
        if name == key or name.endswith(f"-{key}") or name.startswith(f"{key}-"):
            return body(e)
    return {}


@dataclass(frozen=True)
class Case:
    route: Route
    method: str
    item: str = ""  # the web item routes take the kind in the URL

    @property
    def where(self) -> Where:
        return Where(self.route.pattern, self.item)

    def __str__(self) -> str:
        return f"{self.method} {self.route.name}{'/' + self.item if self.item else ''}"


def _parent_model(route: Route) -> str:
    view = route.view_class
    if issubclass(view, AccessViewSet):
        return view.queryset.model._meta.label_lower
    return view.model._meta.label_lower


def child_routes() -> list[Route]:
    found = []
    for route in all_routes():
        if excluded_reason(route) or is_allauth(route):
            continue
        # TAXII names collections, STIX ids and statuses, not child rows of a parent: the
        # matrix and tests/intel/taxii try C against A's collection, object and status.
        if route.pattern.startswith("taxii2/"):
            continue
        # A notice is its reader's own, not the child of a parent: another's notice answers
        # as a missing one (tests/portal/test_notifications.py tries C against A's).
        if route.name.startswith("portal:notification"):
            continue
        if _child_names(route):
            found.append(route)
    return found


def _methods(route: Route) -> list[str]:
    if route.viewset_actions:
        return sorted(m.upper() for m in route.viewset_actions)
    view = route.view_class
    reads = ["GET"] if hasattr(view, "get") and "get" in view.http_method_names else []
    return reads + write_methods(route)


def _cases() -> list[Case]:
    cases = []
    for route in child_routes():
        kinds = ["milestone", "deliverable"] if "item" in route.kwarg_names else [""]
        cases += [Case(route, method, kind) for method in _methods(route) for kind in kinds]
    return cases


def test_every_child_keyword_is_understood():
    unknown = {
        f"<{name}> in {route}"
        for route in child_routes()
        for name in _child_names(route)
        if name not in CHILDREN
    }
    assert not unknown, f"Teach tests/security/test_idor.py's CHILDREN: {sorted(unknown)}"
    for route in child_routes():
        view = route.view_class
        assert issubclass(view, ObjectAccessMixin | AccessViewSet), route
        assert _parent_model(route) in PARENTS, f"Which parent of C's for {route}?"


def _child_names(route: Route) -> set[str]:
    return set(route.kwarg_names) - PARENT_KWARGS - NOT_CHILDREN


def _url(case: Case, e, side: str) -> str:
    kwargs = dict(PARENTS[_parent_model(case.route)](e))
    if case.item:
        kwargs["item"] = case.item
    for name in _child_names(case.route):
        child = CHILDREN[name]
        kwargs[name] = (child.own if side == "own" else child.foreign)(e, case.where)
    return case.route.url(kwargs)


def _send(client, case: Case, url: str, e):
    if case.method == "GET":
        return client.get(url)
    data = _body(case.route, e)
    if case.route.is_api:
        return getattr(client, case.method.lower())(url, data, format="json")
    return client.generic(
        case.method,
        url,
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.mark.parametrize("case", _cases(), ids=str)
def test_a_foreign_child_under_ones_own_parent_is_not_found(estate, case):
    client = client_for(estate.c_admin, api=case.route.is_api)

    # Control: C's own child under C's parent is served, so a 404 below is the mismatch's.
    with rolled_back():
        own = _send(client, case, _url(case, estate, "own"), estate)
        assert own.status_code not in (403, 404, 405), f"{case} own child: {own.status_code}"

    foreign_row = next(
        (
            row
            for name in _child_names(case.route)
            if (row := CHILDREN[name].foreign_row(estate, case.where)) is not None
        ),
        None,
    )
    before_row = snapshot(foreign_row) if foreign_row is not None else None
    before = changes()

    response = _send(client, case, _url(case, estate, "foreign"), estate)

    assert response.status_code == 404, f"{case}: {response.status_code}"
    assert changes() == before, describe_change(before, changes())
    if foreign_row is not None:
        assert snapshot(foreign_row) == before_row


# --- Ids in the body: a form or serializer field that names another tenant's object ---------


def _model_choice_fields(form) -> list[str]:
    return [
        name
        for name, field in form.fields.items()
        if isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField)
    ]


def test_no_form_field_accepts_an_object_outside_its_choices(estate):
    """Every model-choice field of every form page, given an id of the same model that the
    form does not offer: another project's participant or work package, a resource the user
    cannot see, a person who is no signatory of the party, an agreement of other nations."""
    tried, offenders = set(), []
    for write in WEB_WRITES:
        client = client_for(write.user(estate))
        page = client.get(write.url(estate))
        if page.status_code != 200 or "form" not in (page.context or {}):
            continue
        form = page.context["form"]
        for name in _model_choice_fields(form):
            field = form.fields[name]
            outside = field.queryset.model._default_manager.exclude(
                pk__in=field.queryset.values("pk")
            )
            foreign = outside.order_by("-pk").first()
            if foreign is None:
                continue  # the field offers every row there is
            tried.add(name)
            multiple = isinstance(field, forms.ModelMultipleChoiceField)
            # The form's own key for a row: a person's username, anything else's id.
            value = getattr(foreign, field.to_field_name or "pk")
            data = {**write.data(estate), name: [value] if multiple else value}
            with rolled_back():
                before = changes()
                response = send(client, write, estate, data)
                if (
                    response.status_code != 200
                    or name not in form_errors(response)
                    or changes() != before
                ):
                    offenders.append(f"{write} took {name}={foreign!r}")
    assert not offenders, offenders
    # The walk reached the fields that name other tenants' objects.
    assert {"lead", "work_package", "participant", "targets", "user", "signatories"} <= tried
    assert {"agreement", "organisation", "resources"} <= tried, tried


def test_the_share_dialog_refuses_an_option_it_did_not_offer(estate):
    """The option names (agreement, recipient): C's agreement, or C as recipient."""
    write = next(w for w in WEB_WRITES if w.route == "resources:share")
    client = client_for(estate.a_pm)
    for option in (
        f"{estate.cb_active.pk}:{estate.b.pk}",
        f"{estate.ab_active.pk}:{estate.c.pk}",
        f"{estate.cb_active.pk}:{estate.c.pk}",
    ):
        before = changes()
        response = send(client, write, estate, {**write.data(estate), "option": option})
        assert response.status_code == 200
        assert "option" in form_errors(response)
        assert changes() == before


#: API fields that name objects (by id or short name), and another tenant's value for each.
API_FOREIGN_FIELDS = [
    ("project-list", "agreement", lambda e: e.cb_research.pk),
    ("project-list", "partners", lambda e: [e.c.slug]),
    ("project-list", "observers", lambda e: [e.c.slug]),
    ("project-work-packages", "lead", lambda e: e.c.slug),
    ("project-contributions", "participant", lambda e: e.c.slug),
    ("project-participants", "organisation", lambda e: e.c.slug),
    ("project-reviewers", "user", lambda e: e.c_admin.username),
    ("project-submit-milestone", "resources", lambda e: [e.c_report.pk]),
    ("project-submit-deliverable", "versions", lambda e: [e.c_report.versions.get().pk]),
    ("resource-shares", "agreement", lambda e: e.cb_active.pk),
    ("resource-shares", "recipient", lambda e: e.c.slug),
    ("intel-object-share", "agreement", lambda e: e.cb_active.pk),
    ("intel-object-share", "recipient", lambda e: e.c.slug),
]


#: Relational API fields that cannot name another tenant's object, and why.
NOT_FOREIGN = {
    ("agreement-list", "parties"): "any active organisation may be invited to be a party",
    ("agreement-detail", "parties"): "any active organisation may be invited to be a party",
    ("project-milestones", "work_package"): "a number within the project: none of another's",
    ("project-deliverables", "work_package"): "a number within the project: none of another's",
}


def test_every_api_field_that_names_an_object_is_attacked():
    """Found from the serializers: related fields, and lists of ids."""
    found = {
        (write.route, name)
        for write in API_WRITES
        for name, field in _request_fields(write).items()
        if isinstance(field, serializers.RelatedField | serializers.ManyRelatedField)
        or (isinstance(field, serializers.ListField) and isinstance(field.child, IntegerField))
    }
    covered = {(route, name) for route, name, _ in API_FOREIGN_FIELDS} | set(NOT_FOREIGN)
    assert found, "no relational field found: the serializer walk is broken"
    assert found <= covered, f"Add to API_FOREIGN_FIELDS: {sorted(found - covered)}"


@functools.cache
def _request_serializers() -> dict[tuple[str, str], object]:
    """(path template, method) -> the request serializer, as the OpenAPI generator sees it."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = {}
    for path, path_regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.schema.get_operation(path, path_regex, "", method, generator.registry)
        serializer = view.schema.get_request_serializer()
        if isinstance(serializer, dict):  # per media type
            serializer = next(iter(serializer.values()))
        if isinstance(serializer, type):
            serializer = serializer()
        found[(re.sub(r"\{[^}]+\}", "{}", path), method)] = serializer
    return found


def _request_fields(write) -> dict:
    route = write.route_obj
    template = route.url({name: "{}" for name in route.kwarg_names})
    serializer = _request_serializers()[(template, write.method)]
    if serializer is None:
        return {}
    return {name: f for name, f in serializer.fields.items() if not f.read_only}


@pytest.mark.parametrize(
    ("route", "name", "value"),
    API_FOREIGN_FIELDS,
    ids=[f"{r}.{n}" for r, n, _ in API_FOREIGN_FIELDS],
)
def test_an_api_field_cannot_name_another_tenants_object(estate, route, name, value):
    write = next(w for w in WRITES if w.route == route and w.method == "POST")
    client = client_for(write.user(estate), api=True)
    before = changes()

    response = send(client, write, estate, {**write.data(estate), name: value(estate)})

    assert response.status_code == 400, response.content[:300]
    assert response.json()["message"]
    assert changes() == before, describe_change(before, changes())


# --- Sequential ids on downloads -------------------------------------------------------------


def _download_urls(pk: int) -> list[str]:
    return [
        reverse("resources:download", args=[pk]),
        reverse("resources:version-download", args=[pk, 1]),
        reverse("resource-download", args=[pk]),
        reverse("resource-download", args=[pk]) + "?version=1",
    ]


def test_walking_resource_ids_downloads_only_what_one_may_see(estate):
    client = client_for(estate.c_admin)
    # Ids are random, so nobody can walk them all: try every id there is, and some that are not.
    existing = set(Resource.objects.values_list("pk", flat=True))
    allowed = {estate.c_report.pk, estate.a_clear.pk}  # its own, and A's TLP:CLEAR note
    served = set()
    for pk in sorted(existing | {1, 2, 3, max(existing) + 1}):
        for url in _download_urls(pk):
            response = client.get(url)
            if response.status_code == 200:
                served.add(pk)
            else:
                assert response.status_code == 404, f"{url}: {response.status_code}"
    assert served == allowed


def _normalised(response, url: str) -> str:
    """The body without what differs between any two requests: the URL, nonces, tokens."""
    body = response.content.decode().replace(url.split("?")[0], "URL")
    body = re.sub(r'nonce="[^"]*"', "", body)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", body)


def test_a_hidden_resource_answers_exactly_like_a_missing_one(estate):
    client = client_for(estate.c_admin)
    missing = Resource.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    for hidden_url, missing_url in zip(
        _download_urls(estate.a_report.pk), _download_urls(missing), strict=True
    ):
        hidden, absent = client.get(hidden_url), client.get(missing_url)
        assert hidden.status_code == absent.status_code == 404
        assert _normalised(hidden, hidden_url) == _normalised(absent, missing_url)


def test_a_partner_downloads_what_is_shared_with_it_and_nothing_else(estate):
    client = client_for(estate.b_member)
    served = {
        pk
        for pk in Resource.objects.values_list("pk", flat=True)
        if client.get(reverse("resources:download", args=[pk])).status_code == 200
    }
    assert served == {estate.a_report.pk, estate.a_clear.pk, estate.c_report.pk}
