"""Input validation for resources. The services check the rules and do the writing."""

import copy

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext, gettext_lazy

from portal.forms import ModelMultipleChoiceField, ReauthenticationForm
from portal.vocabulary import TLP, DataCategory
from portal.widgets import ChipPicker
from resources.models import ResourceKind

User = get_user_model()


class TagsField(forms.CharField):
    """Comma-separated words in the form; a list of stripped, distinct words in the data."""

    def clean(self, value):
        # The text is checked as text (its length, no NUL byte) before it becomes a list.
        return self._split(super().clean(value))

    def _split(self, text):
        tags = []
        for word in text.split(","):
            word = " ".join(word.split())
            if word and word not in tags:
                tags.append(word)
        return tags

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value


def _upload_help() -> str:
    limit = settings.RESOURCE_MAX_UPLOAD_BYTES / 1_000_000
    return gettext(
        "Up to %(limit)s MB. The type is detected from the file's content, never its name; "
        "executables are accepted only for tools."
    ) % {"limit": f"{limit:.0f}"}


class ResourceMetadataForm(forms.Form):
    """What a resource is, and how it may be handled: everything but its files."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Markdown. Recipients read this before they download."),
    )
    kind = forms.ChoiceField(choices=ResourceKind.choices)
    data_category = forms.ChoiceField(
        label=gettext_lazy("Data category"),
        choices=DataCategory.choices,
        help_text=gettext_lazy("An agreement lets you share only the categories it covers."),
    )
    tlp = forms.ChoiceField(
        label=gettext_lazy("TLP"),
        choices=TLP.choices,
        initial=TLP.AMBER,
        help_text=gettext_lazy(
            "Sharing is possible only under agreements whose TLP ceiling is at least this."
        ),
    )
    tags = TagsField(
        required=False,
        max_length=1000,
        help_text=gettext_lazy("Separate tags with commas, e.g. apt, phishing."),
    )

    groups = [
        (gettext_lazy("What it is"), ["title", "description", "kind", "data_category", "tags"]),
        (gettext_lazy("Handling"), ["tlp"]),
    ]

    def fieldsets(self):
        """The fields in the groups a reader expects."""
        return [(legend, [self[name] for name in names]) for legend, names in self.groups]


class ResourceForm(ResourceMetadataForm):
    """A new resource and its first file."""

    # Empty files reach the service, which refuses them in the same words as the API.
    file = forms.FileField(allow_empty_file=True, max_length=255)

    groups = [
        (
            gettext_lazy("What it is"),
            ["file", "title", "description", "kind", "data_category", "tags"],
        ),
        (gettext_lazy("Handling"), ["tlp"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _upload_help()

    def metadata(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "file"}


class VersionForm(forms.Form):
    """A new file for an existing resource; earlier versions stay."""

    file = forms.FileField(allow_empty_file=True, max_length=255)
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "What changed in this version, for the people who already downloaded it."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _upload_help()


class ShareForm(forms.Form):
    """One (agreement, recipient) pair the sharing rules allow; named people for TLP:RED;
    the person's password for TLP:RED and TLP:AMBER+STRICT."""

    option = forms.ChoiceField(
        label=gettext_lazy("Share with"),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose whom to share with, under which agreement.")
        },
    )
    recipient_users = ModelMultipleChoiceField(
        label=gettext_lazy("Named recipients"),
        queryset=User.objects.none(),
        to_field_name="username",  # a user's id would count every nation's accounts
        widget=ChipPicker(group_by=lambda user: user.membership.organisation.name),
        required=False,
        help_text=gettext_lazy(
            "TLP:RED goes to these people only, never to their whole organisation. "
            "Choose members of the organisation picked above."
        ),
    )

    def __init__(self, *args, resource, options, needs_reauth: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.resource = resource
        self.allowed = {f"{o.agreement.pk}:{o.recipient.pk}": o for o in options if o.allowed}
        self.fields["option"].choices = [
            (key, f"{o.recipient.name} under {o.agreement.label}: {o.agreement.title}")
            for key, o in self.allowed.items()
        ]
        if resource.tlp == TLP.RED:
            recipients = {o.recipient.pk: o.recipient for o in self.allowed.values()}
            members = (
                User.objects.filter(
                    is_active=True, membership__organisation_id__in=list(recipients)
                )
                .select_related("membership__organisation")
                .order_by("membership__organisation__name", "last_name", "username")
            )
            self.fields["recipient_users"].queryset = members
            self.fields["recipient_users"].label_from_instance = lambda u: (
                f"{u.get_full_name() or u.username} ({u.username})"
            )
        else:
            del self.fields["recipient_users"]
        if needs_reauth:
            for name, field in ReauthenticationForm.base_fields.items():
                self.fields[name] = copy.deepcopy(field)
            label = TLP(resource.tlp).label
            self.fields["password"].help_text = gettext(
                "Sharing %(tlp)s needs you to confirm it is you."
            ) % {"tlp": label}

    def clean(self):
        cleaned = super().clean()
        option = self.allowed.get(cleaned.get("option", ""))
        if option is None or "recipient_users" not in self.fields:
            return cleaned
        users = list(cleaned.get("recipient_users") or [])
        if not users:
            self.add_error(
                "recipient_users",
                gettext("TLP:RED is shared with named people only: choose at least one."),
            )
        outsiders = [u for u in users if u.membership.organisation_id != option.recipient.pk]
        if outsiders:
            names = ", ".join(u.get_full_name() or u.username for u in outsiders)
            self.add_error(
                "recipient_users",
                gettext("Choose people of %(organisation)s: %(names)s are not.")
                % {"organisation": option.recipient.name, "names": names},
            )
        return cleaned

    @property
    def chosen(self):
        """The ShareOption picked, once the form is valid."""
        return self.allowed[self.cleaned_data["option"]]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 500}),
        help_text=gettext_lazy("Kept with the share and in the audit trail."),
    )

    def clean_reason(self):
        # A revocation must never fail over the length of its reason.
        return self.cleaned_data["reason"][:500]
