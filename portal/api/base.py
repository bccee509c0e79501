"""Base classes for every API view, so no endpoint can forget the access layer.

- `SignedInAPIMixin`: authentication required (token or session).
- `AccessViewSet`: lists pass through `access.visible_to`; one object is fetched with
  `access.get_object_or_404`, which answers 404 for hidden and 403 for not-allowed.

tests/access/test_meta.py fails for any routed API view that does not derive from these.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import routers
from rest_framework.permissions import IsAuthenticated
from rest_framework.viewsets import GenericViewSet

from portal import access


class SignedInAPIMixin:
    permission_classes = [IsAuthenticated]


class AccessViewSet(SignedInAPIMixin, GenericViewSet):
    """A viewset whose rows and objects always come through the access layer.

    `access_actions` maps a viewset action (retrieve, update, sign, ...) to the access action
    it requires; reads default to "view", and writes must be declared.
    """

    access_actions: dict[str, str] = {}
    read_actions = frozenset({"list", "retrieve", "metadata"})

    def get_base_queryset(self) -> QuerySet:
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.get_base_queryset().none()
        return access.visible_to(self.request.user, self.get_base_queryset(), "view")

    def access_action_for(self, viewset_action: str | None) -> str:
        if viewset_action in self.access_actions:
            return self.access_actions[viewset_action]
        if viewset_action in self.read_actions:
            return "view"
        raise LookupError(f"{type(self).__name__}.{viewset_action} declares no access action")

    def get_object(self):
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = access.get_object_or_404(
            self.request.user,
            self.get_base_queryset(),
            self.access_action_for(self.action),
            **{self.lookup_field: self.kwargs[lookup_url_kwarg]},
        )
        self.check_object_permissions(self.request, obj)
        return obj


class PortalAPIRootView(SignedInAPIMixin, routers.APIRootView):
    """The API's index of endpoints, for signed-in callers."""


class PortalRouter(routers.DefaultRouter):
    APIRootView = PortalAPIRootView
    include_format_suffixes = False


#: Every app registers its viewsets here from its api/urls.py.
router = PortalRouter()
