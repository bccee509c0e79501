"""HTML views of intelligence: the list, an object's page, the indicator form, imports,
shares, sightings, exports and the "Connect your tools" page.

They translate HTTP into calls to intel/services.py; access comes from the base classes and
the policy in intel/policies.py. An object the person may not see is a 404 everywhere, and
related objects, correlations and exports are computed through the access layer too.
"""

from __future__ import annotations

import base64
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import DetailView, FormView, TemplateView, View
from django_htmx.http import HttpResponseClientRedirect

from intel import collections, correlation, graph, misp, services, stix
from intel.filters import StixObjectFilter
from intel.forms import (
    FORMAT_MISP,
    ImportForm,
    IndicatorForm,
    IntelShareForm,
    SightingForm,
)
from intel.models import IntelShare, StixObject
from portal import access, audit_words, reauth
from portal.base_views import AccessListView, ObjectAccessMixin, RoleRequiredMixin, SignedInMixin
from portal.forms import add_service_errors
from portal.models import Role
from portal.vocabulary import TLP
from resources import views as resources_views
from resources.models import ShareStatus
from resources.views import TLP_GUIDANCE, TLP_RANK

#: Types a sighting is not about: feedback and the relations between objects.
NOT_SIGHTABLE = frozenset(
    {"sighting", "opinion", "relationship", "note", "identity", "report", "grouping"}
)
#: Types whose share can take the objects they reference along.
REFERRING = frozenset({"report", "grouping"})
#: How many problems of a refused import the page lists; the count says how many more.
PROBLEMS_SHOWN = 100


