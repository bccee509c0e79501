"""HTML views of agreements. They translate HTTP into service calls; access comes from the
base classes, and what a person may do is decided by the policy and the state machine."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView

from agreements import diff, lifecycle, services
from agreements.filters import AgreementFilter
from agreements.forms import (
    AgreementForm,
    DeclineForm,
    PartyForm,
    ReasonForm,
    SignForm,
    TerminateForm,
)
from agreements.models import Agreement
from portal import access, audit, audit_words, reauth
from portal.base_views import AccessListView, ObjectAccessMixin, PublicMixin, RoleRequiredMixin
from portal.forms import ReauthenticationForm, add_service_errors
from portal.models import Role

#: Buttons on the detail page: (access action, transition, URL name, label, kind).
#: A "next" action moves the agreement on: the first one the person may take is the page's
#: primary button. "danger" undoes or ends something: those sit apart, styled as such, and
#: each opens a page that says what will happen before it is confirmed.
ACTIONS = [
    ("submit", "submit", "agreements:submit", gettext_lazy("Submit for signature"), "next"),
    ("sign", "sign", "agreements:sign", gettext_lazy("Sign"), "next"),
    ("edit", "edit", "agreements:edit", gettext_lazy("Edit draft"), "other"),
    ("amend", "amend", "agreements:amend", gettext_lazy("Amend"), "other"),
    ("withdraw", "withdraw", "agreements:withdraw", gettext_lazy("Withdraw for changes"), "danger"),
    ("sign", "decline", "agreements:decline", gettext_lazy("Decline"), "danger"),
    ("terminate", "terminate", "agreements:terminate", gettext_lazy("Terminate"), "danger"),
]


class AgreementListView(AccessListView):
    model = Agreement
    shared_filter_bar = True
    keep_page = True
    filterset_class = AgreementFilter
    search_fields = ("reference", "title", "purpose")
    sort_options = {
        "-created": "-created_at",
        "reference": "reference",
        "title": "title",
        "expires": "expires_on",
    }
    sort_labels = {
        "-created": gettext_lazy("Newest first"),
        "reference": gettext_lazy("Reference"),
        "title": gettext_lazy("Title"),
        "expires": gettext_lazy("Expiry date"),
    }
    default_sort = "-created"
    results_template = "agreements/agreement_rows.html"
    template_name = "agreements/agreement_list.html"
    extra_context = {
        "title": gettext_lazy("Agreements"),
        "intro": gettext_lazy("Agreements your organisation is a party to. Nobody else sees them."),
        "empty_text": gettext_lazy("Agreements your organisation is a party to appear here."),
    }

    def get_base_queryset(self):
        return Agreement.objects.prefetch_related("parties__organisation").distinct()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        membership = getattr(self.request.user, "membership", None)
        context["can_draft"] = bool(membership and membership.programme_manager)
        return context


class AgreementDetailView(ObjectAccessMixin, DetailView):
    model = Agreement
    template_name = "agreements/agreement_detail.html"

    def get_access_queryset(self):
        return Agreement.objects.select_related("supersedes", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agreement, user = self.object, self.request.user
        parties = list(
            agreement.parties.select_related("organisation").prefetch_related("signatories")
        )
        signatures = list(
            agreement.signatures.select_related("user", "organisation").order_by("signed_at")
        )
        for party in parties:
            party.valid_signatures = [
                s
                for s in signatures
                if s.party_id == party.pk
                and s.voided_at is None
                and s.content_hash == agreement.content_hash
            ]
            party.complete = len(party.valid_signatures) >= party.required_signatures
        membership = getattr(user, "membership", None)
        # Versions are named, linked and compared only for those who may see them: an
        # amendment can drop parties of the old version and add new ones.
        previous = agreement.supersedes
        if previous is not None and not access.can(user, "view", previous):
            previous = None
        amendment = Agreement.objects.filter(supersedes=agreement).first()
        if amendment is not None and not access.can(user, "view", amendment):
            amendment = None
        # The person's own signature of this version, if they gave one.
        signed_by_me = next(
            (
                s
                for s in signatures
                if s.user_id == user.pk
                and s.voided_at is None
                and s.content_hash == agreement.content_hash
            ),
            None,
        )
        context.update(
            parties=parties,
            signatures=signatures,
            signed_by_me=signed_by_me,
            actions=self._actions(signed_by_me),
            own_party=next(
                (
                    p
                    for p in parties
                    if membership and p.organisation_id == membership.organisation_id
                ),
                None,
            ),
            can_edit=access.can(user, "edit", agreement)
            and lifecycle.machine.allows(agreement, "edit"),
            has_evidence=agreement.status in lifecycle.SIGNED_STATES,
            can_read_access_report=access.can(user, "view_access_report", agreement),
            timeline=audit_words.history(user, agreement),
            access_rows=access.explain(agreement),
            previous=previous,
            amendment=amendment,
            changes=diff.against_previous(agreement) if previous is not None else None,
        )
        return context

    def _actions(self, signed_by_me) -> dict[str, list[tuple[str, str]]]:
        """The person's actions by kind; once they have signed, signing and declining are
        done and no longer offered."""
        agreement, user = self.object, self.request.user
        found: dict[str, list[tuple[str, str]]] = {"next": [], "other": [], "danger": []}
        for action, transition, url_name, label, kind in ACTIONS:
            if action == "sign" and signed_by_me is not None:
                continue
            if lifecycle.machine.allows(agreement, transition) and access.can(
                user, action, agreement
            ):
                found[kind].append((url_name, label))
        return found


class AgreementCreateView(RoleRequiredMixin, FormView):
    required_role = Role.PROGRAMME_MANAGER
    form_class = AgreementForm
    template_name = "agreements/agreement_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            agreement = services.create_agreement(
                actor=self.request.user, parties=form.cleaned_data["parties"], **form.terms()
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Draft %(reference)s created.") % {"reference": agreement.reference}
        )
        return redirect(agreement)


class TransitionPageMixin:
    """A page for one transition: asking for it in the wrong state explains and goes back."""

    transition = ""

    def get(self, request, *args, **kwargs):
        if not lifecycle.machine.allows(self.object, self.transition):
            messages.info(
                request,
                _("%(agreement)s is %(status)s: this is not possible now.")
                % {
                    "agreement": self.object.label,
                    "status": self.object.get_status_display().lower(),
                },
            )
            return redirect(self.object)
        return super().get(request, *args, **kwargs)


class AgreementEditView(TransitionPageMixin, ObjectAccessMixin, FormView):
    model = Agreement
    access_action = "edit"
    transition = "edit"
    form_class = AgreementForm
    template_name = "agreements/agreement_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object, "user": self.request.user}

    def form_valid(self, form):
        # The form mutated its instance while validating; the service starts from the database.
        agreement = Agreement.objects.get(pk=self.object.pk)
        try:
            services.update_draft(
                actor=self.request.user,
                agreement=agreement,
                parties=form.cleaned_data["parties"],
                **form.terms(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Draft saved."))
        return redirect(agreement)


class PartyEditView(TransitionPageMixin, ObjectAccessMixin, FormView):
    """Where a party's own programme managers designate who signs for it."""

    model = Agreement
    access_action = "edit"
    transition = "edit"
    form_class = PartyForm
    template_name = "agreements/party_form.html"

    def get_object(self, queryset=None):
        agreement = super().get_object(queryset)
        # The URL's party, looked up only among this agreement's parties; another party's
        # form (and with it the list of who may sign for it) is that party's alone.
        self.party = get_object_or_404(
            agreement.parties.select_related("organisation", "agreement"),
            pk=self.kwargs["party_pk"],
        )
        services.require_designation(actor=self.request.user, party=self.party)
        return agreement

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.party}

    def get_context_data(self, **kwargs):
        return super().get_context_data(party=self.party, **kwargs)

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        signatories = data.pop("signatories")
        try:
            services.update_party(
                actor=self.request.user,
                party=type(self.party).objects.get(pk=self.party.pk),
                signatories=signatories,
                **data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Details of %(organisation)s saved.") % {"organisation": self.party.organisation},
        )
        return redirect(self.object)


