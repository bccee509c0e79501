"""Input validation for projects. The services check the rules and do the writing."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.forms import DateInput
from agreements.models import Agreement
from portal import access
from portal.forms import ModelMultipleChoiceField
from portal.models import Organisation
from portal.vocabulary import TLP
from portal.widgets import ChipPicker
from projects import services
from projects.models import (
    ContributionKind,
    DeliverableType,
    ParticipantRole,
    Project,
    ProjectKind,
    ReviewDecision,
)
from resources.models import Resource, ResourceVersion
from resources.services import REAUTH_TLP

User = get_user_model()


class DateTimeInput(forms.DateTimeInput):
    """A native date and time picker; it only accepts ISO values."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def person_label(user) -> str:
    membership = getattr(user, "membership", None)
    organisation = f", {membership.organisation.name}" if membership else ""
    return f"{user.get_full_name() or user.username} ({user.username}{organisation})"


class GroupedForm:
    """Forms that show their fields in named groups (components/form.html reads this)."""

    groups: list[tuple[str, list[str]]] = []

    def fieldsets(self):
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.groups
            if any(name in self.fields for name in names)
        ]


class ProjectDetailsForm(GroupedForm, forms.ModelForm):
    """What a project is and when it runs: the fields that stay editable after proposing."""

    class Meta:
        model = Project
        fields = [
            "title",
            "summary",
            "start_date",
            "end_date",
            "required_acceptances",
            "scenario",
            "exercise_start",
            "exercise_end",
        ]
        labels = {
            "required_acceptances": gettext_lazy("Acceptances needed"),
            "exercise_start": gettext_lazy("Exercise starts (UTC)"),
            "exercise_end": gettext_lazy("Exercise ends (UTC)"),
        }
        help_texts = {
            "summary": gettext_lazy("Markdown. Every participant and reviewer reads it."),
            "required_acceptances": gettext_lazy(
                "How many reviewers must accept the same submission of a milestone or deliverable."
            ),
            "scenario": gettext_lazy("Markdown. The exercise's storyline, for every participant."),
        }
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 5}),
            "scenario": forms.Textarea(attrs={"rows": 6}),
            "start_date": DateInput,
            "end_date": DateInput,
            "exercise_start": DateTimeInput,
            "exercise_end": DateTimeInput,
        }

    groups = [
        (gettext_lazy("The project"), ["acronym", "title", "kind", "summary"]),
        (gettext_lazy("Consortium"), ["agreement", "partners", "observers"]),
        (gettext_lazy("Plan"), ["start_date", "end_date", "required_acceptances"]),
        (
            gettext_lazy("Cross-border exercises only"),
            ["scenario", "exercise_start", "exercise_end"],
        ),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding and not self.instance.is_exercise:
            for name in ("scenario", "exercise_start", "exercise_end"):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The project must end on or after its start."))
        opens, closes = cleaned.get("exercise_start"), cleaned.get("exercise_end")
        if opens and closes and closes < opens:
            self.add_error("exercise_end", _("The exercise must end after it starts."))
        return cleaned

    def details(self) -> dict:
        """The fields services.create_project and update_project take as keywords."""
        values = {k: v for k, v in self.cleaned_data.items() if k in services.PROJECT_FIELDS}
        kind = self.cleaned_data.get("kind") or self.instance.kind
        if kind != ProjectKind.EXERCISE:
            values.update(scenario="", exercise_start=None, exercise_end=None)
        return values


class ProjectCreateForm(ProjectDetailsForm):
    """A new project: its identity, governing agreement and consortium, and its plan."""

    agreement = forms.ModelChoiceField(
        label=gettext_lazy("Governing agreement"),
        queryset=Agreement.objects.none(),
        help_text=gettext_lazy(
            "A joint R&D agreement or an MoU in force; every participant must be a party."
        ),
    )
    partners = ModelMultipleChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        widget=ChipPicker(attrs={"size": 6}, search_text=lambda organisation: organisation.slug),
        help_text=gettext_lazy("They do the work with you."),
    )
    observers = ModelMultipleChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        widget=ChipPicker(attrs={"size": 6}, search_text=lambda organisation: organisation.slug),
        help_text=gettext_lazy("They follow the project but lead nothing."),
    )

    class Meta(ProjectDetailsForm.Meta):
        fields = ["acronym", "title", "kind", *ProjectDetailsForm.Meta.fields]
        help_texts = {
            **ProjectDetailsForm.Meta.help_texts,
            "acronym": gettext_lazy("Capital letters, digits and dashes, e.g. SENTINEL-2."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        governing = Agreement.objects.filter(kind__in=sorted(services.GOVERNING_KINDS)).live()
        self.fields["agreement"].queryset = access.visible_to(user, governing).order_by(
            "reference", "version"
        )
        self.fields["agreement"].label_from_instance = lambda a: f"{a.label}: {a.title}"
        others = Organisation.objects.filter(is_active=True).exclude(
            pk=user.membership.organisation_id
        )
        self.fields["partners"].queryset = others
        self.fields["observers"].queryset = others
        self.order_fields(
            ["acronym", "title", "kind", "summary", "agreement", "partners", "observers"]
        )

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("partners") or []) & set(cleaned.get("observers") or [])
        if both:
            names = ", ".join(sorted(o.name for o in both))
            self.add_error(
                "observers", _("Partners cannot also be observers: %(names)s.") % {"names": names}
            )
        return cleaned


class ParticipantForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        help_text=gettext_lazy("Parties to the governing agreement that do not take part yet."),
    )
    role = forms.ChoiceField(
        choices=[
            (
                ParticipantRole.PARTNER,
                gettext_lazy("Partner: does work and may lead work packages"),
            ),
            (ParticipantRole.OBSERVER, gettext_lazy("Observer: follows the project")),
        ],
        initial=ParticipantRole.PARTNER,
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            is_active=True, pk__in=project.agreement.parties.values("organisation")
        ).exclude(pk__in=project.participants.values("organisation"))


class ReviewerForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Reviewer"),
        queryset=User.objects.none(),
        to_field_name="username",  # a user's id would count every nation's accounts
        help_text=(
            "People with the reviewer role, from a participant or from an independent "
            "reviewers' panel."
        ),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        sources = Q(membership__organisation__in=project.participants.values("organisation"))
        sources |= Q(membership__organisation__slug__in=settings.PROJECT_REVIEWER_ORGANISATIONS)
        self.fields["user"].queryset = (
            User.objects.filter(sources, is_active=True, membership__reviewer=True)
            .exclude(pk__in=project.reviewers.values("user"))
            .select_related("membership__organisation")
            .order_by("membership__organisation__name", "last_name", "username")
        )
        self.fields["user"].label_from_instance = person_label


class WorkPackageForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=99)
    title = forms.CharField(max_length=200)
    lead = forms.ModelChoiceField(
        queryset=None,
        help_text=gettext_lazy("The coordinator or a partner; it plans and submits this work."),
    )
    start_date = forms.DateField(widget=DateInput)
    end_date = forms.DateField(widget=DateInput)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = project.participants.exclude(
            role=ParticipantRole.OBSERVER
        ).select_related("organisation")
        self.fields["lead"].label_from_instance = lambda p: (
            f"{p.organisation.name} ({p.get_role_display().lower()})"
        )
        numbers = list(project.work_packages.values_list("number", flat=True))
        self.fields["number"].initial = max(numbers, default=0) + 1
        self.fields["start_date"].initial = project.start_date
        self.fields["end_date"].initial = project.end_date

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The work package must end on or after its start."))
        return cleaned


