"""Input and output of the projects API. Serializers validate input only; the services in
projects/services.py check who may do what, the states and the rules, and write."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements.models import Agreement
from portal import access
from portal.api.serializers import SlugRelatedField, VisibleRelatedMixin
from portal.models import Organisation
from portal.vocabulary import TLP
from projects.models import (
    Contribution,
    ContributionKind,
    DateChange,
    Deliverable,
    DeliverableType,
    Milestone,
    Participant,
    ParticipantRole,
    Project,
    ProjectKind,
    Review,
    ReviewDecision,
    ReviewerAssignment,
    WorkPackage,
)
from projects.policies import is_eligible_reviewer
from projects.services import PROJECT_FIELDS
from resources.models import Resource, ResourceVersion

User = get_user_model()

#: The largest id a row can have: a larger number would crash the query on SQLite.
MAX_ID = 2**63 - 1
#: What a linked resource the reader may not see looks like: never its title.
HIDDEN_LINK = {"id": None, "hidden": True}


@extend_schema_field(OpenApiTypes.STR)
class ParticipantField(SlugRelatedField):
    """A participant of the project in the serializer's context, named by its organisation's
    short name."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("{value} does not take part in this project."),
        "invalid": gettext_lazy("Give the short name of an organisation."),
    }

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="organisation__slug", queryset=Participant.objects.none(), **kwargs
        )

    def get_queryset(self):
        return self.context["project"].participants.select_related("organisation")

    def to_representation(self, participant):
        return participant.organisation.slug


class WorkPackageField(SlugRelatedField):
    """A work package of the project in the serializer's context, named by its number."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("The project has no WP{value}."),
        "invalid": gettext_lazy("Give the number of a work package."),
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="number", queryset=WorkPackage.objects.none(), **kwargs)

    def get_queryset(self):
        return self.context["project"].work_packages.all()

    def to_internal_value(self, data):
        # A number, not 1.5 or true: the database would quietly read those as WP1.
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- Projects ---------------------------------------------------------------------------------


class ProjectSerializer(VisibleRelatedMixin, serializers.ModelSerializer):
    """A project and its consortium. Creating one goes through services.create_project (the
    caller's organisation coordinates); lifecycle fields are never writable."""

    kind = serializers.ChoiceField(choices=ProjectKind.choices)
    agreement = serializers.PrimaryKeyRelatedField(
        queryset=Agreement.objects.none(),
        pk_field=serializers.IntegerField(),  # an id, not 1.5 read as 1
        # Null only in answers, for a reader who may not see the agreement (validate_agreement).
        allow_null=True,
        help_text="Id of the governing agreement (joint R&D or MoU, in force); null for a "
        "reader who may not see it.",
    )
    agreement_label = serializers.CharField(
        source="agreement.label",
        read_only=True,
        allow_null=True,
        help_text="Null, like agreement, for a reader who may not see the agreement.",
    )
    partners = SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Organisation.objects.filter(is_active=True),
        required=False,
        help_text="Short names of the partner organisations.",
    )
    observers = SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Organisation.objects.filter(is_active=True),
        required=False,
        help_text="Short names of the observer organisations.",
    )
    coordinator = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "acronym",
            "title",
            "summary",
            "kind",
            "status",
            "agreement",
            "agreement_label",
            "coordinator",
            "partners",
            "observers",
            "start_date",
            "end_date",
            "required_acceptances",
            "scenario",
            "exercise_start",
            "exercise_end",
            "baseline_frozen_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "status", "baseline_frozen_at", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "agreement" in self.fields:
            # An agreement the caller cannot see answers like one that does not exist.
            self.fields["agreement"].queryset = access.visible_to(
                request.user, Agreement.objects.all()
            )

    def validate_agreement(self, agreement):
        if agreement is None:
            raise serializers.ValidationError(gettext("Give the id of the governing agreement."))
        return agreement

    def validate(self, data):
        listed = [*data.get("partners", []), *data.get("observers", [])]
        twice = sorted({o.slug for o in listed if listed.count(o) > 1})
        if twice:
            raise serializers.ValidationError(
                {
                    "partners": gettext("An organisation takes part once: %(names)s listed twice.")
                    % {"names": ", ".join(twice)}
                }
            )
        return data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_coordinator(self, project) -> str | None:
        return next(
            (
                p.organisation.slug
                for p in _participants(project)
                if p.role == ParticipantRole.COORDINATOR
            ),
            None,
        )

    def to_representation(self, project):
        # A project has no `partners` attribute: being optional, those fields are skipped by
        # the default representation and filled here from the (prefetched) participants.
        data = super().to_representation(project)
        for key, role in (
            ("partners", ParticipantRole.PARTNER),
            ("observers", ParticipantRole.OBSERVER),
        ):
            data[key] = [p.organisation.slug for p in _participants(project) if p.role == role]
        # An assigned reviewer from the independent panel reads the project, not its agreement.
        if not self.may_see(Agreement, project.agreement_id, lambda p: p.agreement_id):
            data["agreement"] = data["agreement_label"] = None
        return data


