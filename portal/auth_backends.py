"""Authentication backends that load the signed-in user with their membership and
organisation, which every page shows: one query per request instead of three."""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MembershipLoadingMixin:
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("membership__organisation")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(MembershipLoadingMixin, ModelBackend):
    pass


class PortalAuthenticationBackend(MembershipLoadingMixin, AuthenticationBackend):
    """allauth's backend (sign-in by username or email), loading the membership too."""
