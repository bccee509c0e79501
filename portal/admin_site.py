"""The admin site: staff sign in where everyone does, and act only with a second factor."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from portal import mfa


class PortalAdminSite(admin.AdminSite):
    site_header = "Cooperation Portal administration"
    site_title = "Cooperation Portal admin"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and mfa.may_act_as(request.user, mfa.STAFF)

    def login(self, request, extra_context=None):
        """No password form of its own: the portal's sign-in, with its throttling and second
        factor, is the only way in."""
        user, target = request.user, request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:index")
        if not user.is_authenticated:
            return redirect_to_login(target, settings.LOGIN_URL)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if not mfa.may_act_as(user, mfa.STAFF):
            messages.warning(request, mfa.enrolment_message(mfa.STAFF))
            return redirect("mfa_index")
        return redirect(target)