class AgreementActionView(TransitionPageMixin, ObjectAccessMixin, FormView):
    """A confirmation page and its POST for one lifecycle action."""

    model = Agreement
    template_name = "agreements/action_form.html"
    form_class = forms.Form
    heading = ""
    explanation = ""
    button = ""
    danger = False
    success = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.heading,
            explanation=self.explanation,
            consequences=self.consequences(),
            button=self.button,
            danger=self.danger,
            **kwargs,
        )

    def consequences(self) -> list[str]:
        """What the action ends or changes, in concrete sentences, shown before it is confirmed."""
        return []

    def form_valid(self, form):
        try:
            self.perform(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success)
        return redirect(self.object)

    def form_invalid(self, form):
        if isinstance(form, ReauthenticationForm):
            form.ask_for_password_again()
        return super().form_invalid(form)

    def perform(self, form):
        raise NotImplementedError

    def reauthenticate(self, form):
        return reauth.reauthenticate(
            self.request.user,
            password=form.cleaned_data["password"],
            otp=form.cleaned_data.get("otp", ""),
        )


class SigningPageMixin:
    """Signing and declining: the page shows what is signed (the parties, dates, key terms
    and the hash), and the form asks for the code when the person has an authenticator app."""

    template_name = "agreements/sign_form.html"
    summary_heading = gettext_lazy("What you sign")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def own_party(self):
        return self.object.parties.select_related("organisation", "agreement").get(
            organisation_id=self.request.user.membership.organisation_id
        )

    def get_context_data(self, **kwargs):
        agreement = self.object
        parties = list(agreement.parties.select_related("organisation"))
        signed = {}
        for signature in agreement.signatures.filter(
            voided_at__isnull=True, content_hash=agreement.content_hash
        ):
            signed[signature.party_id] = signed.get(signature.party_id, 0) + 1
        for party in parties:
            party.signature_count = signed.get(party.pk, 0)
        return super().get_context_data(
            parties=parties,
            own_party=self.own_party(),
            summary_heading=self.summary_heading,
            **kwargs,
        )


