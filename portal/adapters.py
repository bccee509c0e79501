"""django-allauth adapter: accounts come from invitations only."""

from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Organisation admins invite people; platform staff create accounts. No open sign-up.
        return False
