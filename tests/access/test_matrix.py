"""The cross-tenant matrix: every route of the site, as every kind of user.

Routes are found by walking the URLconf (HTML views and the API router alike), so a new view
is covered the moment it is routed. What each user may get is stated once per (model, action)
in EXPECTED; a route whose (model, action) has no row fails until someone decides.

The object under test always belongs to nation A. Users:
- anonymous;
- unrelated: a member of nation C, with no tie to A;
- same_org_no_role: a member of A with no role;
- granted: A's admin, who holds every role;
- staff: platform staff, who must not bypass object grants.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from intel.collections import agreement_collection_id
from portal.api.base import AccessViewSet
from portal.base_views import AccessListView, ChildListView, ObjectAccessMixin, PublicMixin
from portal.models import Notification, Role
from tests.access.routes import Route, all_routes, excluded_reason, is_allauth
from tests.conftest import make_world
from tests.factories import UserFactory

OK, HIDDEN, FORBIDDEN = "ok", "hidden (404)", "forbidden (403)"
USERS = ["anonymous", "unrelated", "same_org_no_role", "granted", "staff"]

EXPECTED = {
    # The directory entry is public to every signed-in user.
    ("portal.organisation", "view"): {
        "unrelated": OK,
        "same_org_no_role": OK,
        "granted": OK,
        "staff": OK,
    },
    # Member lists: the organisation itself (and, later, partners with an active agreement).
    ("portal.organisation", "view_members"): {
        "unrelated": HIDDEN,
        "same_org_no_role": OK,
        "granted": OK,
        "staff": HIDDEN,
    },
    # Managing people: the organisation's own admins only.
    ("portal.organisation", "manage_members"): {
        "unrelated": FORBIDDEN,
        "same_org_no_role": FORBIDDEN,
        "granted": OK,
        "staff": FORBIDDEN,
    },
    # The audit log: the organisation's own admins only; the directory entry is public, so
    # everyone else is refused rather than told it does not exist.
    ("portal.organisation", "view_history"): {
        "unrelated": FORBIDDEN,
        "same_org_no_role": FORBIDDEN,
        "granted": OK,
        "staff": FORBIDDEN,
    },
}

_PARTIES_ONLY = {"unrelated": HIDDEN, "same_org_no_role": OK, "granted": OK, "staff": HIDDEN}
_PARTY_ROLE = {"unrelated": HIDDEN, "same_org_no_role": FORBIDDEN, "granted": OK, "staff": HIDDEN}
EXPECTED.update(
    {
        # Agreements: members of the parties only; everyone else must not learn they exist.
        ("agreements.agreement", "view"): _PARTIES_ONLY,
        **{
            ("agreements.agreement", action): _PARTY_ROLE
            for action in ("edit", "submit", "withdraw", "sign", "terminate", "amend")
        },
    }
)

_OWNER_ROLE = _PARTY_ROLE
EXPECTED.update(
    {
        # Resources: A's AMBER report, shared with B. C and staff must not learn it exists.
        ("resources.resource", "view"): _PARTIES_ONLY,
        ("resources.resource", "download"): _PARTIES_ONLY,
        ("resources.resource", "change"): _OWNER_ROLE,
        ("resources.resource", "share"): _OWNER_ROLE,
        ("resources.resource", "view_access_report"): _OWNER_ROLE,
        ("agreements.agreement", "view_access_report"): _PARTY_ROLE,
        # Projects: participants' members and assigned reviewers only.
        ("projects.project", "view"): _PARTIES_ONLY,
        ("projects.project", "manage"): _PARTY_ROLE,
        ("projects.project", "submit"): _PARTY_ROLE,
        ("projects.project", "review"): _PARTY_ROLE,
        ("projects.project", "open_evidence"): _PARTY_ROLE,
    }
)

_OWNER_MEMBERS = {"unrelated": HIDDEN, "same_org_no_role": OK, "granted": OK, "staff": HIDDEN}
EXPECTED.update(
    {
        # Intelligence: A's AMBER indicator, shared with B. Anyone who sees it reports
        # sightings; only A sees who has it and its history; A's programme managers share.
        ("intel.stixobject", "view"): _PARTIES_ONLY,
        ("intel.stixobject", "sight"): _PARTIES_ONLY,
        ("intel.stixobject", "share"): _OWNER_ROLE,
        ("intel.stixobject", "view_access"): _OWNER_MEMBERS,
        ("intel.stixobject", "view_history"): _OWNER_MEMBERS,
        # TAXII: the A-B agreement's collection is its parties'; adding objects to it shares
        # them, so it is for programme managers. A status is its poster's (A's admin) alone.
        ("intel.collection", "view"): _PARTIES_ONLY,
        ("intel.collection", "add_objects"): _PARTY_ROLE,
        ("intel.taxiistatus", "view"): {
            "unrelated": HIDDEN,
            "same_org_no_role": HIDDEN,
            "granted": OK,
            "staff": HIDDEN,
        },
    }
)

#: The world object each model's routes point at.
TARGETS = {
    "portal.organisation": lambda world: world.a,
    "agreements.agreement": lambda world: world.ab_agreement,
    "resources.resource": lambda world: world.a_resource,
    "projects.project": lambda world: world.a_project,
    "intel.stixobject": lambda world: world.a_intel,
    # A TAXII collection is an agreement's: its routes point at the A-B agreement.
    "intel.collection": lambda world: world.ab_agreement,
    "intel.taxiistatus": lambda world: world.a_taxii_status,
}


#: Strings of A's that unrelated users and staff must never see in any response.
def _secrets(world) -> list[str]:
    return [
        world.a_member.username,
        world.a_member.email,
        world.a_pm.email,
        world.ab_agreement.title,
        world.a_resource.title,
        world.a_project.title,
        world.a_intel.name,
    ]


@pytest.fixture
def matrix_world(world, settings, tmp_path):
    """The core world plus an active A-B agreement (A's admin is a designated signatory) and
    A's AMBER report shared with B under it."""
    settings.STORAGES = _private_storage(settings, tmp_path)
    return _build_matrix_world(world)


def _private_storage(settings, tmp_path) -> dict:
    return {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture(scope="module")
def _matrix_world_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """The matrix world built once for the module's thousand requests; each test's own
    writes are rolled back after it (its transaction is a savepoint inside this one)."""
    from django.test.utils import override_settings

    storages = _private_storage(django_settings, tmp_path_factory.mktemp("matrix"))
    with (
        django_db_blocker.unblock(),
        override_settings(STORAGES=storages),
        transaction.atomic(),
    ):
        yield _build_matrix_world(make_world())
        transaction.set_rollback(True)


@pytest.fixture
def shared_matrix_world(_matrix_world_once, db):
    return _matrix_world_once


def _build_matrix_world(world):
    from agreements import services
    from tests.agreements.conftest import draft_between, sign_by_all
    from tests.resources.conftest import new_resource, share_with_b

    world.extra["b_signatory"] = UserFactory(
        organisation=world.b, username="bor-signatory", roles=[Role.SIGNATORY]
    )
    # B's programme manager designates B's signatory on each agreement with A.
    world.extra["b_pm"] = UserFactory(
        organisation=world.b, username="bor-pm", roles=[Role.PROGRAMME_MANAGER]
    )
    agreement = draft_between(world, title="Atlantis-Borealis pact 7Q")
    services.submit(actor=world.a_pm, agreement=agreement)
    world.extra["ab_agreement"] = sign_by_all(world, agreement)
    world.extra["a_resource"] = new_resource(world, title="Atlantis AMBER report 3X")
    world.extra["a_share"] = share_with_b(world, world.a_resource)
    _add_project(world)
    _add_intel(world)
    return world


def _add_intel(world) -> None:
    """A's AMBER indicator, shared with B under the A-B agreement, and a TAXII status of a
    POST by A's admin to the A-B collection."""
    from intel import services as intel_services
    from tests.intel.conftest import indicator

    result = intel_services.import_objects(
        actor=world.a_pm, raw=indicator("198.51.100.23", name="Atlantis beacon 8W")
    )
    world.extra["a_intel"] = result.stored[0]
    world.extra["a_intel_share"] = intel_services.share_object(
        actor=world.a_pm, obj=world.a_intel, agreement=world.ab_agreement, recipient=world.b
    )[0]
    world.extra["a_taxii_status"] = intel_services.add_to_collection(
        actor=world.a_admin,
        raw={"objects": [indicator("198.51.100.24")]},
        agreement=world.ab_agreement,
    )


def _add_project(world) -> None:
    """A's project with B under an A-B joint R&D agreement; A's admin reviews it."""
    import datetime

    from django.utils import timezone

    from agreements import services as agreement_services
    from projects import services as project_services
    from projects.models import CalendarFeed
    from tests.agreements.conftest import draft_between, sign_by_all

    today = timezone.localdate()
    research = draft_between(world, kind="joint_rd", title="A-B research agreement")
    agreement_services.submit(actor=world.a_pm, agreement=research)
    sign_by_all(world, research)
    project = project_services.create_project(
        actor=world.a_pm,
        acronym="ATLAS-9",
        title="Atlantis secret project 9Z",
        kind="research",
        agreement=research,
        start_date=today,
        end_date=today + datetime.timedelta(days=300),
        partners=[world.b],
    )
    coordinator = project.participants.get(organisation=world.a)
    wp = project_services.add_work_package(
        actor=world.a_pm,
        project=project,
        number=1,
        title="Design",
        lead=coordinator,
        start_date=today,
        end_date=today + datetime.timedelta(days=100),
    )
    world.extra["a_milestone"] = project_services.add_milestone(
        actor=world.a_pm,
        work_package=wp,
        code="MS1",
        title="Design agreed",
        due_date=today + datetime.timedelta(days=50),
    )
    world.extra["a_deliverable"] = project_services.add_deliverable(
        actor=world.a_pm,
        work_package=wp,
        code="D1.1",
        title="Design report",
        type="report",
        tlp="amber",
        due_date=today + datetime.timedelta(days=60),
    )
    world.a_milestone.linked_resources.add(world.a_resource)
    project_services.assign_reviewer(actor=world.a_pm, project=project, user=world.a_admin)
    world.extra["a_project"] = project
    world.extra["a_participant"] = project.participants.get(organisation=world.b)
    # The public calendar route is checked with C's own feed: it must show nothing of A's.
    world.extra["c_feed"] = CalendarFeed.objects.create(user=world.c_member)


def _cases():
    cases = []
    for route in all_routes():
        if excluded_reason(route):
            continue
        for method in _methods(route):
            for user_kind in USERS:
                cases.append(
                    pytest.param(route, method, user_kind, id=f"{route}-{method}-{user_kind}")
                )
    return cases


def _methods(route: Route) -> list[str]:
    if route.viewset_actions:
        return sorted(m.upper() for m in route.viewset_actions if m in ("get", "post"))
    allowed = getattr(route.view_class, "http_method_names", ["get"])
    return [m.upper() for m in ("get", "post") if m in allowed] or ["GET"]


def subject_of(route: Route, method: str) -> tuple[str, str] | None:
    """(model label, access action) a route acts on, or None for a page with no object."""
    view = route.view_class
    if getattr(view, "access_subjects", None) is not None:  # TAXII (intel/taxii/views.py)
        return view.access_subjects.get(method.upper())
    if view is not None and issubclass(view, AccessViewSet):
        if not route.kwarg_names:
            return None  # a list: filtered by visible_to, checked by the leak assertions
        action = route.viewset_actions[method.lower()]
        model = view.queryset.model
        return model._meta.label_lower, view().access_action_for(action)
    if view is not None and issubclass(view, ObjectAccessMixin):
        return view.model._meta.label_lower, view.access_action
    return None


@pytest.mark.parametrize(("route", "method", "user_kind"), _cases())
def test_route_answers_each_user_as_the_policy_says(shared_matrix_world, route, method, user_kind):
    world = shared_matrix_world
    subject = subject_of(route, method)
    target = TARGETS[subject[0]](world) if subject else world.a
    url = route.url(_kwargs(route, world, target))
    client = _client(route, world, user_kind)

    response = client.generic(method, url)

    assert response.status_code < 500, f"{method} {url} as {user_kind} crashed"
    if route.view_class is not None and issubclass(route.view_class, PublicMixin):
        # Public routes answer everyone alike; one that takes input (API token creation)
        # refuses the matrix's empty request as invalid.
        allowed = {200} if method in ("GET", "HEAD") else {200, 400}
        assert response.status_code in allowed, f"public {url} answered {response.status_code}"
        _assert_no_leak(world, "unrelated", response, url)
        return
    if user_kind == "anonymous":
        _assert_anonymous_refused(route, response, url)
        return
    _assert_no_leak(world, user_kind, response, url)
    if is_allauth(route):
        return  # the user's own account pages: nothing of anyone else to refuse
    if subject is None:
        required_role = getattr(route.view_class, "required_role", "")
        if required_role and not _holds_role(world, user_kind, required_role):
            assert response.status_code == 403, f"{method} {url} as {user_kind}"
        else:
            assert response.status_code not in (401, 403, 404), f"{method} {url} as {user_kind}"
        return
    try:
        expected = EXPECTED[subject][user_kind]
    except KeyError:
        pytest.fail(f"No expectation for {subject} in the matrix; add one to EXPECTED.")
    status = response.status_code
    if expected == HIDDEN:
        assert status == 404, f"{method} {url} as {user_kind}: {status}, expected 404"
    elif expected == FORBIDDEN:
        assert status == 403, f"{method} {url} as {user_kind}: {status}, expected 403"
    else:
        assert status not in (401, 403, 404), f"{method} {url} as {user_kind}: {status}"


def test_every_list_route_is_filtered_by_the_access_layer():
    """Lists must come from AccessListView, ChildListView or AccessViewSet, never by hand."""
    for route in all_routes():
        view = route.view_class
        if view is None or excluded_reason(route) or is_allauth(route):
            continue
        if getattr(view, "model", None) is not None or getattr(view, "queryset", None) is not None:
            assert issubclass(view, ObjectAccessMixin | AccessListView | ChildListView) or (
                issubclass(view, AccessViewSet)
            ), f"{route} reads a model without the access base classes"


def _kwargs(route: Route, world, target) -> dict:
    values = {}
    for name in route.kwarg_names:
        if name in ("pk", "slug"):
            values[name] = getattr(target, name)
        elif name == "member_pk":
            values[name] = world.a_member.membership.pk
        elif name == "party_pk":
            values[name] = target.parties.get(organisation=world.a).pk
        elif name == "number":
            values[name] = 1
        elif name == "share_pk":
            intel = target is world.a_intel
            values[name] = (world.a_intel_share if intel else world.a_share).pk
        elif name == "item":
            values[name] = "milestone"
        elif name == "item_pk":
            deliverable = "deliverable" in route.pattern
            values[name] = (world.a_deliverable if deliverable else world.a_milestone).pk
        elif name == "resource_pk":
            values[name] = world.a_resource.pk  # linked to A's milestone as its evidence
        elif name == "notice_pk":
            # A's admin's notice: its owner opens it, anyone else is sent to their own list.
            values[name] = Notification.objects.filter(user=world.a_admin).first().pk
        elif name == "participant_pk":
            values[name] = world.a_participant.pk
        elif name == "token":
            values[name] = world.c_feed.token
        elif name == "collection_id":
            values[name] = agreement_collection_id(world.ab_agreement.reference)
        elif name == "object_id":
            values[name] = world.a_intel.stix_id
        elif name == "status_id":
            values[name] = world.a_taxii_status.uuid
        elif is_allauth(route):
            values[name] = "x1"  # keys and tokens of account e-mails: a wrong one is fine
        else:
            pytest.fail(f"Teach the matrix what <{name}> means in {route}")
    return values


def _client(route: Route, world, user_kind: str):
    client = APIClient() if route.is_api else Client()
    user = {
        "anonymous": None,
        "unrelated": world.c_member,
        "same_org_no_role": world.a_member,
        "granted": world.a_admin,
        "staff": world.staff,
    }[user_kind]
    if user is not None:
        client.force_login(user)
    return client


def _assert_anonymous_refused(route: Route, response, url: str) -> None:
    if is_allauth(route):
        assert response.status_code in (200, 302, 404, 405), url
        return
    if route.is_api:
        assert response.status_code in (401, 403), f"anonymous got {response.status_code} at {url}"
    else:
        assert response.status_code == 302, f"anonymous got {response.status_code} at {url}"
        assert response["Location"].startswith("/accounts/login/"), url


def _assert_no_leak(world, user_kind: str, response, url: str) -> None:
    """What is A's (its people, its agreement with B) is hidden from C and from staff."""
    if user_kind not in ("unrelated", "staff"):
        return
    body = response.content.decode(errors="replace")
    for secret in _secrets(world):
        assert secret not in body, f"{url} shows {secret!r} to {user_kind}"


def _holds_role(world, user_kind: str, role: str) -> bool:
    user = {
        "unrelated": world.c_member,
        "same_org_no_role": world.a_member,
        "granted": world.a_admin,
        "staff": world.staff,
    }[user_kind]
    membership = getattr(user, "membership", None)
    return bool(membership and membership.has_role(role))