class ProjectUpdateSerializer(ProjectSerializer):
    """Only the project's details change after creation (services.update_project); its
    acronym, kind, agreement and consortium do not, and are ignored if sent."""

    class Meta(ProjectSerializer.Meta):
        read_only_fields = [
            name for name in ProjectSerializer.Meta.fields if name not in PROJECT_FIELDS
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("kind", "agreement", "partners", "observers"):
            self.fields[name].read_only = True


class ProjectReasonSerializer(serializers.Serializer):
    """Why the project is suspended or cancelled; told to every participant."""

    reason = serializers.CharField(max_length=2000)


# --- Consortium -------------------------------------------------------------------------------


class ParticipantSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.slug", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    country = serializers.CharField(source="organisation.country.code", read_only=True)
    role = serializers.ChoiceField(choices=ParticipantRole.choices, read_only=True)

    class Meta:
        model = Participant
        fields = ["id", "organisation", "organisation_name", "country", "role"]
        read_only_fields = fields


class ParticipantAddSerializer(serializers.Serializer):
    """A project has exactly one coordinator, the organisation that proposed it; others join
    as partners or observers, if they are parties to the governing agreement."""

    organisation = SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.filter(is_active=True),
        help_text="Short name of the organisation.",
    )
    role = serializers.ChoiceField(
        choices=[(ParticipantRole.PARTNER, "Partner"), (ParticipantRole.OBSERVER, "Observer")]
    )


class ReviewerSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    organisation = serializers.CharField(source="user.membership.organisation.slug", read_only=True)
    assigned_by = serializers.CharField(source="assigned_by.username", read_only=True)

    class Meta:
        model = ReviewerAssignment
        fields = ["id", "user", "name", "organisation", "assigned_by", "assigned_at"]
        read_only_fields = fields


class ReviewerAssignSerializer(serializers.Serializer):
    """A person with the reviewer role, from a participant or an independent panel."""

    user = serializers.CharField(max_length=150, help_text="Username of the reviewer.")

    def validate_user(self, username):
        project = self.context["project"]
        # Only eligible people resolve (by the one rule, projects.policies), so a name of
        # anyone else is refused in the same words as an unknown one: no usernames revealed.
        user = (
            User.objects.filter(username=username)
            .select_related("membership__organisation")
            .first()
        )
        participants = set(project.participants.values_list("organisation_id", flat=True))
        if user is None or not is_eligible_reviewer(
            ReviewerAssignment(project=project, user=user), participants
        ):
            raise serializers.ValidationError(
                gettext(
                    "%(username)s is not a reviewer of a participant or of an independent panel."
                )
                % {"username": username}
            )
        return user


class ContributionSerializer(serializers.ModelSerializer):
    participant = ParticipantField(help_text="Short name of the contributing organisation.")
    kind = serializers.ChoiceField(choices=ContributionKind.choices)

    class Meta:
        model = Contribution
        fields = ["id", "participant", "kind", "amount", "unit", "note"]
        read_only_fields = ["id"]


# --- The plan ---------------------------------------------------------------------------------


class WorkPackageSerializer(serializers.ModelSerializer):
    lead = ParticipantField(help_text="Short name of the leading coordinator or partner.")

    class Meta:
        model = WorkPackage
        fields = ["id", "number", "title", "lead", "start_date", "end_date"]
        read_only_fields = ["id"]

    def validate_number(self, number):
        if self.context["project"].work_packages.filter(number=number).exists():
            raise serializers.ValidationError(
                gettext("The project already has a WP%(number)s.") % {"number": number}
            )
        return number


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Review
        fields = ["round", "reviewer", "decision", "comment", "created_at"]
        read_only_fields = fields


class DateChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", read_only=True)

    class Meta:
        model = DateChange
        fields = ["old_date", "new_date", "reason", "changed_by", "changed_at"]
        read_only_fields = fields


class LinkedResourceSerializer(serializers.Serializer):
    """A resource linked as evidence. One the reader may not see shows only that it exists."""

    id = serializers.IntegerField(allow_null=True)
    hidden = serializers.BooleanField()
    title = serializers.CharField(required=False)
    tlp = serializers.ChoiceField(choices=TLP.choices, required=False)


