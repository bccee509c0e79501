"""HTML views of the core: dashboard, organisation directory, members, audit log and profile.

Views translate HTTP into service calls; access comes from the base classes.
"""

from allauth.account import views as allauth_views
from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from rest_framework.authtoken.models import Token

from portal import (
    access,
    audit,
    audit_log,
    audit_words,
    dashboard,
    invitations,
    mfa,
    services,
    signing,
)
from portal.base_views import (
    AccessListView,
    ChildListView,
    KeptPageMixin,
    ListControlsMixin,
    ObjectAccessMixin,
    PublicMixin,
    SignedInMixin,
)
from portal.filters import AuditEventFilter, MemberFilter, NotificationFilter, OrganisationFilter
from portal.forms import InviteMemberForm, MemberRolesForm, TokenForm, add_service_errors
from portal.models import Organisation


class DashboardView(SignedInMixin, KeptPageMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        cards = dashboard.cards_for(user)
        context.update(
            cards=cards,
            waiting_cards=[card for card in cards if not card.is_empty],
            empty_cards=[card for card in cards if card.is_empty],
        )
        membership = getattr(user, "membership", None)
        if membership is not None and access.can(user, "view_history", membership.organisation):
            context["audit_log_url"] = reverse(
                "portal:organisation-audit", args=[membership.organisation.slug]
            )
        return context


class OrganisationListView(AccessListView):
    model = Organisation
    keep_page = True
    filterset_class = OrganisationFilter
    search_fields = ("name", "slug", "description")
    sort_options = {"name": "name", "-name": "-name", "country": "country", "kind": "kind"}
    sort_labels = {
        "name": gettext_lazy("Name"),
        "-name": gettext_lazy("Name, Z to A"),
        "country": gettext_lazy("Country"),
        "kind": gettext_lazy("Kind"),
    }
    default_sort = "name"
    results_template = "portal/organisation_rows.html"
    extra_context = {
        "title": gettext_lazy("Organisations"),
        "intro": gettext_lazy("Every partner organisation on the portal: name, nation and kind."),
    }


class OrganisationSuggestView(SignedInMixin, View):
    """Directory entries matching what is typed into an organisation picker, as the options
    of its datalist (portal.filters.OrganisationPicker)."""

    limit = 20
    htmx_fragment = True

    def get(self, request, *args, **kwargs):
        # The picker sends its own value under its field name, and names the field.
        field = request.GET.get("field", "q")
        text = request.GET.get(field, "").replace("\x00", "").strip()[:100]
        organisations = access.visible_to(request.user, Organisation.objects.all())
        if text:
            organisations = organisations.filter(Q(name__icontains=text) | Q(slug__icontains=text))
        return render(
            request,
            "components/organisation_options.html",
            {"organisations": organisations.order_by("name", "pk")[: self.limit]},
        )


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
        context["can_view_history"] = access.can(user, "view_history", organisation)
        if context["can_view_history"]:
            # Its history holds its members' events too (portal.audit.history_of).
            context["timeline"] = audit_words.history(user, organisation)
        if access.can(user, "view_access", organisation):
            context["access_rows"] = access.explain(organisation)
        return context


class MemberListView(ChildListView):
    model = Organisation
    access_action = "view_members"
    filterset_class = MemberFilter
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    sort_options = {"name": "user__last_name", "username": "user__username", "joined": "created_at"}
    sort_labels = {
        "name": gettext_lazy("Name"),
        "username": gettext_lazy("Username"),
        "joined": gettext_lazy("Joined"),
    }
    default_sort = "name"
    results_template = "portal/member_rows.html"
    template_name = "portal/member_list.html"

    def get_child_queryset(self):
        return self.object.memberships.select_related("user", "invitation")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        manager = access.can(self.request.user, "manage_members", self.object)
        context["can_manage_members"] = manager
        if manager and not getattr(self.request, "htmx", False):
            # Only those who can resend or revoke them see the invitations still open.
            context["pending_invitations"] = list(invitations.pending_invitations(self.object))
        return context


class OrganisationAuditView(ChildListView):
    """The organisation's audit log, for its admins: every event about it or by its members,
    newest first, filtered and exported as CSV, with what they may not see withheld."""

    model = Organisation
    access_action = "view_history"
    filterset_class = AuditEventFilter
    # Never object_repr: searching it would reveal the names the log withholds.
    search_fields = ("action", "actor_label")
    sort_options = {"-time": "-id", "time": "id"}
    sort_labels = {"-time": gettext_lazy("Newest first"), "time": gettext_lazy("Oldest first")}
    default_sort = "-time"
    paginate_by = 50
    template_name = "portal/audit_log.html"
    results_template = "portal/audit_rows.html"
    results_partial = "portal/audit_results.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            events = self.get_queryset()
            if self.filters_valid():
                return self.csv_response(events)
            # Invalid filters show the page with their errors rather than a wrong file.
        return super().get(request, *args, **kwargs)

    def get_child_queryset(self):
        return audit_log.concerning(self.object)

    def filters_valid(self) -> bool:
        return self.filterset.form.is_valid()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for name in ("page", "format"):
            query.pop(name, None)
        context.update(
            entries=audit_log.entries(self.request.user, context["object_list"], fold=True),
            query_without_page=query.urlencode(),
            title=gettext("Audit log of %(organisation)s") % {"organisation": self.object.name},
            empty_title=gettext("No events yet"),
            empty_text=gettext(
                "Sign-ins, changes and refused access concerning %(organisation)s appear here "
                "as they happen."
            )
            % {"organisation": self.object.name},
        )
        return context

    def csv_response(self, events) -> StreamingHttpResponse:
        # An export takes the log out of the portal: it is recorded, with what was asked for.
        exported = audit.record(
            self.request.user,
            "audit.exported",
            self.object,
            organisation=self.object,
            filters={
                name: value
                for name, value in self.filterset.form.cleaned_data.items()
                if value not in (None, "")
            },
            search=self.search,
            sort=self.sort,
        )
        # The file is the log as it stood when asked for, without the export itself.
        events = events.filter(pk__lt=exported.pk)
        response = StreamingHttpResponse(
            audit_log.csv_lines(self.request.user, events),
            content_type="text/csv; charset=utf-8",
        )
        filename = f"audit-log-{self.object.slug}-{timezone.now():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class InviteMemberView(ObjectAccessMixin, FormView):
    model = Organisation
    access_action = "manage_members"
    form_class = InviteMemberForm
    template_name = "portal/invite_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["suggest_url"] = reverse("portal:member-username", kwargs={"slug": self.object.slug})
        return kwargs

    def form_valid(self, form):
        try:
            services.invite_member(
                actor=self.request.user,
                organisation=self.object,
                base_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        # Said from what was asked, never from what the service did: an address that already
        # has an account gets this same answer (its owner is told instead).
        messages.success(
            self.request,
            gettext("%(username)s was invited. A link to set a password was emailed to %(email)s.")
            % {"username": form.cleaned_data["username"], "email": form.cleaned_data["email"]},
        )
        return redirect("portal:member-list", slug=self.object.slug)


class UsernameSuggestionView(ObjectAccessMixin, View):
    """A free username for the name being typed into the invite form, as JSON
    (static/js/username.js puts it in the box while the admin has not typed their own)."""

    model = Organisation
    access_action = "manage_members"
    http_method_names = ["get"]
    htmx_fragment = True  # a piece of the invite form, not a page

    def get(self, request, *args, **kwargs):
        params = {
            name: request.GET.get(name, "").replace("\x00", "").strip()[:150]
            for name in ("first_name", "last_name", "email")
        }
        return JsonResponse({"username": invitations.suggest_username(**params)})


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
        messages.success(
            self.request,
            gettext("Roles of %(username)s saved.")
            % {"username": self.membership.user.get_username()},
        )
        return redirect("portal:member-list", slug=self.object.slug)


class MemberActivationView(MemberMixin, TemplateView):
    """Deactivate (after a confirmation that says what it ends) or reactivate a member."""

    template_name = "portal/member_deactivate.html"
    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        if not self.membership.user.is_active:
            return redirect(
                "portal:member-roles", slug=self.object.slug, member_pk=self.membership.pk
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = invitations.deactivation_summary(self.membership.user)
        return context

    def post(self, request, *args, **kwargs):
        username = self.membership.user.get_username()
        if self.membership.user.is_active:
            service = services.deactivate_member
            outcome = gettext("%(username)s was deactivated; their sessions and access ended.")
        else:
            service = services.reactivate_member
            outcome = gettext("%(username)s was reactivated.")
        try:
            service(actor=request.user, membership=self.membership)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, outcome % {"username": username})
        return redirect("portal:member-list", slug=self.object.slug)


class InvitationResendView(MemberMixin, View):
    """POST only: email a new link to someone who has not accepted; the old one stops."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = self.membership.user
        try:
            services.resend_invitation(
                actor=request.user,
                membership=self.membership,
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                gettext("A new link was emailed to %(email)s; the one sent before no longer works.")
                % {"email": user.email},
            )
        return redirect("portal:member-list", slug=self.object.slug)


class InvitationRevokeView(MemberMixin, View):
    """POST only (the page asks first): the link stops working and the account is off."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            services.revoke_invitation(actor=request.user, membership=self.membership)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                gettext("The invitation of %(username)s was revoked; its link no longer works.")
                % {"username": self.membership.user.get_username()},
            )
        return redirect("portal:member-list", slug=self.object.slug)


class NotificationListView(SignedInMixin, ListControlsMixin, ListView):
    """The user's own notices, newest first, filtered and paginated. A notice stays unread
    until its person opens it or marks it read: looking at the list changes nothing."""

    template_name = "portal/notifications.html"
    results_partial = "portal/notification_results.html"
    filterset_class = NotificationFilter
    search_fields = ("title", "body")
    paginate_by = 25

    def get_queryset(self):
        return self.apply_controls(self.request.user.notifications.order_by("-created_at", "-pk"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["has_unread"] = self.request.user.notifications.filter(
            read_at__isnull=True
        ).exists()
        return context


class NotificationOpenView(SignedInMixin, View):
    """Open a notice's link: the notice is read, and the person lands where it points.

    Only a path on this site is followed; a notice that is not the person's, or does not
    exist, leads back to their list alike, so an id reveals nothing.
    """

    def get(self, request, *args, **kwargs):
        notice = services.mark_notification_read(
            actor=request.user, notification_id=kwargs["notice_pk"]
        )
        target = notice.url if notice is not None else ""
        if not _same_site_path(target):
            target = reverse("portal:notifications")
        return HttpResponseRedirect(target)


class NotificationReadView(SignedInMixin, View):
    """POST only: mark one notice read (done) without opening it."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        services.mark_notification_read(actor=request.user, notification_id=kwargs["notice_pk"])
        return HttpResponseRedirect(_back_to_notifications(request))


class NotificationReadAllView(SignedInMixin, View):
    """POST only: mark every notice of the person read."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        marked = services.mark_notifications_read(actor=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)s notice marked as read.", "%(count)s notices marked as read.", marked
            )
            % {"count": marked},
        )
        return HttpResponseRedirect(_back_to_notifications(request))


def _same_site_path(url: str) -> bool:
    """A path on this site ("/agreements/12/#x"), never another host or scheme."""
    return (
        url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


def _back_to_notifications(request) -> str:
    """The list as it was filtered (the form sends its query back), or the plain list."""
    query = request.POST.get("next_query", "")
    base = reverse("portal:notifications")
    return f"{base}?{query}" if query and _same_site_path(f"{base}?{query}") else base


class ProfileView(SignedInMixin, TemplateView):
    template_name = "portal/profile.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["has_token"] = Token.objects.filter(user=user).exists()
        context["token_form"] = TokenForm()
        context["mfa_enrolled"] = mfa.is_enrolled(user)
        context["mfa_required_for"] = [mfa.role_label(r) for r in mfa.roles_needing_mfa(user)]
        return context


class TokenView(SignedInMixin, FormView):
    """Create, rotate or revoke the user's own API token; a new token is shown only once."""

    form_class = TokenForm
    template_name = "portal/profile.html"
    http_method_names = ["post"]

    def form_valid(self, form):
        if form.cleaned_data["operation"] == "revoke":
            if services.revoke_api_token(actor=self.request.user):
                messages.success(self.request, gettext("Your API token was revoked."))
            else:
                messages.info(self.request, gettext("You had no API token."))
            return HttpResponseRedirect(reverse("portal:profile"))
        token = services.rotate_api_token(actor=self.request.user)
        return self.render_to_response(
            self.get_context_data(new_token=token.key, has_token=True, token_form=TokenForm())
        )

    def form_invalid(self, form):
        messages.error(self.request, gettext("Choose whether to rotate or revoke your token."))
        return HttpResponseRedirect(reverse("portal:profile"))


@method_decorator(reauthentication_required, name="dispatch")
class PasswordChangeView(allauth_views.PasswordChangeView):
    """allauth's password change, behind the same fresh proof as changing two-factor
    settings: the password and, when enrolled, a code, within the last five minutes."""


class SignOutEverywhereView(SignedInMixin, View):
    """End the person's sessions on every device, this one included."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        ended = services.sign_out_everywhere(actor=request.user)
        request.sign_out_reason = "signed_out_everywhere"
        logout(request)  # this browser's session may predate session tracking
        messages.success(
            request,
            ngettext(
                "You were signed out everywhere (%(count)s session ended).",
                "You were signed out everywhere (%(count)s sessions ended).",
                ended,
            )
            % {"count": ended},
        )
        return redirect(settings.LOGIN_URL)


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
