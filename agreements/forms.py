"""Input validation for agreements. The services do the writing."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, Party
from portal import access
from portal.forms import ModelMultipleChoiceField, ReauthenticationForm
from portal.models import Organisation
from portal.vocabulary import DataCategory
from portal.widgets import ChipPicker

User = get_user_model()


class DateInput(forms.DateInput):
    """A native date picker; it only accepts ISO dates as its value."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class AgreementForm(forms.ModelForm):
    """The draft: terms, body and the parties."""

    parties = ModelMultipleChoiceField(
        queryset=Organisation.objects.filter(is_active=True),
        widget=ChipPicker(attrs={"size": 8}, search_text=lambda organisation: organisation.slug),
        help_text=_("Your own organisation is always a party; add at least one other."),
    )
    data_categories = forms.MultipleChoiceField(
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("What may be shared under this agreement."),
    )

    class Meta:
        model = Agreement
        fields = [
            "title",
            "kind",
            "purpose",
            "parties",
            "body",
            "data_categories",
            "tlp_ceiling",
            "permitted_actions",
            "attribution_allowed",
            "encryption_required",
            "affected_parties_notifiable",
            "retention_days",
            "on_termination",
            "effective_from",
            "expires_on",
            "renewal_notice_days",
            "governing_law",
            "prevailing_language",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "body": forms.Textarea(attrs={"rows": 14}),
            "effective_from": DateInput,
            "expires_on": DateInput,
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        parties = self.fields["parties"]
        if user is not None:
            parties.queryset = access.visible_to(user, parties.queryset).order_by("name")
        if not self.instance._state.adding:  # its pk is set before it is saved (portal.ids)
            parties.initial = [p.organisation_id for p in self.instance.parties.all()]
        elif user is not None and hasattr(user, "membership"):
            self.fields["effective_from"].initial = timezone.localdate()
        if user is not None and hasattr(user, "membership"):
            # The drafter (or the party editing the draft) cannot leave their own agreement:
            # the picker shows their organisation as a fixed chip and the field adds it back
            # whatever is posted. The services still refuse a list without it (the API).
            parties.fix(
                [user.membership.organisation],
                label=_("your organisation, always a party"),
            )

    def fieldsets(self):
        """The fields in the groups a reader expects: what, what may be shared, when."""
        groups = [
            (_("The agreement"), ["title", "kind", "purpose", "parties", "body"]),
            (
                _("Data-sharing terms"),
                [
                    "data_categories",
                    "tlp_ceiling",
                    "permitted_actions",
                    "attribution_allowed",
                    "encryption_required",
                    "affected_parties_notifiable",
                    "retention_days",
                    "on_termination",
                ],
            ),
            (
                _("Dates and law"),
                [
                    "effective_from",
                    "expires_on",
                    "renewal_notice_days",
                    "governing_law",
                    "prevailing_language",
                ],
            ),
        ]
        return [(legend, [self[name] for name in names]) for legend, names in groups]

    def terms(self) -> dict:
        """The cleaned terms, without the parties (the services take those separately)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "parties"}


class PartyForm(forms.ModelForm):
    signatories = ModelMultipleChoiceField(
        queryset=User.objects.none(),
        to_field_name="username",  # a user's id would count every nation's accounts
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Members of your organisation who hold the signatory role."),
    )

    class Meta:
        model = Party
        fields = [
            "signatories",
            "required_signatures",
            "legal_contact",
            "technical_contact",
            "incident_contact",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signatories"].queryset = User.objects.filter(
            membership__organisation=self.instance.organisation,
            membership__signatory=True,
            is_active=True,
        ).order_by("last_name", "username")
        self.fields["signatories"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.username} ({u.username})"
        )


class SignForm(ReauthenticationForm):
    """A signature: the person's consent, in words that name who they sign for and under
    which mandate, and the proof that it is them."""

    consent = forms.BooleanField(
        error_messages={"required": _("Tick the box to confirm that you sign.")},
    )

    field_order = ["consent", "password", "otp"]

    def __init__(self, *args, party: Party, **kwargs):
        super().__init__(*args, **kwargs)
        # The only mandate the portal records is the party's designation of its signatories
        # (by its own programme managers); the sentence says exactly that, and no more.
        self.fields["consent"].label = _(
            "I sign %(label)s on behalf of %(organisation)s under the mandate it gave me as "
            "its designated signatory, on the content with the hash shown above."
        ) % {"label": party.agreement.label, "organisation": party.organisation}


class DeclineForm(ReauthenticationForm):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Every party reads this; say what must change."),
    )

    field_order = ["reason", "password", "otp"]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    effective_on = forms.DateField(
        widget=DateInput, help_text=_("Today ends it at once; a later date schedules the end.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = timezone.localdate()
