"""HTML views of the core: dashboard, organisation directory, members and profile.

Views translate HTTP into service calls; access comes from the base classes.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from rest_framework.authtoken.models import Token

from portal import access, audit, dashboard, services, signing
from portal.base_views import (
    AccessListView,
    ChildListView,
    ObjectAccessMixin,
    PublicMixin,
    SignedInMixin,
)
from portal.filters import MemberFilter, OrganisationFilter
from portal.forms import InviteMemberForm, MemberRolesForm, TokenForm, add_service_errors
from portal.models import Organisation


class DashboardView(SignedInMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cards"] = dashboard.cards_for(self.request.user)
        return context


class OrganisationListView(AccessListView):
    model = Organisation
    filterset_class = OrganisationFilter
    search_fields = ("name", "slug", "description")
    sort_options = {"name": "name", "-name": "-name", "country": "country", "kind": "kind"}
    default_sort = "name"
    results_template = "portal/organisation_rows.html"
    extra_context = {
        "title": "Organisations",
        "intro": "Every partner organisation on the portal: name, nation and kind.",
    }


class OrganisationDetailView(ObjectAccessMixin, DetailView):
    model = Organisation
    template_name = "portal/organisation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation, user = self.object, self.request.user
        context["can_view_members"] = access.can(user, "view_members", organisation)
        context["can_manage_members"] = access.can(user, "manage_members", organisation)
        if context["can_view_members"]:
            context["member_count"] = organisation.memberships.filter(user__is_active=True).count()
        if access.can(user, "view_history", organisation):
            context["timeline"] = audit.timeline(
                organisation,
                also=Q(object_type="portal.membership", organisation=organisation),
            )
        if access.can(user, "view_access", organisation):
            context["access_rows"] = access.explain(organisation)
        return context


class MemberListView(ChildListView):
    model = Organisation
    access_action = "view_members"
    filterset_class = MemberFilter
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    sort_options = {"name": "user__last_name", "username": "user__username", "joined": "created_at"}
    default_sort = "name"
    results_template = "portal/member_rows.html"
    template_name = "portal/member_list.html"

    def get_child_queryset(self):
        return self.object.memberships.select_related("user")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage_members"] = access.can(self.request.user, "manage_members", self.object)
        return context


class InviteMemberView(ObjectAccessMixin, FormView):
    model = Organisation
    access_action = "manage_members"
    form_class = InviteMemberForm
    template_name = "portal/invite_form.html"

    def form_valid(self, form):
        try:
            membership = services.invite_member(
                actor=self.request.user,
                organisation=self.object,
                base_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{membership.user.get_username()} was invited. "
            f"A link to set a password was emailed to {membership.user.email}.",
        )
        return redirect("portal:member-list", slug=self.object.slug)


class MemberMixin(ObjectAccessMixin):
    """A member of the URL's organisation; only its admins get this far."""

    model = Organisation
    access_action = "manage_members"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        self.membership = get_object_or_404(
            self.object.memberships.select_related("user"), pk=kwargs["member_pk"]
        )
        return super(ObjectAccessMixin, self).dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("membership", self.membership)
        return super().get_context_data(**kwargs)


class MemberRolesView(MemberMixin, FormView):
    form_class = MemberRolesForm
    template_name = "portal/member_form.html"

    def get_initial(self):
        return {"roles": self.membership.roles}

    def form_valid(self, form):
        try:
            services.change_member_roles(
                actor=self.request.user,
                membership=self.membership,
                roles=form.cleaned_data["roles"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Roles of {self.membership.user.get_username()} saved.")
        return redirect("portal:member-list", slug=self.object.slug)


class MemberActivationView(MemberMixin, View):
    """POST only: deactivate or reactivate a member."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if self.membership.user.is_active:
            service, outcome = services.deactivate_member, "deactivated; their sessions ended"
        else:
            service, outcome = services.reactivate_member, "reactivated"
        try:
            service(actor=request.user, membership=self.membership)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{self.membership.user.get_username()} was {outcome}.")
        return redirect("portal:member-list", slug=self.object.slug)


class NotificationListView(SignedInMixin, ListView):
    """The user's own notices, newest first; opening the page marks them read."""

    template_name = "portal/notifications.html"
    paginate_by = 25

    def get_queryset(self):
        return self.request.user.notifications.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = list(context["object_list"])  # show "new" before marking
        services.mark_notifications_read(actor=self.request.user)
        return context


class ProfileView(SignedInMixin, TemplateView):
    template_name = "portal/profile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["has_token"] = Token.objects.filter(user=self.request.user).exists()
        context["token_form"] = TokenForm()
        return context


class TokenView(SignedInMixin, FormView):
    """Create, rotate or revoke the user's own API token; a new token is shown only once."""

    form_class = TokenForm
    template_name = "portal/profile.html"
    http_method_names = ["post"]

    def form_valid(self, form):
        if form.cleaned_data["operation"] == "revoke":
            if services.revoke_api_token(actor=self.request.user):
                messages.success(self.request, "Your API token was revoked.")
            else:
                messages.info(self.request, "You had no API token.")
            return HttpResponseRedirect(reverse("portal:profile"))
        token = services.rotate_api_token(actor=self.request.user)
        return self.render_to_response(
            self.get_context_data(new_token=token.key, has_token=True, token_form=TokenForm())
        )

    def form_invalid(self, form):
        messages.error(self.request, "Choose whether to rotate or revoke your token.")
        return HttpResponseRedirect(reverse("portal:profile"))


class SigningKeyView(PublicMixin, View):
    """The portal's public Ed25519 key, as PEM, with its id in the X-Key-Id header.

    Public on purpose: it is the key partners verify evidence bundles with, so they must be
    able to fetch it without an account, and it carries no partner data.
    """

    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        response = HttpResponse(signing.public_key_pem(), content_type="text/plain; charset=utf-8")
        response["X-Key-Id"] = signing.key_id()
        return response