class SubmitView(AgreementActionView):
    transition = "submit"
    access_action = "submit"
    heading = gettext_lazy("Submit for signature")
    explanation = gettext_lazy(
        "Submitting freezes the text and terms and computes their content hash. Every "
        "designated signatory is asked to sign that exact content."
    )
    button = gettext_lazy("Submit for signature")
    success = gettext_lazy("Submitted. The signatories have been asked to sign.")

    def perform(self, form):
        services.submit(actor=self.request.user, agreement=self.object)


class WithdrawView(AgreementActionView):
    transition = "withdraw"
    access_action = "withdraw"
    form_class = ReasonForm
    heading = gettext_lazy("Withdraw for changes")
    explanation = gettext_lazy(
        "The agreement goes back to draft, so its parties can change it. It has to be "
        "submitted and signed again, by every party."
    )
    button = gettext_lazy("Withdraw")
    danger = True
    success = gettext_lazy("Withdrawn. The draft can be edited again.")

    def consequences(self):
        signatures = list(
            self.object.signatures.filter(
                voided_at__isnull=True, content_hash=self.object.content_hash
            ).select_related("user", "organisation")
        )
        if not signatures:
            return [_("Nobody has signed yet: no signature is lost.")]
        return [
            _("The signature of %(name)s for %(organisation)s, given on %(day)s, becomes void.")
            % {
                "name": s.user.get_full_name() or s.user.get_username(),
                "organisation": s.organisation,
                "day": date_format(s.signed_at, "j M Y"),
            }
            for s in signatures
        ]

    def perform(self, form):
        services.withdraw(
            actor=self.request.user, agreement=self.object, reason=form.cleaned_data["reason"]
        )


class SignView(SigningPageMixin, AgreementActionView):
    transition = "sign"
    access_action = "sign"
    form_class = SignForm
    heading = gettext_lazy("Sign")
    explanation = gettext_lazy(
        "You sign for your organisation, on exactly the content above, identified by its "
        "hash. Confirm it is you."
    )
    button = gettext_lazy("Sign")
    success = gettext_lazy("Signed.")

    def get(self, request, *args, **kwargs):
        # Someone who signed and comes back (a bookmark, the back button) learns when they
        # signed, on the agreement's page, rather than meeting a form that can only refuse.
        signature = services.own_signature(actor=request.user, agreement=self.object)
        if signature is not None:
            messages.info(request, services.already_signed_message(signature))
            return redirect(self.object)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "party": self.own_party()}

    def perform(self, form):
        services.sign(
            actor=self.request.user,
            agreement=self.object,
            reauthentication=self.reauthenticate(form),
        )


