"""Meta-tests: no routed view may sidestep the access base classes."""

from portal import access
from portal.api.base import AccessViewSet, SignedInAPIMixin
from portal.base_views import ObjectAccessMixin, PublicMixin, SignedInMixin
from tests.access.routes import all_routes, excluded_reason, is_allauth


def test_every_routed_view_uses_the_access_base_classes():
    offenders = []
    for route in all_routes():
        if excluded_reason(route) or is_allauth(route):
            continue
        view = route.view_class
        if view is None or not issubclass(view, SignedInMixin | SignedInAPIMixin | PublicMixin):
            offenders.append(str(route))
    assert not offenders, f"Views outside the access base classes: {offenders}"


def test_every_object_view_names_an_action_its_policy_knows():
    for route in all_routes():
        view = route.view_class
        if view is None or not issubclass(view, ObjectAccessMixin):
            continue
        policy = access.policy_for(view.model)
        known = policy.grant_actions | set(policy.rules)
        assert view.access_action in known, f"{route}: unknown action {view.access_action!r}"


def test_every_api_action_declares_its_access_action():
    for route in all_routes():
        view = route.view_class
        if view is None or not issubclass(view, AccessViewSet) or not route.kwarg_names:
            continue
        policy = access.policy_for(view.queryset.model)
        known = policy.grant_actions | set(policy.rules)
        for viewset_action in route.viewset_actions.values():
            action = view().access_action_for(viewset_action)
            assert action in known, f"{route}.{viewset_action}: unknown access action {action!r}"


def test_the_matrix_finds_the_core_routes():
    """Guards the URLconf walker itself: if it found nothing, the matrix would pass vacuously."""
    names = {route.name for route in all_routes()}
    for expected in (
        "portal:dashboard",
        "portal:organisation-detail",
        "portal:member-list",
        "portal:member-invite",
        "portal:member-roles",
        "portal:member-activation",
        "organisation-list",
        "organisation-detail",
        "organisation-members",
        "api-me",
        "agreements:detail",
        "agreements:sign",
        "agreement-sign",
        "agreement-evidence",
    ):
        assert expected in names