class StixObjectListView(AccessListView):
    """Intelligence the person may see: their organisation's, shared with it, or CLEAR."""

    model = StixObject
    shared_filter_bar = True
    keep_page = True
    filterset_class = StixObjectFilter
    search_fields = ("name", "pattern", "description", "observable_values")
    sort_options = {
        "newest": "-added_at",
        "modified": "-modified",
        "name": "name",
        "type": "type",
        "tlp": "-tlp_rank",
    }
    sort_labels = {
        "newest": gettext_lazy("Newest first"),
        "modified": gettext_lazy("Last modified"),
        "name": gettext_lazy("Name"),
        "type": gettext_lazy("Type"),
        "tlp": gettext_lazy("TLP, most restricted first"),
    }
    default_sort = "newest"
    results_template = "intel/object_rows.html"
    template_name = "intel/object_list.html"
    extra_context = {
        "title": gettext_lazy("Intelligence"),
        "intro": gettext_lazy(
            "STIX 2.1 indicators, malware, vulnerabilities, reports and sightings: your "
            "organisation's own, and what partners share with it under agreements in force."
        ),
        "empty_text": gettext_lazy(
            "Create an indicator or import a STIX bundle or MISP event, or wait for partners "
            "to share theirs."
        ),
    }

    def get_base_queryset(self):
        return (
            StixObject.objects.select_related("owner")
            .defer("description", "observable_values")
            .annotate(tlp_rank=TLP_RANK)
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        membership = getattr(self.request.user, "membership", None)
        context["can_add"] = bool(membership and membership.programme_manager)
        graph.readable(self.request.user, context["object_list"])
        query = self.request.GET.copy()
        for name in ("page", "after", "before", "sort"):
            query.pop(name, None)
        context["export_query"] = query.urlencode()
        return context


class StixObjectDetailView(ObjectAccessMixin, DetailView):
    model = StixObject
    template_name = "intel/object_detail.html"

    def get_access_queryset(self):
        return StixObject.objects.select_related("owner", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj, user = self.object, self.request.user
        data = services.latest_data(obj)
        related = graph.relations(user, obj, data)
        graph.readable(user, [obj, *(r.other for r in related)])
        context.update(
            heading=graph.label_of(obj),
            stix_json=json.dumps(data, indent=2, ensure_ascii=False),
            versions=list(obj.versions.select_related("added_by").defer("data")),
            graph_svg=graph.render(obj, related),
            relations=related,
            relations_not_drawn=graph.hidden_count(related),
            also_reported_by=correlation.also_reported_by(user, obj),
            can_share=access.can(user, "share", obj),
            can_sight=obj.type not in NOT_SIGHTABLE and access.can(user, "sight", obj),
            tlp_guidance=TLP_GUIDANCE.get(obj.tlp, ""),
            own_organisation=getattr(getattr(user, "membership", None), "organisation", None),
        )
        if access.can(user, "view_access", obj):
            context["shares"] = self._shares()
            context["access_rows"] = access.explain(obj)
            context["sightings"] = services.sighting_summary(user, obj)
        else:
            context["basis_share"] = _basis_share(user, obj)
        if access.can(user, "view_history", obj):
            context["timeline"] = audit_words.history(user, obj)
        return context

    def _shares(self):
        shares = list(
            self.object.shares.select_related(
                "recipient", "agreement", "shared_by", "ended_by"
            ).prefetch_related("recipient_users")
        )
        live = set(
            IntelShare.objects.live().filter(object=self.object).values_list("pk", flat=True)
        )
        for share in shares:
            share.live = share.pk in live
        return shares


class DialogMixin:
    """A form shown as a dialog inside the object's page by htmx, or as a page of its own."""

    fragment_template = ""

    def get_template_names(self):
        return [self.fragment_template if self.request.htmx else self.template_name]

    def done(self):
        if self.request.htmx:
            return HttpResponseClientRedirect(self.object.get_absolute_url())
        return redirect(self.object)


class ShareView(ObjectAccessMixin, DialogMixin, FormView):
    """The share dialog: the pairs the rules allow, why the others are refused, and for a
    report which of the objects it references would not go along, and why."""

    model = StixObject
    access_action = "share"
    form_class = IntelShareForm
    template_name = "intel/share.html"
    fragment_template = "intel/share_dialog.html"

    @cached_property
    def options(self):
        return services.share_options(self.object)

    @cached_property
    def references(self) -> list[StixObject]:
        if self.object.type not in REFERRING:
            return []
        return services.referenced_objects(self.object)

    @property
    def needs_reauth(self) -> bool:
        return self.object.tlp in services.REAUTH_TLP

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "obj": self.object,
            "options": self.options,
            "needs_reauth": self.needs_reauth,
            "with_references": bool(self.references),
        }

    def get_context_data(self, **kwargs):
        refused = [(option, _refusal(option)) for option in self.options if not option.allowed]
        return super().get_context_data(
            refused=refused,
            needs_reauth=self.needs_reauth,
            is_red=self.object.tlp == TLP.RED,
            references=self.references,
            reference_rows=self._reference_rows(),
            foreign_references=self._foreign_references(),
            **kwargs,
        )

    def _reference_rows(self):
        """Per allowed (agreement, recipient): how many referenced objects would go along,
        how many the recipient has already, and those the rules refuse, with the reason."""
        rows = []
        if not self.references:
            return rows
        held = set(
            IntelShare.objects.filter(
                object__in=self.references, status=ShareStatus.ACTIVE
            ).values_list("object_id", "recipient_id")
        )
        for option in self.options:
            if not option.allowed:
                continue
            already, staying = 0, []
            for ref in self.references:
                if (ref.pk, option.recipient.pk) in held:
                    already += 1
                    continue
                problem = services.reference_problem(
                    ref, self.object, option.agreement, option.recipient
                )
                if problem:
                    staying.append((ref, problem))
            going = len(self.references) - already - len(staying)
            rows.append({"option": option, "going": going, "already": already, "staying": staying})
        return rows

    def _foreign_references(self) -> int:
        """References to objects your organisation does not hold: they never go along."""
        if self.object.type not in REFERRING:
            return 0
        refs = set(services.latest_data(self.object).get("object_refs") or [])
        return len(refs - {ref.stix_id for ref in self.references})

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
            shares = services.share_object(
                actor=self.request.user,
                obj=self.object,
                agreement=option.agreement,
                recipient=option.recipient,
                recipient_users=form.cleaned_data.get("recipient_users") or (),
                reauthentication=reauthentication,
                with_references=bool(form.cleaned_data.get("with_references")),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        message = _("Shared with %(who)s under %(agreement)s.") % {
            "who": option.recipient,
            "agreement": option.agreement.label,
        }
        if len(shares) > 1:
            message += " " + ngettext(
                "%(count)d referenced object went along.",
                "%(count)d referenced objects went along.",
                len(shares) - 1,
            ) % {"count": len(shares) - 1}
        messages.success(self.request, message)
        return self.done()


class RevokeShareView(resources_views.RevokeShareView):
    """Ends one share at once: the object leaves the partner's views and TAXII collections."""

    model = StixObject
    revoke = staticmethod(services.revoke_share)


class SightingView(ObjectAccessMixin, DialogMixin, FormView):
    """Report that your organisation saw what the object describes."""

    model = StixObject
    access_action = "sight"
    form_class = SightingForm
    template_name = "intel/sighting.html"
    fragment_template = "intel/sighting_dialog.html"

    def form_valid(self, form):
        if self.object.type in NOT_SIGHTABLE:
            form.add_error(None, _("Sightings are reported of indicators and other objects."))
            return self.form_invalid(form)
        try:
            services.report_sighting(
                actor=self.request.user, sighted=self.object, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Sighting reported. Thank you."))
        return self.done()


class IndicatorCreateView(RoleRequiredMixin, FormView):
    required_role = Role.PROGRAMME_MANAGER
    form_class = IndicatorForm
    template_name = "intel/indicator_form.html"

    def form_valid(self, form):
        try:
            obj = services.create_indicator(actor=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Indicator “%(name)s” created. Only your organisation sees it for now.")
            % {"name": obj.name},
        )
        return redirect(obj)


class PatternCheckView(SignedInMixin, View):
    """The indicator form's live check: what is wrong with a pattern, or that it is valid."""

    http_method_names = ["get"]
    htmx_fragment = True
    MAX_LENGTH = 10_000

    def get(self, request, *args, **kwargs):
        pattern = request.GET.get("pattern", "").replace("\x00", "").strip()
        if not pattern:
            problems, empty = [], True
        elif len(pattern) > self.MAX_LENGTH:
            problems, empty = [_("The pattern is longer than 10,000 characters.")], False
        else:
            problems, empty = stix.validate_pattern(pattern), False
        return render(request, "intel/pattern_check.html", {"problems": problems, "empty": empty})


class ImportView(RoleRequiredMixin, FormView):
    """A STIX bundle or a MISP event, uploaded or pasted: stored whole, or refused whole with
    one message per bad object."""

    required_role = Role.PROGRAMME_MANAGER
    form_class = ImportForm
    template_name = "intel/import.html"

    def form_valid(self, form):
        data = form.cleaned_data
        options = {
            "actor": self.request.user,
            "raw": data["raw"],
            "default_tlp": data["default_tlp"],
            "data_category": data["data_category"],
        }
        try:
            if data["format"] == FORMAT_MISP:
                result = misp.import_event(**options)
            else:
                result = services.import_objects(**options)
        except stix.BundleRefused as refused:
            # One message per bad object, as the form's own errors: nothing was stored, and
            # what was pasted stays in the form to be corrected.
            problems = refused.problems
            shown = problems[:PROBLEMS_SHOWN]
            if len(problems) > PROBLEMS_SHOWN:
                more = len(problems) - PROBLEMS_SHOWN
                shown.append(
                    ngettext("And %(count)d more problem.", "And %(count)d more problems.", more)
                    % {"count": more}
                )
            form.add_error(None, shown)
            return self.render_to_response(
                self.get_context_data(form=form, problem_count=len(problems))
            )
        stored, unchanged = len(result.stored), len(result.unchanged)
        message = ngettext("%(count)d object stored.", "%(count)d objects stored.", stored) % {
            "count": stored
        }
        if unchanged:
            message += " " + ngettext(
                "%(count)d was held already, unchanged.",
                "%(count)d were held already, unchanged.",
                unchanged,
            ) % {"count": unchanged}
        messages.success(self.request, message + " " + _("Only your organisation sees them."))
        if stored == 1:
            return redirect(result.stored[0])
        return redirect(reverse("intel:list") + "?sort=newest")


class ConnectView(SignedInMixin, TemplateView):
    """Per collection: its TAXII URL, and configuration for MISP and OpenCTI to paste."""

    template_name = "intel/connect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        base = settings.PORTAL_BASE_URL
        username = self.request.user.get_username()
        api_root = f"{base}/taxii2/api/"
        token = _("your API token from your profile")
        context.update(
            discovery_url=f"{base}/taxii2/",
            api_root_url=api_root,
            username=username,
            token_placeholder=token,
            collections=[
                _configured(collection, base=base, username=username, token=token)
                for collection in collections.collections_for(self.request.user)
            ],
        )
        return context


class ExportView(SignedInMixin, View):
    """A STIX bundle of what the person may see; of the list's filters when it names some."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        objects = None
        if any(request.GET.get(name) for name in ("q", *StixObjectFilter.base_filters)):
            listing = StixObjectListView()
            listing.setup(request)
            objects = listing.get_queryset()
        bundle = services.export_bundle(request.user, objects, via="page", query=request.GET.dict())
        response = HttpResponse(
            json.dumps(bundle, indent=1, ensure_ascii=False),
            content_type="application/stix+json;version=2.1",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="intelligence-{stamp}.json"'
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Helpers --------------------------------------------------------------------------------


def _refusal(option) -> str:
    return option.problem or _("Already shared with %(who)s.") % {"who": option.recipient}


def _basis_share(user, obj):
    """The live share through which the person's organisation sees the object, if any."""
    membership = getattr(user, "membership", None)
    if membership is None:
        return None
    return (
        IntelShare.objects.live()
        .filter(object=obj, recipient_id=membership.organisation_id)
        .select_related("agreement")
        .first()
    )


def _configured(collection, *, base: str, username: str, token: str) -> dict:
    """One collection with its URLs and the MISP and OpenCTI configuration to paste."""
    url = f"{base}/taxii2/api/collections/{collection.id}/"
    misp_server = {
        "TaxiiServer": {
            "name": f"Cooperation Portal {collection.title}",
            "description": collection.description,
            "baseurl": base,
            "api_root": "taxii2/api",
            "collection": collection.id,
            # MISP sends "Authorization: basic <api_key>": the key is user:token, base64.
            "api_key": f"<base64 of {username}:{token}>",
        }
    }
    opencti_env = "\n".join(
        [
            f"TAXII2_DISCOVERY_URL={base}/taxii2/",
            f"TAXII2_USERNAME={username}",
            f"TAXII2_PASSWORD=<{token}>",
            "TAXII2_V21=true",
            f"TAXII2_COLLECTIONS=api.{collection.title}",
            "TAXII2_INITIAL_HISTORY=720",
            "TAXII2_ENABLE_URL_QUERY_LIMIT=true",
            "TAXII2_URL_QUERY_LIMIT=500",
        ]
    )
    basic_example = base64.b64encode(f"{username}:TOKEN".encode()).decode()
    return {
        "collection": collection,
        "url": url,
        "objects_url": f"{url}objects/",
        "misp_json": json.dumps(misp_server, indent=2, ensure_ascii=False),
        "misp_key_command": f"printf '%s' '{username}:TOKEN' | base64",
        "basic_example": basic_example,
        "opencti_env": opencti_env,
        "opencti_feed": [
            (_("TAXII server URL"), f"{base}/taxii2/api/"),
            (_("TAXII version"), "2.1"),
            (_("TAXII collection"), collection.id),
            (_("Authentication type"), _("Basic user / password")),
            (_("Username"), username),
            (_("Password"), token),
        ],
    }
