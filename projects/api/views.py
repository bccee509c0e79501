"""API of projects: the same services as the web pages, state changes as POST actions.

A URL that reads with GET and adds with POST (participants, milestones, ...) maps each method
to its own viewset action with DRF's `@<action>.mapping.post`, so every viewset action names
exactly one access action in `access_actions`, and the access matrix and meta-tests see both.
Milestones, deliverables and the rest have no grants of their own: they are reached through
their project, so another project's item is a 404.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from portal import access
from portal.api.base import AccessViewSet, KeptListModelMixin
from portal.api.docs import describe
from projects import services
from projects.api.serializers import (
    ContributionSerializer,
    DeliverableSerializer,
    MilestoneSerializer,
    ParticipantAddSerializer,
    ParticipantSerializer,
    ProjectReasonSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    ReviewDecisionSerializer,
    ReviewerAssignSerializer,
    ReviewerSerializer,
    SubmitDeliverableSerializer,
    SubmitMilestoneSerializer,
    WorkPackageSerializer,
)
from projects.filters import ProjectFilter
from projects.models import DateChange, Deliverable, Milestone, Project, Review
from resources.models import Resource, ResourceVersion

ITEM_PK_PARAMETER = OpenApiParameter("item_pk", OpenApiTypes.INT, OpenApiParameter.PATH)


VISIBLE = "members of the participating organisations and the project's assigned reviewers; "
VISIBLE += "anyone else gets 404."
COORDINATOR = "a programme manager of the coordinating organisation (403 for others who see it)."
PLANNER = (
    "a programme manager of the coordinator, or of the partner leading the work package "
    "(403 for others who see it)."
)
ANSWERS_PROJECT = "the project as it is now (status, consortium, health)."
ANSWERS_ITEM = "the item as it is now, with its submissions and reviews."


@extend_schema_view(
    list=describe(
        "Lists the projects you may see, by acronym; filter by status, kind and "
        "participant, search the acronym, title and summary.",
        who="any signed-in member; only projects your organisation takes part in, or that "
        "you review, are listed.",
        answers="a page of projects with their status and health.",
    ),
    retrieve=describe(
        "One project: its agreement, consortium, dates, status and health.",
        who=VISIBLE,
        answers=ANSWERS_PROJECT,
    ),
    create=describe(
        "Proposes a project under an agreement in force (a joint R&D agreement or an MoU) "
        "with your organisation as coordinator; every partner and observer must be a party "
        "to it.",
        who="programme managers.",
        answers="201 with the proposed project.",
    ),
    partial_update=describe(
        "Changes a project's title, summary, dates or scenario.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT,
    ),
    activate=describe(
        "Starts the project; its planned due dates become the baseline, so later changes "
        "need a reason.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT + " Status: active.",
    ),
    suspend=describe(
        "Pauses the project; the reason is told to every participant.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT + " Status: suspended.",
    ),
    resume=describe(
        "Resumes a suspended project, if its agreement is still in force.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT + " Status: active.",
    ),
    complete=describe(
        "Closes the project; every milestone and deliverable must have been accepted.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT + " Status: completed; 409 while items are open.",
    ),
    cancel=describe(
        "Stops the project for good; the reason is told to every participant.",
        who=COORDINATOR,
        answers=ANSWERS_PROJECT + " Status: cancelled.",
    ),
    participants=describe(
        "The organisations taking part, and their roles (coordinator, partner, observer).",
        who=VISIBLE,
        answers="a page of participants.",
    ),
    work_packages=describe(
        "The work packages, and who leads each.",
        who=VISIBLE,
        answers="a page of work packages.",
    ),
    milestones=describe(
        "The milestones, with their baseline, submissions, reviews and date changes.",
        who=VISIBLE,
        answers="a page of milestones; a linked resource you may not see is named as such, "
        "never described.",
    ),
    deliverables=describe(
        "The deliverables, with their baseline, submissions, reviews and date changes.",
        who=VISIBLE,
        answers="a page of deliverables; a linked version you may not see is named as such, "
        "never described.",
    ),
    reviewers=describe(
        "The reviewers assigned to the project.",
        who=VISIBLE,
        answers="a page of reviewers.",
    ),
    contributions=describe(
        "What each participant pools into the project, with totals per kind and unit.",
        who=VISIBLE,
        answers="a page of contributions.",
    ),
    submit_milestone=describe(
        "Submits a milestone for review with the evidence of completion and the resources "
        "that prove it (resources you can see); after the due date, say why it is late.",
        who="a programme manager of the partner leading the milestone's work package.",
        answers=ANSWERS_ITEM + " Status: submitted.",
    ),
    review_milestone=describe(
        "Accepts a submitted milestone or asks for changes (with a comment); it is accepted "
        "once enough reviewers accept, and one request for changes sends it back.",
        who="the reviewers assigned to the project.",
        answers=ANSWERS_ITEM,
    ),
    submit_deliverable=describe(
        "Submits a deliverable for review with its evidence and the exact resource versions "
        "that make it (versions you can see); after the due date, say why it is late.",
        who="a programme manager of the partner leading the deliverable's work package.",
        answers=ANSWERS_ITEM + " Status: submitted.",
    ),
    review_deliverable=describe(
        "Accepts a submitted deliverable or asks for changes (with a comment); it is accepted "
        "once enough reviewers accept, and one request for changes sends it back.",
        who="the reviewers assigned to the project.",
        answers=ANSWERS_ITEM,
    ),
)
class ProjectViewSet(
    KeptListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    AccessViewSet,
):
    """Projects your organisation takes part in, and those you are assigned to review.
    Others answer 404."""

    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["acronym", "title", "summary"]
    ordering_fields = ["acronym", "title", "start_date", "end_date", "created_at"]
    ordering = ["acronym"]
    access_actions = {
        "partial_update": "manage",
        "activate": "manage",
        "suspend": "manage",
        "resume": "manage",
        "complete": "manage",
        "cancel": "manage",
        "participants": "view",
        "add_participant": "manage",
        "work_packages": "view",
        "add_work_package": "manage",
        "milestones": "view",
        # The partner leading a work package plans its items too: the service decides.
        "add_milestone": "view",
        "deliverables": "view",
        "add_deliverable": "view",
        "reviewers": "view",
        "assign_reviewer": "manage",
        "contributions": "view",
        # A partner's programme manager may record its own organisation's contribution, not
        # only the coordinator's: services.add_contribution decides, with a clear 403.
        "add_contribution": "view",
        "submit_milestone": "submit",
        "review_milestone": "review",
        "submit_deliverable": "submit",
        "review_deliverable": "review",
    }

    def get_base_queryset(self):
        return Project.objects.select_related("agreement", "created_by").prefetch_related(
            "participants__organisation"
        )

    # --- The project ------------------------------------------------------------------------

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        project = services.create_project(
            actor=self.request.user,
            partners=data.pop("partners", []),
            observers=data.pop("observers", []),
            **data,
        )
        serializer.instance = self.get_base_queryset().get(pk=project.pk)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def partial_update(self, request, pk=None):
        project = self.get_object()
        serializer = ProjectUpdateSerializer(
            project, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        project = services.update_project(
            actor=request.user, project=project, **serializer.validated_data
        )
        return self._respond(project)

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Start the project; its planned due dates become the baseline."""
        return self._respond(services.activate(actor=request.user, project=self.get_object()))

    @extend_schema(request=ProjectReasonSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Pause the project; the reason is told to every participant."""
        project = self.get_object()
        data = self._valid(ProjectReasonSerializer)
        return self._respond(
            services.suspend(actor=request.user, project=project, reason=data["reason"])
        )

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume a suspended project, if its agreement is still in force."""
        return self._respond(services.resume(actor=request.user, project=self.get_object()))

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Close the project; every milestone and deliverable must be accepted."""
        return self._respond(services.complete(actor=request.user, project=self.get_object()))

    @extend_schema(request=ProjectReasonSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop the project for good; the reason is told to every participant."""
        project = self.get_object()
        data = self._valid(ProjectReasonSerializer)
        return self._respond(
            services.cancel(actor=request.user, project=project, reason=data["reason"])
        )

    # --- Consortium -------------------------------------------------------------------------

    @extend_schema(responses=ParticipantSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def participants(self, request, pk=None):
        """The organisations taking part, and their roles."""
        project = self.get_object()
        return self._page(
            project.participants.select_related("organisation"), ParticipantSerializer
        )

    @extend_schema(request=ParticipantAddSerializer, responses={201: ParticipantSerializer})
    @describe(
        "Adds a partner or an observer; it must be a party to the governing agreement.",
        who=COORDINATOR,
        answers="201 with the participant.",
    )
    @participants.mapping.post
    def add_participant(self, request, pk=None):
        """Add a partner or an observer; it must be a party to the governing agreement."""
        project = self.get_object()
        data = self._valid(ParticipantAddSerializer)
        participant = services.add_participant(actor=request.user, project=project, **data)
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ReviewerSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def reviewers(self, request, pk=None):
        """The reviewers assigned to the project."""
        project = self.get_object()
        assignments = project.reviewers.select_related(
            "user__membership__organisation", "assigned_by"
        ).order_by("assigned_at", "pk")
        return self._page(assignments, ReviewerSerializer)

    @extend_schema(request=ReviewerAssignSerializer, responses={201: ReviewerSerializer})
    @describe(
        "Assigns a reviewer (a person with the reviewer role) from a participant or from an "
        "independent reviewers' panel.",
        who=COORDINATOR,
        answers="201 with the assignment.",
    )
    @reviewers.mapping.post
    def assign_reviewer(self, request, pk=None):
        """Assign a reviewer from a participant or from an independent reviewers' panel."""
        project = self.get_object()
        data = self._valid(ReviewerAssignSerializer, project)
        assignment = services.assign_reviewer(
            actor=request.user, project=project, user=data["user"]
        )
        return Response(ReviewerSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ContributionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def contributions(self, request, pk=None):
        """What each participant pools into the project."""
        project = self.get_object()
        contributions = project.contributions.select_related("participant__organisation")
        return self._page(contributions, ContributionSerializer)

    @extend_schema(request=ContributionSerializer, responses={201: ContributionSerializer})
    @describe(
        "Records a contribution (money, person-months, equipment, ...).",
        who="a programme manager of the coordinator for anyone, of a partner for its own "
        "organisation (403 otherwise).",
        answers="201 with the contribution.",
    )
    @contributions.mapping.post
    def add_contribution(self, request, pk=None):
        """Record a contribution: the coordinator for anyone, a partner for itself."""
        project = self.get_object()
        data = self._valid(ContributionSerializer, project)
        contribution = services.add_contribution(actor=request.user, **data)
        return Response(ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)

    # --- The plan ---------------------------------------------------------------------------

    @extend_schema(responses=WorkPackageSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="work-packages", filter_backends=[])
    def work_packages(self, request, pk=None):
        """The work packages, and who leads each."""
        project = self.get_object()
        return self._page(
            project.work_packages.select_related("lead__organisation"), WorkPackageSerializer
        )

    @extend_schema(request=WorkPackageSerializer, responses={201: WorkPackageSerializer})
    @describe(
        "Adds a work package led by the coordinator or a partner.",
        who=COORDINATOR,
        answers="201 with the work package.",
    )
    @work_packages.mapping.post
    def add_work_package(self, request, pk=None):
        """Add a work package led by the coordinator or a partner."""
        project = self.get_object()
        data = self._valid(WorkPackageSerializer, project)
        work_package = services.add_work_package(actor=request.user, project=project, **data)
        return Response(WorkPackageSerializer(work_package).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=MilestoneSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def milestones(self, request, pk=None):
        """The milestones, with their baseline, submissions, reviews and date changes."""
        project = self.get_object()
        return self._items_page(project, Milestone, MilestoneSerializer)

    @extend_schema(request=MilestoneSerializer, responses={201: MilestoneSerializer})
    @describe(
        "Plans a milestone in a work package; once the project is active its baseline is its "
        "first due date.",
        who=PLANNER,
        answers="201 with the milestone.",
    )
    @milestones.mapping.post
    def add_milestone(self, request, pk=None):
        """Plan a milestone; once the project is active its baseline is its first date."""
        project = self.get_object()
        data = self._valid(MilestoneSerializer, project)
        milestone = services.add_milestone(actor=request.user, **data)
        return self._respond_item(project, milestone, status.HTTP_201_CREATED)

    @extend_schema(responses=DeliverableSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliverables(self, request, pk=None):
        """The deliverables, with their baseline, submissions, reviews and date changes."""
        project = self.get_object()
        return self._items_page(project, Deliverable, DeliverableSerializer)

    @extend_schema(request=DeliverableSerializer, responses={201: DeliverableSerializer})
    @describe(
        "Plans a deliverable in a work package; once the project is active its baseline is "
        "its first due date.",
        who=PLANNER,
        answers="201 with the deliverable.",
    )
    @deliverables.mapping.post
    def add_deliverable(self, request, pk=None):
        """Plan a deliverable; once the project is active its baseline is its first date."""
        project = self.get_object()
        data = self._valid(DeliverableSerializer, project)
        deliverable = services.add_deliverable(actor=request.user, **data)
        return self._respond_item(project, deliverable, status.HTTP_201_CREATED)

    # --- Submissions and reviews ------------------------------------------------------------

    @extend_schema(
        parameters=[ITEM_PK_PARAMETER],
        request=SubmitMilestoneSerializer,
        responses=MilestoneSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"milestones/(?P<item_pk>[0-9]+)/submit")
    def submit_milestone(self, request, pk=None, item_pk=None):
        """The partner leading the work package submits the evidence of completion."""
        project = self.get_object()
        milestone = self._item(project, Milestone, item_pk)
        data = self._valid(SubmitMilestoneSerializer)
        milestone = services.submit_item(
            actor=request.user,
            item=milestone,
            evidence=data["evidence"],
            resources=data.get("resources", ()),
            late_justification=data.get("late_justification", ""),
        )
        return self._respond_item(project, milestone)

    @extend_schema(
        parameters=[ITEM_PK_PARAMETER],
        request=ReviewDecisionSerializer,
        responses=MilestoneSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"milestones/(?P<item_pk>[0-9]+)/review")
    def review_milestone(self, request, pk=None, item_pk=None):
        """An assigned reviewer accepts the submission or asks for changes."""
        project = self.get_object()
        milestone = self._item(project, Milestone, item_pk)
        data = self._valid(ReviewDecisionSerializer)
        services.review_item(actor=request.user, item=milestone, **data)
        return self._respond_item(project, milestone)

    @extend_schema(
        parameters=[ITEM_PK_PARAMETER],
        request=SubmitDeliverableSerializer,
        responses=DeliverableSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"deliverables/(?P<item_pk>[0-9]+)/submit")
    def submit_deliverable(self, request, pk=None, item_pk=None):
        """The partner leading the work package submits the deliverable."""
        project = self.get_object()
        deliverable = self._item(project, Deliverable, item_pk)
        data = self._valid(SubmitDeliverableSerializer)
        deliverable = services.submit_item(
            actor=request.user,
            item=deliverable,
            evidence=data["evidence"],
            versions=data.get("versions", ()),
            late_justification=data.get("late_justification", ""),
        )
        return self._respond_item(project, deliverable)

    @extend_schema(
        parameters=[ITEM_PK_PARAMETER],
        request=ReviewDecisionSerializer,
        responses=DeliverableSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"deliverables/(?P<item_pk>[0-9]+)/review")
    def review_deliverable(self, request, pk=None, item_pk=None):
        """An assigned reviewer accepts the deliverable or asks for changes."""
        project = self.get_object()
        deliverable = self._item(project, Deliverable, item_pk)
        data = self._valid(ReviewDecisionSerializer)
        services.review_item(actor=request.user, item=deliverable, **data)
        return self._respond_item(project, deliverable)

    # --- Helpers ----------------------------------------------------------------------------

    def _valid(self, serializer_class, project=None) -> dict:
        context = {**self.get_serializer_context(), "project": project}
        serializer = serializer_class(data=self.request.data, context=context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _respond(self, project) -> Response:
        fresh = self.get_base_queryset().get(pk=project.pk)
        return Response(self.get_serializer(fresh).data)

    def _page(self, queryset, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def _items(self, project, model):
        """The project's milestones or deliverables, with everything their rows show."""
        links = (
            # Oldest first, by time: ids are random (portal.ids) and order nothing.
            Prefetch("linked_resources", queryset=Resource.objects.order_by("created_at", "pk"))
            if model is Milestone
            else Prefetch(
                "linked_versions",
                queryset=ResourceVersion.objects.select_related("resource").order_by(
                    "uploaded_at", "pk"
                ),
            )
        )
        return (
            model.objects.filter(project=project)
            .select_related("work_package")
            .prefetch_related(
                links,
                Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
                Prefetch("date_changes", queryset=DateChange.objects.select_related("changed_by")),
            )
        )

    def _item(self, project, model, item_pk):
        # An item of another project, or none, answers alike.
        item = (
            model.objects.filter(project=project, pk=item_pk)
            .select_related("project", "work_package__lead")
            .first()
        )
        if item is None:
            raise NotFound(
                gettext("This project has no such %(item)s.") % {"item": model._meta.verbose_name}
            )
        return item

    def _items_page(self, project, model, serializer_class) -> Response:
        page = self.paginate_queryset(self._items(project, model))
        context = self._item_context(project, page)
        return self.get_paginated_response(serializer_class(page, many=True, context=context).data)

    def _respond_item(self, project, item, code=status.HTTP_200_OK) -> Response:
        fresh = self._items(project, type(item)).get(pk=item.pk)
        serializer_class = (
            MilestoneSerializer if isinstance(item, Milestone) else DeliverableSerializer
        )
        serializer = serializer_class(fresh, context=self._item_context(project, [fresh]))
        return Response(serializer.data, status=code)

    def _item_context(self, project, items) -> dict:
        """Which linked resources the caller may see, asked once for the whole page."""
        ids = set()
        for item in items:
            if isinstance(item, Milestone):
                ids.update(r.pk for r in item.linked_resources.all())
            else:
                ids.update(v.resource_id for v in item.linked_versions.all())
        visible = access.visible_to(self.request.user, Resource.objects.filter(pk__in=ids))
        return {
            **self.get_serializer_context(),
            "project": project,
            "visible_resource_ids": set(visible.values_list("pk", flat=True)) if ids else set(),
        }
