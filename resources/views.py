"""HTML views of resources: the library, upload, details, downloads and sharing.

They translate HTTP into service calls; access comes from the base classes, and what a
person may do is decided by the policy in resources/policies.py.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import DetailView, FormView, View
from django_htmx.http import HttpResponseClientRedirect

from portal import access, audit_words, reauth
from portal.base_views import AccessListView, ObjectAccessMixin, RoleRequiredMixin
from portal.forms import add_service_errors
from portal.models import Role
from portal.vocabulary import TLP
from resources import services
from resources.filters import ResourceFilter, shared_with
from resources.forms import ResourceForm, ResourceMetadataForm, RevokeForm, ShareForm, VersionForm
from resources.models import Resource, Share, ShareStatus

#: What TLP 2.0 lets a recipient do, in the words of FIRST's standard, shortened.
TLP_GUIDANCE = {
    TLP.CLEAR: gettext_lazy("Disclosure is not limited: recipients may spread it freely."),
    TLP.GREEN: gettext_lazy("Recipients may share it within their community, but not publicly."),
    TLP.AMBER: gettext_lazy(
        "Recipients may share it only on a need-to-know basis within their organisation "
        "and its clients."
    ),
    TLP.AMBER_STRICT: gettext_lazy("Recipients may share it only within their own organisation."),
    TLP.RED: gettext_lazy("For the named recipients only: no further disclosure."),
}

#: Sorting by TLP means sorting by how restricted it is, not by the label's spelling.
TLP_RANK = Case(
    *[When(tlp=value, then=Value(rank)) for rank, value in enumerate(TLP.values)],
    output_field=IntegerField(),
)


class ResourceListView(AccessListView):
    """The library: what the user's organisation owns, and what is shared with it."""

    model = Resource
    shared_filter_bar = True
    keep_page = True
    filterset_class = ResourceFilter
    search_fields = ("title", "description")
    sort_options = {"newest": "-created_at", "title": "title", "tlp": "-tlp_rank"}
    sort_labels = {
        "newest": gettext_lazy("Newest first"),
        "title": gettext_lazy("Title"),
        "tlp": gettext_lazy("TLP, most restricted first"),
    }
    default_sort = "newest"
    results_template = "resources/resource_rows.html"
    template_name = "resources/resource_list.html"
    extra_context = {
        "title": gettext_lazy("Resources"),
        "intro": gettext_lazy(
            "Reports, datasets, tools and threat intelligence: your organisation's own, and "
            "what partners share with it under agreements in force."
        ),
        "empty_text": gettext_lazy(
            "Your organisation's resources, and those shared with it, appear here."
        ),
    }

    def get_base_queryset(self):
        return Resource.objects.select_related("owner", "current_version").annotate(
            tlp_rank=TLP_RANK
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        membership = getattr(self.request.user, "membership", None)
        context["can_add"] = bool(membership and membership.programme_manager)
        return context


class ResourceCreateView(RoleRequiredMixin, FormView):
    required_role = Role.PROGRAMME_MANAGER
    form_class = ResourceForm
    template_name = "resources/resource_form.html"

    def form_valid(self, form):
        try:
            resource = services.create_resource(
                actor=self.request.user, file=form.cleaned_data["file"], **form.metadata()
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("“%(title)s” uploaded. Only your organisation sees it for now.")
            % {"title": resource.title},
        )
        return redirect(resource)


class ResourceDetailView(ObjectAccessMixin, DetailView):
    model = Resource
    template_name = "resources/resource_detail.html"

    def get_access_queryset(self):
        return Resource.objects.select_related("owner", "created_by")

    def get(self, request, *args, **kwargs):
        # Every look at a resource is evidence for the owner's access report.
        services.record_view(actor=request.user, resource=self.object)
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        resource, user = self.object, self.request.user
        can_download = access.can(user, "download", resource)
        context.update(
            versions=list(resource.versions.select_related("uploaded_by")),
            can_download=can_download,
            download_refusal=""
            if can_download
            else access.policy_for(Resource).rules["download"].message,
            can_change=access.can(user, "change", resource),
            can_share=access.can(user, "share", resource),
            can_read_report=access.can(user, "view_access_report", resource),
            tlp_guidance=TLP_GUIDANCE.get(resource.tlp, ""),
            tag_list=resource.tags if isinstance(resource.tags, list) else [],
        )
        if access.can(user, "view_access", resource):
            context["shares"] = self._shares()
            context["access_rows"] = access.explain(resource)
        else:
            context["basis_share"] = (
                shared_with(user).filter(resource=resource).select_related("agreement").first()
            )
            if context["basis_share"] is None:
                context["access_reasons"] = access.reasons_for(user, resource)
        if access.can(user, "view_history", resource):
            context["timeline"] = audit_words.history(user, resource)
        return context

    def _shares(self):
        shares = list(
            self.object.shares.select_related(
                "recipient", "agreement", "shared_by", "ended_by"
            ).prefetch_related("recipient_users")
        )
        live = set(Share.objects.live().filter(resource=self.object).values_list("pk", flat=True))
        for share in shares:
            share.live = share.pk in live
        return shares


class ResourceEditView(ObjectAccessMixin, FormView):
    model = Resource
    access_action = "change"
    form_class = ResourceMetadataForm
    template_name = "resources/resource_form.html"

    def get_initial(self):
        return {name: getattr(self.object, name) for name in self.form_class.base_fields}

    def form_valid(self, form):
        active = self.object.shares.filter(status=ShareStatus.ACTIVE)
        before = active.count()
        try:
            services.update_resource(
                actor=self.request.user, resource=self.object, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Details saved."))
        suspended = before - active.count()
        if suspended:
            messages.warning(
                self.request,
                ngettext(
                    "%(count)s share no longer fit the new marking and were suspended: those "
                    "recipients have lost access.",
                    "%(count)s shares no longer fit the new marking and were suspended: those "
                    "recipients have lost access.",
                    suspended,
                )
                % {"count": suspended},
            )
        return redirect(self.object)


class VersionUploadView(ObjectAccessMixin, FormView):
    model = Resource
    access_action = "change"
    form_class = VersionForm
    template_name = "resources/version_form.html"

    def form_valid(self, form):
        try:
            version = services.add_version(
                actor=self.request.user,
                resource=self.object,
                file=form.cleaned_data["file"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Version %(number)s uploaded.") % {"number": version.number}
        )
        return redirect(self.object)


class DownloadView(ObjectAccessMixin, View):
    """Streams one version. The policy's download rule re-checks that the share is live."""

    model = Resource
    access_action = "download"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        version = None
        if "number" in kwargs:
            version = get_object_or_404(self.object.versions, number=kwargs["number"])
        try:
            version = services.open_download(
                actor=request.user, resource=self.object, version=version
            )
        except ValidationError:
            raise Http404(_("This resource has no such version.")) from None
        response = FileResponse(
            version.file.open("rb"),
            as_attachment=True,
            filename=version.original_name,
            content_type=version.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response


class ShareView(ObjectAccessMixin, FormView):
    """The share dialog: the pairs the rules allow, and why the others are refused."""

    model = Resource
    access_action = "share"
    form_class = ShareForm
    template_name = "resources/share.html"
    fragment_template = "resources/share_dialog.html"

    @cached_property
    def options(self):
        return services.share_options(self.object)

    @property
    def needs_reauth(self) -> bool:
        return self.object.tlp in services.REAUTH_TLP

    def get_template_names(self):
        return [self.fragment_template if self.request.htmx else self.template_name]

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "resource": self.object,
            "options": self.options,
            "needs_reauth": self.needs_reauth,
        }

    def get_context_data(self, **kwargs):
        refused = [
            (
                option,
                option.problem
                or _("Already shared with %(organisation)s.") % {"organisation": option.recipient},
            )
            for option in self.options
            if not option.allowed
        ]
        return super().get_context_data(
            refused=refused,
            needs_reauth=self.needs_reauth,
            is_red=self.object.tlp == TLP.RED,
            **kwargs,
        )

    def form_valid(self, form):
        option = form.chosen
        try:
            reauthentication = (
                reauth.reauthenticate(
                    self.request.user,
                    password=form.cleaned_data["password"],
                    otp=form.cleaned_data.get("otp", ""),
                )
                if self.needs_reauth
                else None
            )
            services.share_resource(
                actor=self.request.user,
                resource=self.object,
                agreement=option.agreement,
                recipient=option.recipient,
                recipient_users=form.cleaned_data.get("recipient_users") or (),
                reauthentication=reauthentication,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Shared with %(organisation)s under %(agreement)s.")
            % {"organisation": option.recipient, "agreement": option.agreement.label},
        )
        if self.request.htmx:
            return HttpResponseClientRedirect(self.object.get_absolute_url())
        return redirect(self.object)


class RevokeShareView(ObjectAccessMixin, View):
    """Ends one share at once: the recipient loses access with this request. Intelligence
    objects use it too, with their own model and service."""

    model = Resource
    access_action = "share"
    http_method_names = ["post"]
    revoke = staticmethod(services.revoke_share)

    def post(self, request, *args, **kwargs):
        share = get_object_or_404(
            self.object.shares.select_related("recipient"), pk=kwargs["share_pk"]
        )
        form = RevokeForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""  # always valid
        try:
            self.revoke(actor=request.user, share=share, reason=reason)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Share with %(who)s revoked: their access has ended.") % {"who": share.recipient},
            )
        return redirect(self.object)
