"""django-allauth adapter: accounts come from invitations only, sign-in is throttled, and
re-authentication asks for the password and, when enrolled, a code, together."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from portal import throttle


def _login_of(credentials) -> str:
    return str(credentials.get("username") or credentials.get("email") or "")


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Organisation admins invite people; platform staff create accounts. No open sign-up.
        return False

    # Our throttle replaces allauth's "login_failed" counter at the password step: it counts
    # per account and address and per address, and tells the person when to come back.
    # allauth's own limit still guards the second-factor step.

    def pre_authenticate(self, request, **credentials) -> None:
        ip = self.get_client_ip(request)
        try:
            throttle.check(throttle.SIGN_IN, login=_login_of(credentials), ip=ip)
        except throttle.Throttled as refusal:
            raise ValidationError(refusal.message, code="throttled") from None

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            ip = self.get_client_ip(request)
            throttle.succeeded(throttle.SIGN_IN, login=_login_of(credentials), ip=ip, user=user)
        return user

    def authentication_failed(self, request, **credentials) -> None:
        ip = self.get_client_ip(request)
        throttle.failed(throttle.SIGN_IN, login=_login_of(credentials), ip=ip)

    def get_reauthentication_methods(self, user) -> list[dict]:
        # One way only: the password form, which also asks for the code when the person has
        # an authenticator app (portal.forms.ReauthenticateForm). A code alone, or a password
        # alone when a code is set up, is not enough to change credentials.
        methods = super().get_reauthentication_methods(user)
        return [method for method in methods if method["id"] == "reauthenticate"]
