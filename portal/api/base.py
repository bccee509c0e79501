"""Base classes for every API view, so no endpoint can forget the access layer.

- `SignedInAPIMixin`: authentication required (token or session).
- `RoleRequiredAPIMixin`: for holders of one role in their organisation, whichever it is.
- `AccessViewSet`: lists pass through `access.visible_to`; one object is fetched with
  `access.get_object_or_404`, which answers 404 for hidden and 403 for not-allowed.

tests/access/test_meta.py fails for any routed API view that does not derive from these.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext
from rest_framework import mixins, routers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.viewsets import GenericViewSet

from portal import access, list_cache, mfa
from portal.api.errors import PortalAutoSchema
from portal.models import Role


class SignedInAPIMixin:
    permission_classes = [IsAuthenticated]
    schema = PortalAutoSchema()


class HoldsRequiredRole(BasePermission):
    """The caller holds the view's `required_role` and may act in it now (enrolled in
    two-factor authentication where the role needs it); the refusal says which."""

    def has_permission(self, request, view) -> bool:
        role = view.required_role
        membership = getattr(request.user, "membership", None)
        if membership is None or not membership.has_role(role):
            self.message = gettext("This is for %(role)ss.") % {"role": Role(role).label.lower()}
            return False
        if not mfa.may_act_as(request.user, role):
            self.message = mfa.enrolment_message(role)
            return False
        return True


class RoleRequiredAPIMixin(SignedInAPIMixin):
    """An endpoint for holders of one role in their organisation, whichever organisation."""

    required_role: str = ""
    permission_classes = [IsAuthenticated, HoldsRequiredRole]


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

    def visible_parts(self) -> list[QuerySet] | None:
        """The list's rows as disjoint parts, filtered like the list (for the paginator);
        None for an action that pages through something else (a resource's versions)."""
        if self.action != "list":
            return None
        parts = access.visible_parts(self.request.user, self.get_base_queryset(), "view")
        return [self.filter_queryset(part) for part in parts]

    def visible_walk(self) -> QuerySet:
        """The list's rows decided row by row, for a page past the count's cap."""
        walk = access.visible_walk(self.request.user, self.get_base_queryset(), "view")
        return self.filter_queryset(walk)

    def access_action_for(self, viewset_action: str | None) -> str:
        if viewset_action in self.access_actions:
            return self.access_actions[viewset_action]
        if viewset_action in self.read_actions:
            return "view"
        raise LookupError(f"{type(self).__name__}.{viewset_action} declares no access action")

    def get_object(self):
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        queryset = self.get_base_queryset()
        obj = access.get_object_or_404(
            self.request.user,
            queryset,
            self.access_action_for(self.action),
            **{self.lookup_field: self._lookup_value(queryset, self.kwargs[lookup_url_kwarg])},
        )
        self.check_object_permissions(self.request, obj)
        return obj

    def _lookup_value(self, queryset: QuerySet, raw: str):
        """The URL's key as the lookup field's value; a key no row could have (an id that is
        not a number) is a 404 like any other missing object, not a crash in the query."""
        meta = queryset.model._meta
        field = meta.pk if self.lookup_field == "pk" else meta.get_field(self.lookup_field)
        try:
            return field.to_python(raw)
        except ValidationError:
            raise Http404 from None


class KeptListModelMixin(mixins.ListModelMixin):
    """A list whose JSON is kept per caller and query until a table it was read from is
    written (portal.list_cache): a partner system polling the same page is answered from
    the cache. The browsable API is always rendered afresh."""

    def list(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        if not isinstance(renderer, JSONRenderer):
            return super().list(request, *args, **kwargs)

        def render() -> tuple[str, bool]:
            response = super(KeptListModelMixin, self).list(request, *args, **kwargs)
            body = renderer.render(
                response.data, request.accepted_media_type, self.get_renderer_context()
            )
            return body.decode(), response.status_code == 200

        scope = f"{type(self).__module__}.{type(self).__qualname__}"
        body, _ = list_cache.text_of(request, scope, render, extra=(request.accepted_media_type,))
        return HttpResponse(body, content_type=renderer.media_type)


class PortalAPIRootView(SignedInAPIMixin, routers.APIRootView):
    """The API's index of endpoints, for signed-in callers."""

    schema = None  # an index of links, not an operation: kept out of the schema, as by DRF


class PortalRouter(routers.DefaultRouter):
    APIRootView = PortalAPIRootView
    include_format_suffixes = False


#: Every app registers its viewsets here from its api/urls.py.
router = PortalRouter()