class LinkedVersionSerializer(LinkedResourceSerializer):
    """A version of a resource linked as a deliverable's evidence; `id` is the version's."""

    resource = serializers.IntegerField(required=False)
    number = serializers.IntegerField(required=False)


class ItemSerializer(serializers.ModelSerializer):
    """What milestones and deliverables share. Only the planned fields are writable (through
    services.add_milestone / add_deliverable); submissions and reviews have their actions."""

    work_package = WorkPackageField(help_text="Number of the work package (1 for WP1).")
    slip_days = serializers.IntegerField(read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    date_changes = DateChangeSerializer(many=True, read_only=True)

    class Meta:
        fields = [
            "id",
            "code",
            "title",
            "work_package",
            "due_date",
            "baseline_due_date",
            "slip_days",
            "status",
            "evidence",
            "late_justification",
            "submitted_at",
            "round",
            "reviews",
            "date_changes",
        ]
        read_only_fields = [
            "id",
            "baseline_due_date",
            "status",
            "evidence",
            "late_justification",
            "submitted_at",
            "round",
        ]

    def validate_code(self, code):
        model = self.Meta.model
        if model.objects.filter(project=self.context["project"], code=code).exists():
            raise serializers.ValidationError(
                gettext("The project already has a %(code)s.") % {"code": code}
            )
        return code

    def _visible_resource_ids(self, resources) -> set[int]:
        """Ids among resources the reader may see; the view passes them in for a whole page."""
        known = self.context.get("visible_resource_ids")
        if known is not None:
            return known
        user = self.context["request"].user
        return {r.pk for r in resources if access.can(user, "view", r)}


class MilestoneSerializer(ItemSerializer):
    linked_resources = serializers.SerializerMethodField()

    class Meta(ItemSerializer.Meta):
        model = Milestone
        fields = [*ItemSerializer.Meta.fields, "means_of_verification", "linked_resources"]

    @extend_schema_field(LinkedResourceSerializer(many=True))
    def get_linked_resources(self, milestone) -> list[dict]:
        resources = list(milestone.linked_resources.all())
        visible = self._visible_resource_ids(resources)
        return [
            {"id": r.pk, "hidden": False, "title": r.title, "tlp": r.tlp}
            if r.pk in visible
            else dict(HIDDEN_LINK)
            for r in resources
        ]


class DeliverableSerializer(ItemSerializer):
    type = serializers.ChoiceField(choices=DeliverableType.choices)
    tlp = serializers.ChoiceField(choices=TLP.choices, help_text="TLP / dissemination level.")
    linked_versions = serializers.SerializerMethodField()

    class Meta(ItemSerializer.Meta):
        model = Deliverable
        fields = [*ItemSerializer.Meta.fields, "type", "tlp", "linked_versions"]

    @extend_schema_field(LinkedVersionSerializer(many=True))
    def get_linked_versions(self, deliverable) -> list[dict]:
        versions = list(deliverable.linked_versions.all())
        visible = self._visible_resource_ids([v.resource for v in versions])
        return [
            {
                "id": v.pk,
                "hidden": False,
                "resource": v.resource_id,
                "number": v.number,
                "title": v.resource.title,
                "tlp": v.resource.tlp,
            }
            if v.resource_id in visible
            else dict(HIDDEN_LINK)
            for v in versions
        ]


class SubmitMilestoneSerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=10_000, help_text="What shows it is done.")
    resources = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="Ids of resources (that you can see) to link as evidence.",
    )
    late_justification = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Required when late."
    )

    def validate_resources(self, ids):
        user = self.context["request"].user
        resources = list(access.visible_to(user, Resource.objects.filter(pk__in=ids)))
        # An id the caller may not see is refused like one that does not exist.
        if len(resources) != len(set(ids)):
            raise serializers.ValidationError(gettext("You can only link resources you can see."))
        return resources


class SubmitDeliverableSerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=10_000, help_text="What shows it is done.")
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=50,
        help_text="Ids of resource versions (of resources you can see) to link.",
    )
    late_justification = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Required when late."
    )

    def validate_versions(self, ids):
        user = self.context["request"].user
        visible = access.visible_to(user, Resource.objects.all())
        versions = list(
            ResourceVersion.objects.filter(pk__in=ids, resource__in=visible).select_related(
                "resource"
            )
        )
        if len(versions) != len(set(ids)):
            raise serializers.ValidationError(gettext("You can only link resources you can see."))
        return versions


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    comment = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text="Required when requesting changes: say what must change.",
    )


def _participants(project) -> list[Participant]:
    # The viewset prefetches participants with their organisations, once per page.
    return list(project.participants.all())