class ItemForm(forms.Form):
    """What milestones and deliverables share: where they belong and when they are due."""

    work_package = forms.ModelChoiceField(queryset=None)
    code = forms.CharField(max_length=12)
    title = forms.CharField(max_length=200)
    due_date = forms.DateField(widget=DateInput)

    def __init__(self, *args, work_packages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_package"].queryset = work_packages
        self.fields["work_package"].help_text = _("Work packages you plan.")

    def fields_for_service(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "work_package"}


class MilestoneForm(ItemForm):
    means_of_verification = forms.CharField(
        max_length=500,
        required=False,
        help_text=gettext_lazy("How reviewers will know it is reached."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("For example MS3.")


class DeliverableForm(ItemForm):
    type = forms.ChoiceField(choices=DeliverableType.choices)
    tlp = forms.ChoiceField(
        label=gettext_lazy("TLP / dissemination"), choices=TLP.choices, initial=TLP.AMBER
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("For example D2.1.")


class DueDateForm(forms.Form):
    due_date = forms.DateField(label=gettext_lazy("New due date"), widget=DateInput)
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required once the project is active: the baseline is frozen and the slip "
            "stays visible with this reason."
        ),
    )


class SubmitItemForm(forms.Form):
    evidence = forms.CharField(
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What was done, and where reviewers find the proof."),
    )
    resources = ModelMultipleChoiceField(
        label=gettext_lazy("Linked resources"),
        queryset=Resource.objects.none(),
        required=False,
        widget=ChipPicker(attrs={"size": 6}),
        help_text=gettext_lazy(
            "Resources you can see. A participant who cannot see one is told it exists, "
            "never what it is."
        ),
    )
    versions = ModelMultipleChoiceField(
        label=gettext_lazy("Linked resource versions"),
        queryset=ResourceVersion.objects.none(),
        required=False,
        widget=ChipPicker(attrs={"size": 6}),
        help_text=gettext_lazy(
            "Exact versions of resources you can see. A participant who cannot see one "
            "is told it exists, never what it is."
        ),
    )
    late_justification = forms.CharField(
        label=gettext_lazy("Why it is late"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required after the due date."),
    )
    open_to_reviewers = forms.BooleanField(
        label=gettext_lazy("Let the reviewers open what my organisation owns"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "For the time of the review, the assigned reviewers may open the linked resources "
            "your organisation owns that they cannot open now. TLP:AMBER+STRICT and TLP:RED "
            "need your password: open those to them from the project page afterwards."
        ),
    )

    def __init__(self, *args, user, is_milestone: bool, is_late: bool, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not is_late:  # asked only when there is something to explain
            del self.fields["late_justification"]
        visible = access.visible_to(user, Resource.objects.all())
        # Who could not open each option, said next to it: the submitter links knowingly.
        self.blocked = services.reviewers_who_cannot_open(project, visible)
        if is_milestone:
            del self.fields["versions"]
            self.fields["resources"].queryset = visible.order_by("title")
            self.fields["resources"].label_from_instance = lambda r: self._label(r, r.title)
        else:
            del self.fields["resources"]
            self.fields["versions"].queryset = (
                ResourceVersion.objects.filter(resource__in=visible)
                .select_related("resource")
                .order_by("resource__title", "-number")
            )
            self.fields["versions"].label_from_instance = lambda v: self._label(
                v.resource, f"{v.resource.title}, v{v.number} ({v.original_name})"
            )

    def _label(self, resource, label: str) -> str:
        people = self.blocked.get(resource.pk)
        if not people:
            return label
        names = ", ".join(sorted(p.get_full_name() or p.get_username() for p in people))
        return _("%(label)s (the reviewers who cannot open it: %(names)s)") % {
            "label": label,
            "names": names,
        }

    def linked(self) -> list:
        data = self.cleaned_data
        if "resources" in self.fields:
            return list(data.get("resources") or ())
        return [v.resource for v in data.get("versions") or ()]

    def resources_to_open(self) -> list:
        """The linked resources the reviewers are to open: the submitter's organisation's,
        that some reviewer cannot open, and that need no re-authentication."""
        if not self.cleaned_data.get("open_to_reviewers"):
            return []
        organisation_id = self.user.membership.organisation_id
        return [
            r
            for r in {r.pk: r for r in self.linked()}.values()
            if r.owner_id == organisation_id and r.tlp not in REAUTH_TLP and self.blocked.get(r.pk)
        ]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=ReviewDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Accept, or request changes.")},
    )
    comment = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Required when you request changes: say what must change."),
    )


class ContributionForm(forms.Form):
    participant = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Contributed by"))
    kind = forms.ChoiceField(choices=ContributionKind.choices)
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2)
    unit = forms.CharField(
        max_length=20, help_text=gettext_lazy("A currency (EUR) or a unit (PM, days).")
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants.select_related("organisation")
        self.fields["participant"].label_from_instance = lambda p: p.organisation.name
        if len(self.fields["participant"].queryset) == 1:
            self.fields["participant"].initial = self.fields["participant"].queryset[0].pk

    def clean_unit(self):
        return " ".join(self.cleaned_data["unit"].split())


class InjectForm(forms.Form):
    release_at = forms.DateTimeField(
        label=gettext_lazy("Released at (UTC)"),
        widget=DateTimeInput,
        help_text=gettext_lazy(
            "Targets see the inject from this moment; the control team sees it now."
        ),
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 6}))
    targets = ModelMultipleChoiceField(
        queryset=None,
        widget=ChipPicker(search_text=lambda participant: participant.organisation.slug),
        error_messages={"required": gettext_lazy("Choose the participants this inject goes to.")},
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].queryset = project.participants.select_related("organisation")
        self.fields["targets"].label_from_instance = lambda p: (
            f"{p.organisation.name} ({p.get_role_display().lower()})"
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("Every participant's programme managers are told."),
    )