class DeclineView(SigningPageMixin, AgreementActionView):
    transition = "decline"
    access_action = "sign"
    form_class = DeclineForm
    summary_heading = gettext_lazy("What you decline")
    heading = gettext_lazy("Decline")
    explanation = gettext_lazy(
        "Declining returns the agreement to draft and voids every signature. Every party is "
        "told your reason."
    )
    button = gettext_lazy("Decline")
    danger = True
    success = gettext_lazy("Declined. The parties have been told why.")

    def perform(self, form):
        services.decline(
            actor=self.request.user,
            agreement=self.object,
            reason=form.cleaned_data["reason"],
            reauthentication=self.reauthenticate(form),
        )


class TerminateView(AgreementActionView):
    transition = "terminate"
    access_action = "terminate"
    form_class = TerminateForm
    heading = gettext_lazy("Terminate")
    explanation = gettext_lazy(
        "Termination ends the agreement on the date you choose: today ends it at once, a "
        "later date schedules the end. It cannot be undone."
    )
    button = gettext_lazy("Terminate")
    danger = True
    success = gettext_lazy("Termination recorded.")

    def consequences(self):
        return services.ending_consequences(agreement=self.object, viewer=self.request.user)

    def perform(self, form):
        services.terminate(
            actor=self.request.user,
            agreement=self.object,
            reason=form.cleaned_data["reason"],
            effective_on=form.cleaned_data["effective_on"],
        )


class AmendView(AgreementActionView):
    transition = "amend"
    access_action = "amend"
    heading = gettext_lazy("Amend")
    explanation = gettext_lazy(
        "Amending opens a new draft version. This version stays in force until every party "
        "has signed the amendment."
    )
    button = gettext_lazy("Open an amendment")

    def form_valid(self, form):
        try:
            amendment = services.amend(actor=self.request.user, agreement=self.object)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Amendment %(amendment)s opened as a draft.") % {"amendment": amendment.label},
        )
        return redirect(amendment)


class EvidenceView(ObjectAccessMixin, DetailView):
    """The signed JSON evidence bundle of a signed agreement."""

    model = Agreement

    def get(self, request, *args, **kwargs):
        from agreements import evidence

        return _download(
            self.object, evidence.build_bundle, "application/json", "evidence.json", request
        )


class CertificateView(ObjectAccessMixin, DetailView):
    """The certificate of completion, as a PDF."""

    model = Agreement

    def get(self, request, *args, **kwargs):
        from agreements import certificate

        return _download(
            self.object,
            certificate.build_certificate,
            "application/pdf",
            "certificate.pdf",
            request,
        )


def _download(agreement, build, content_type: str, suffix: str, request):
    if agreement.status not in lifecycle.SIGNED_STATES:
        messages.error(request, _("Evidence exists once every party has signed."))
        return redirect(agreement)
    try:
        body = build(agreement)
    except ValidationError as error:  # its stored history does not verify: nothing is signed
        messages.error(request, " ".join(error.messages))
        return redirect(agreement)
    response = HttpResponse(body, content_type=content_type)
    name = f"{agreement.reference}-v{agreement.version}-{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    audit.record(request.user, "agreement.evidence_downloaded", agreement, file=suffix)
    return response


class VerifierDownloadView(PublicMixin, View):
    """The standalone evidence verifier (agreements/verifier.py), as a file to download.

    Public on purpose: auditors and partners verify evidence with it, often without an account
    here. It is one module of the portal's own code and holds no partner data.
    """

    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        from agreements import evidence

        response = HttpResponse(
            evidence.verifier_source(), content_type="text/x-python; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="verify.py"'
        response["X-Content-SHA256"] = evidence.verifier_sha256()
        return response
