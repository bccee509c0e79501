"""Input validation for intelligence: the indicator form, imports, sightings and shares. The
services in intel/services.py check the rules and do the writing."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intel import stix
from portal.vocabulary import TLP, DataCategory
from resources.forms import ShareForm, TagsField

#: STIX 2.1's indicator-type-ov (section 10.8), an open vocabulary: the form offers these.
INDICATOR_TYPES = [
    ("malicious-activity", _("Malicious activity")),
    ("anomalous-activity", _("Anomalous activity")),
    ("attribution", _("Attribution")),
    ("compromised", _("Compromised")),
    ("anonymization", _("Anonymization")),
    ("benign", _("Benign")),
    ("unknown", _("Unknown")),
]

FORMAT_STIX = "stix"
FORMAT_MISP = "misp"


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _now_to_the_minute():
    return timezone.now().replace(second=0, microsecond=0)


class KillChainField(forms.CharField):
    """One phase per line, as `kill_chain_name:phase_name`; a list of STIX kill-chain phases
    in the data."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def clean(self, value):
        text = super().clean(value)
        phases, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, sep, phase = (part.strip() for part in line.partition(":"))
            if not sep or not name or not phase:
                problems.append(
                    _("Line %(number)s (“%(line)s”) is not kill_chain_name:phase_name.")
                    % {"number": number, "line": line[:80]}
                )
                continue
            entry = {"kill_chain_name": name, "phase_name": phase}
            if entry not in phases:
                phases.append(entry)
        if problems:
            raise forms.ValidationError(problems)
        return phases

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{p['kill_chain_name']}:{p['phase_name']}" for p in value)
        return value


class IndicatorForm(forms.Form):
    """A new STIX indicator: its pattern, validity, vocabulary and handling."""

    name = forms.CharField(label=_("Name"), max_length=250)
    pattern = forms.CharField(
        label=_("Pattern"),
        max_length=10_000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "spellcheck": "false",
                "autocomplete": "off",
                "class": "pattern-input",
                "hx-get": reverse_lazy("intel:pattern-check"),
                "hx-trigger": "input changed delay:400ms, change",
                "hx-target": "#pattern-check",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "aria-describedby": "id_pattern_helptext pattern-check",
            }
        ),
        help_text=_(
            "A STIX 2.1 pattern, for example [ipv4-addr:value = '198.51.100.7'] or "
            "[file:hashes.'SHA-256' = '…']."
        ),
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from (UTC)"), widget=_datetime_input(), initial=_now_to_the_minute
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until (UTC)"),
        widget=_datetime_input(),
        required=False,
        help_text=_("Leave empty when it has no end."),
    )
    indicator_types = forms.MultipleChoiceField(
        label=_("Indicator types"),
        choices=INDICATOR_TYPES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    kill_chain_phases = KillChainField(
        label=_("Kill-chain phases"),
        required=False,
        max_length=5_000,
        help_text=_("One per line, as kill_chain_name:phase_name, e.g. mitre-attack:exfiltration."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    labels = TagsField(
        label=_("Labels"),
        required=False,
        max_length=1_000,
        help_text=_("Separate labels with commas, e.g. phishing, c2."),
    )
    tlp = forms.ChoiceField(
        label=_("TLP"),
        choices=TLP.choices,
        initial=TLP.AMBER,
        help_text=_("You can share it only under agreements whose TLP ceiling is at least this."),
    )
    data_category = forms.ChoiceField(
        label=_("Data category"),
        choices=DataCategory.choices,
        initial=DataCategory.THREAT_INTELLIGENCE,
        help_text=_("An agreement lets you share only the categories it covers."),
    )

    groups = [
        (_("The indicator"), ["name", "pattern", "valid_from", "valid_until"]),
        (_("What it means"), ["indicator_types", "kill_chain_phases", "description", "labels"]),
        (_("Handling"), ["tlp", "data_category"]),
    ]

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.groups]

    def clean_pattern(self):
        pattern = self.cleaned_data["pattern"].strip()
        problems = stix.validate_pattern(pattern)
        if problems:
            raise forms.ValidationError(problems)
        return pattern


class ImportForm(forms.Form):
    """A STIX bundle or a MISP event, uploaded as a file or pasted."""

    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            (FORMAT_STIX, _("STIX 2.1 bundle (or a list of STIX objects)")),
            (FORMAT_MISP, _("MISP event (its JSON export)")),
        ],
        initial=FORMAT_STIX,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        allow_empty_file=True,
        help_text=_("A .json file. Or paste the JSON below instead."),
    )
    text = forms.CharField(
        label=_("Or paste JSON"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "json-input"}),
    )
    default_tlp = forms.ChoiceField(
        label=_("TLP for unmarked objects"),
        choices=TLP.choices,
        initial=TLP.AMBER,
        help_text=_(
            "Objects that carry a TLP marking keep it; the others get this one. For MISP, the "
            "tlp: tags decide first."
        ),
    )
    data_category = forms.ChoiceField(
        label=_("Data category"),
        choices=DataCategory.choices,
        initial=DataCategory.THREAT_INTELLIGENCE,
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("text") or ""
        if upload and text.strip():
            raise forms.ValidationError(_("Upload a file or paste JSON, not both."))
        if not upload and not text.strip():
            self.add_error("text", _("Upload a file or paste the JSON here."))
            return cleaned
        if upload:
            if upload.size > stix.max_bytes():
                self.add_error(
                    "file",
                    _("The file is larger than the import limit of %(mb).0f MB.")
                    % {"mb": stix.max_bytes() / 1_048_576},
                )
                return cleaned
            cleaned["raw"] = upload.read()
        else:
            cleaned["raw"] = text
        return cleaned


class SightingForm(forms.Form):
    """Your organisation saw what an object describes."""

    count = forms.IntegerField(
        label=_("How many times"), min_value=1, max_value=999_999_999, initial=1
    )
    first_seen = forms.DateTimeField(
        label=_("First seen (UTC)"), widget=_datetime_input(), required=False
    )
    last_seen = forms.DateTimeField(
        label=_("Last seen (UTC)"), widget=_datetime_input(), required=False
    )
    anonymous = forms.BooleanField(
        label=_("Report it anonymously"),
        required=False,
        help_text=_(
            "The owner then learns only that it was seen, and how often: not by whom. "
            "Otherwise the sighting names your organisation."
        ),
    )
    tlp = forms.ChoiceField(
        label=_("TLP of the sighting"),
        choices=TLP.choices,
        initial=TLP.AMBER,
        help_text=_(
            "The owner learns of a named sighting only where the agreement you received the "
            "object under allows this TLP."
        ),
    )
    description = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_seen"), cleaned.get("last_seen")
        if first and last and last < first:
            self.add_error("last_seen", _("Last seen cannot be before first seen."))
        return cleaned


class IntelShareForm(ShareForm):
    """The resources' share form, plus "also share the objects it references" for reports
    and groupings."""

    def __init__(self, *args, obj, with_references: bool, **kwargs):
        super().__init__(*args, resource=obj, **kwargs)
        if with_references:
            self.fields["with_references"] = forms.BooleanField(
                label=_("Also share the objects it references"),
                required=False,
                initial=True,
                help_text=_(
                    "Each referenced object of your organisation goes along where the sharing "
                    "rules allow it; those they refuse are listed below, with the reason."
                ),
            )
