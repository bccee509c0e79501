"""HTML views of projects: the list, the project page with its timeline, and one page per
action. They translate HTTP into service calls; access comes from the base classes, and what a
person may do is decided by the policy, the state machines and the services."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import DetailView, FormView, View

from portal import access, audit_words
from portal.base_views import AccessListView, ObjectAccessMixin, RoleRequiredMixin
from portal.forms import add_service_errors
from portal.models import Role
from projects import gantt, health, lifecycle, services
from projects.filters import ProjectFilter
from projects.forms import (
    ContributionForm,
    DeliverableForm,
    DueDateForm,
    InjectForm,
    MilestoneForm,
    ParticipantForm,
    ProjectCreateForm,
    ProjectDetailsForm,
    ReasonForm,
    ReviewerForm,
    ReviewForm,
    SubmitItemForm,
    WorkPackageForm,
)
from projects.models import (
    DateChange,
    Deliverable,
    ItemStatus,
    Milestone,
    Participant,
    ParticipantRole,
    Project,
    Review,
    ReviewDecision,
)
from resources.models import Resource, ResourceVersion

#: The URL's `item` segment, and the model it names.
ITEM_MODELS = {"milestone": Milestone, "deliverable": Deliverable}
HIDDEN_RESOURCE = "A linked resource your organisation cannot see (not shared with you)"

#: Lifecycle buttons on the project page: transition, URL name, label. All need "manage".
LIFECYCLE_ACTIONS = [
    ("edit", "projects:edit", "Edit details"),
    ("activate", "projects:activate", "Activate"),
    ("suspend", "projects:suspend", "Suspend"),
    ("resume", "projects:resume", "Resume"),
    ("complete", "projects:complete", "Complete"),
    ("cancel", "projects:cancel", "Cancel project"),
]


# --- The list -------------------------------------------------------------------------------


class ProjectListView(AccessListView):
    model = Project
    filterset_class = ProjectFilter
    search_fields = ("acronym", "title", "summary")
    sort_options = {"acronym": "acronym", "start": "start_date", "end": "end_date"}
    sort_labels = {"acronym": "Acronym", "start": "Start date", "end": "End date"}
    default_sort = "acronym"
    results_template = "projects/project_rows.html"
    template_name = "projects/project_list.html"
    extra_context = {
        "title": "Projects",
        "intro": (
            "Joint projects and exercises your organisation takes part in, and those you "
            "review. Nobody else sees them."
        ),
        "empty_text": "Projects your organisation takes part in, or that you review, appear here.",
    }

    def get_base_queryset(self):
        coordinators = Participant.objects.filter(role=ParticipantRole.COORDINATOR).select_related(
            "organisation"
        )
        projects = Project.objects.prefetch_related(
            Prefetch("participants", queryset=coordinators, to_attr="coordinators")
        ).annotate(
            **{
                f"next_{name}_{column}": _next_open_item(model, column)
                for name, model in ITEM_MODELS.items()
                for column in ("due_date", "code", "title")
            }
        )
        return health.annotate_health(projects, timezone.localdate())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for project in context["object_list"]:
            project.tracked = health.is_running(project)
            project.next_item = _next_item(project, today)
            project.health_label = health.label(project.health)
        membership = getattr(self.request.user, "membership", None)
        context["can_propose"] = bool(membership and membership.programme_manager)
        context["sort_choices"] = [(key, self.sort_labels[key]) for key in self.sort_options]
        return context


@dataclass(frozen=True)
class NextItem:
    code: str
    title: str
    due_date: datetime.date
    overdue: bool


def _next_open_item(model, column: str) -> Subquery:
    """One column of the project's earliest item that is not accepted yet."""
    open_items = (
        model.objects.filter(project=OuterRef("pk"))
        .exclude(status=ItemStatus.ACCEPTED)
        .order_by("due_date", "code")
    )
    return Subquery(open_items.values(column)[:1])


def _next_item(project, today: datetime.date) -> NextItem | None:
    if not health.is_running(project):
        return None
    candidates = [
        NextItem(
            code=getattr(project, f"next_{name}_code"),
            title=getattr(project, f"next_{name}_title"),
            due_date=due,
            overdue=due < today,
        )
        for name in ITEM_MODELS
        if (due := getattr(project, f"next_{name}_due_date")) is not None
    ]
    return min(candidates, key=lambda item: (item.due_date, item.code), default=None)


# --- The project page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A linked resource as this person may see it: a link, or only the fact that it exists."""

    url: str = ""
    label: str = ""

    @property
    def hidden(self) -> bool:
        return not self.url


class ProjectDetailView(ObjectAccessMixin, DetailView):
    model = Project
    template_name = "projects/project_detail.html"

    def get_access_queryset(self):
        return Project.objects.select_related("agreement", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project, user = self.object, self.request.user
        today = timezone.localdate()
        who = _Viewer(user, project)
        participants = list(project.participants.select_related("organisation"))
        work_packages = list(project.work_packages.select_related("lead__organisation"))
        milestones = list(_items(project.milestones, Prefetch("linked_resources")))
        deliverables = list(
            _items(
                project.deliverables,
                Prefetch(
                    "linked_versions", queryset=ResourceVersion.objects.select_related("resource")
                ),
            )
        )
        items = milestones + deliverables
        visible = _visible_resources(user, items)
        running = health.is_running(project)
        # By unit within a kind: ids are random and order nothing.
        contributions = list(
            project.contributions.select_related("participant__organisation").order_by(
                "participant__organisation__name", "kind", "unit", "pk"
            )
        )
        # Leads and contributors cannot be removed (the service refuses, the database protects
        # their contributions): the page does not offer it.
        kept = {wp.lead_id for wp in work_packages} | {c.participant_id for c in contributions}
        for participant in participants:
            participant.removable = (
                who.can_manage
                and who.planning_open
                and participant.role != ParticipantRole.COORDINATOR
                and participant.pk not in kept
            )
        for item in items:
            _describe_item(item, who, visible, running, today)
        own = next((p for p in participants if p.organisation_id == who.organisation_id), None)
        project_health = health.health(project, today, items=items)
        context.update(
            today=today,
            who=who,
            actions=who.lifecycle_actions(),
            participants=participants,
            reviewers=list(
                project.reviewers.select_related("user__membership__organisation").order_by(
                    "user__last_name", "user__username"
                )
            ),
            work_packages=work_packages,
            milestones=milestones,
            deliverables=deliverables,
            tracked=running,
            health=project_health,
            health_label=health.label(project_health),
            hidden_resource_text=HIDDEN_RESOURCE,
            gantt=gantt.render_gantt(project, items, work_packages, today),
            can_see_agreement=access.can(user, "view", project.agreement),
            plannable=bool(who.plannable_work_packages(work_packages)) and who.planning_open,
            can_add_contribution=who.planning_open and (who.can_manage or who.can_submit),
            contributions=contributions,
            totals_by_partner=_totals(contributions, lambda c: c.participant.organisation.name),
            totals_by_kind=_totals(contributions, lambda c: c.get_kind_display()),
            grand_total=_sum_by_unit(contributions),
        )
        if project.is_exercise:
            context["injects"] = list(services.visible_injects(user, project))
            context["is_control_team"] = bool(own and own.role == ParticipantRole.COORDINATOR)
            now = timezone.now()
            for inject in context["injects"]:
                inject.released = inject.release_at <= now
        if access.can(user, "view_history", project):
            context["timeline"] = audit_words.history(user, project)
        if access.can(user, "view_access", project):
            context["access_rows"] = access.explain(project)
        return context


class _Viewer:
    """What the person looking at a project may do there, asked once per page."""

    def __init__(self, user, project: Project):
        self.user, self.project = user, project
        membership = getattr(user, "membership", None)
        self.organisation_id = membership.organisation_id if membership else None
        self.is_programme_manager = bool(membership and membership.programme_manager)
        self.can_manage = access.can(user, "manage", project)
        self.can_submit = access.can(user, "submit", project)
        self.can_review = access.can(user, "review", project)
        self.planning_open = lifecycle.project_machine.allows(project, "edit")
        self.work_open = lifecycle.project_machine.allows(project, "work")

    def lifecycle_actions(self) -> list[tuple[str, str, str]]:
        if not self.can_manage:
            return []
        return [
            (url_name, label, transition)
            for transition, url_name, label in LIFECYCLE_ACTIONS
            if lifecycle.project_machine.allows(self.project, transition)
        ]

    def plans(self, work_package) -> bool:
        """services._require_planner: the coordinator plans all, a partner what it leads."""
        return self.can_manage or (
            self.is_programme_manager and work_package.lead.organisation_id == self.organisation_id
        )

    def plannable_work_packages(self, work_packages) -> list:
        return [wp for wp in work_packages if self.plans(wp)]

    def may_submit(self, item) -> bool:
        return (
            self.can_submit
            and self.work_open
            and item.work_package.lead.organisation_id == self.organisation_id
            and lifecycle.item_machine.allows(item, "submit")
        )

    def may_review(self, item) -> bool:
        return (
            self.can_review
            and lifecycle.item_machine.allows(item, "review")
            and not any(
                r.round == item.round and r.reviewer_id == self.user.pk for r in item.reviews.all()
            )
        )

    def may_reschedule(self, item) -> bool:
        return (
            self.planning_open
            and self.plans(item.work_package)
            and lifecycle.item_machine.allows(item, "reschedule")
        )


def _items(manager, links: Prefetch):
    return manager.select_related("work_package__lead__organisation").prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("date_changes", queryset=DateChange.objects.select_related("changed_by")),
        links,
    )


def _visible_resources(user, items) -> set[int]:
    """Ids of the linked resources this person may see, asked of the access layer at once."""
    ids = set()
    for item in items:
        if isinstance(item, Milestone):
            ids.update(r.pk for r in item.linked_resources.all())
        else:
            ids.update(v.resource_id for v in item.linked_versions.all())
    if not ids:
        return set()
    visible = access.visible_to(user, Resource.objects.filter(pk__in=ids))
    return set(visible.values_list("pk", flat=True))


def _links(item, visible: set[int]) -> list[Link]:
    """Links to what the person may see; for the rest only the fact, never a title."""
    if isinstance(item, Milestone):
        pairs = [(r, r.title) for r in item.linked_resources.all()]
    else:
        pairs = [
            (v.resource, f"{v.resource.title}, version {v.number}")
            for v in item.linked_versions.all()
        ]
    return [
        Link(resource.get_absolute_url(), label) if resource.pk in visible else Link()
        for resource, label in pairs
    ]


def _describe_item(item, who: _Viewer, visible: set[int], running: bool, today) -> None:
    """Attach what the page shows about one milestone or deliverable."""
    item.kind = "milestone" if isinstance(item, Milestone) else "deliverable"
    item.overdue = running and health.is_overdue(item, today)
    item.links = _links(item, visible)
    rounds = defaultdict(list)
    for review in item.reviews.all():
        rounds[review.round].append(review)
    item.review_rounds = sorted(rounds.items())
    item.changes = list(item.date_changes.all())
    actions = []  # (URL name, label, is the main action)
    if who.may_submit(item):
        label = "Resubmit" if item.status == ItemStatus.CHANGES_REQUESTED else "Submit"
        actions.append(("projects:item-submit", label, True))
    if who.may_review(item):
        actions.append(("projects:item-review", "Review", True))
    if who.may_reschedule(item):
        actions.append(("projects:item-due-date", "Change due date", False))
    item.actions = actions
    item.has_details = bool(item.evidence or item.links or item.review_rounds or item.changes)


def _totals(contributions, key) -> list[tuple[str, list[tuple[Decimal, str]]]]:
    """Sums per key (a partner, a kind), each as one amount per unit."""
    groups: dict[str, list] = {}
    for contribution in contributions:
        groups.setdefault(str(key(contribution)), []).append(contribution)
    return [(label, _sum_by_unit(group)) for label, group in groups.items()]


def _sum_by_unit(contributions) -> list[tuple[Decimal, str]]:
    """Amounts in different units are never added together (EUR and eur are one unit)."""
    sums: dict[str, list] = {}
    for contribution in contributions:
        entry = sums.setdefault(contribution.unit.casefold(), [Decimal(0), contribution.unit])
        entry[0] += contribution.amount
    return [(amount, unit) for amount, unit in sums.values()]


# --- Pages with a form ----------------------------------------------------------------------


class ProjectCreateView(RoleRequiredMixin, FormView):
    required_role = Role.PROGRAMME_MANAGER
    form_class = ProjectCreateForm
    template_name = "projects/form_page.html"
    extra_context = {
        "heading": "Propose a project",
        "lede": (
            "Your organisation coordinates it. The project runs under a joint R&D agreement or "
            "an MoU in force, and every participant must be a party to it."
        ),
        "button": "Propose",
    }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            project = services.create_project(
                actor=self.request.user,
                acronym=data["acronym"],
                kind=data["kind"],
                agreement=data["agreement"],
                partners=data["partners"],
                observers=data["observers"],
                **form.details(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{project.acronym} proposed. Plan its work packages and milestones, then activate it.",
        )
        return redirect(project)


class ProjectPage(ObjectAccessMixin, FormView):
    """A page with one form about one project: GET shows it, POST calls one service.

    Asking for it while the project (or item) is in a state that does not allow it explains
    and goes back to the project, as the agreement pages do.
    """

    model = Project
    template_name = "projects/form_page.html"
    form_class = forms.Form
    transition = "edit"  # the project transition the page needs; "" for none
    heading = ""
    lede = ""
    explanation = ""
    button = "Save"
    danger = False
    anchor = ""

    def get(self, request, *args, **kwargs):
        self.prepare()
        problem = self.state_problem()
        if problem:
            messages.info(request, problem)
            return redirect(self.object)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.prepare()
        return super().post(request, *args, **kwargs)

    def prepare(self) -> None:
        """Resolve what the URL names besides the project; refuse (403) what is not theirs."""

    def state_problem(self) -> str:
        if self.transition and not lifecycle.project_machine.allows(self.object, self.transition):
            return (
                f"{self.object.acronym} is {self.object.get_status_display().lower()}: "
                "this is not possible now."
            )
        return ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.heading,
            lede=self.lede,
            explanation=self.explanation,
            button=self.button,
            danger=self.danger,
            **kwargs,
        )

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, message)
        url = self.object.get_absolute_url()
        return redirect(f"{url}#{self.anchor}" if self.anchor else url)

    def perform(self, form) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError


class ProjectEditView(ProjectPage):
    access_action = "manage"
    form_class = ProjectDetailsForm
    heading = "Edit details"
    button = "Save details"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        project = Project.objects.get(pk=self.object.pk)
        changes = {k: v for k, v in form.details().items() if getattr(project, k) != v}
        if not changes:
            return "Nothing changed."
        services.update_project(actor=self.request.user, project=project, **changes)
        return "Details saved."


class ParticipantAddView(ProjectPage):
    access_action = "manage"
    form_class = ParticipantForm
    heading = "Add a participant"
    lede = "Its members see the project and everything in it at once."
    button = "Add participant"
    anchor = "consortium"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        participant = services.add_participant(
            actor=self.request.user,
            project=self.object,
            organisation=form.cleaned_data["organisation"],
            role=form.cleaned_data["role"],
        )
        return f"{participant.organisation} takes part as {participant.get_role_display().lower()}."


class ParticipantRemoveView(ObjectAccessMixin, View):
    """POST only: a participant leaves the project; its members lose access at once."""

    model = Project
    access_action = "manage"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        participant = get_object_or_404(
            self.object.participants.select_related("organisation"),
            pk=kwargs["participant_pk"],
        )
        participant.project = self.object
        try:
            services.remove_participant(actor=request.user, participant=participant)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{participant.organisation} no longer takes part: its members lost access.",
            )
        return redirect(f"{self.object.get_absolute_url()}#consortium")


class ReviewerAssignView(ProjectPage):
    access_action = "manage"
    form_class = ReviewerForm
    heading = "Assign a reviewer"
    lede = (
        "Reviewers accept milestones and deliverables or ask for changes. They see the whole "
        "project, even when their organisation does not take part."
    )
    button = "Assign reviewer"
    anchor = "consortium"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        user = form.cleaned_data["user"]
        services.assign_reviewer(actor=self.request.user, project=self.object, user=user)
        return f"{user.get_full_name() or user.get_username()} reviews {self.object.acronym}."


class WorkPackageAddView(ProjectPage):
    access_action = "manage"
    form_class = WorkPackageForm
    heading = "Add a work package"
    button = "Add work package"
    anchor = "work-packages"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        wp = services.add_work_package(
            actor=self.request.user, project=self.object, **form.cleaned_data
        )
        return f"WP{wp.number} {wp.title} added."


class ItemAddView(ProjectPage):
    """Add a milestone or deliverable to a work package the person plans."""

    access_action = "submit"  # a programme manager of a participant; the service narrows it
    model_label = ""

    def prepare(self):
        who = _Viewer(self.request.user, self.object)
        work_packages = self.object.work_packages.select_related("lead__organisation")
        if not who.can_manage:
            work_packages = work_packages.filter(lead__organisation_id=who.organisation_id)
            if not work_packages.exists():
                raise PermissionDenied(
                    "Only the coordinator, or the partner leading a work package, plans it."
                )
        self.work_packages = work_packages

    def state_problem(self):
        if not self.work_packages.exists():
            return "Add a work package first: every milestone and deliverable belongs to one."
        return super().state_problem()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "work_packages": self.work_packages}

    def perform(self, form):
        item = self.add(
            actor=self.request.user,
            work_package=form.cleaned_data["work_package"],
            **form.fields_for_service(),
        )
        return f"{item.code} {item.title} added."


class MilestoneAddView(ItemAddView):
    form_class = MilestoneForm
    heading = "Add a milestone"
    button = "Add milestone"
    anchor = "milestones"

    def add(self, **kwargs):
        return services.add_milestone(**kwargs)


class DeliverableAddView(ItemAddView):
    form_class = DeliverableForm
    heading = "Add a deliverable"
    button = "Add deliverable"
    anchor = "deliverables"

    def add(self, **kwargs):
        return services.add_deliverable(**kwargs)


class ContributionAddView(ProjectPage):
    access_action = "submit"  # a programme manager of a participant; the service narrows it
    form_class = ContributionForm
    heading = "Record a contribution"
    lede = "The coordinator records anyone's contribution; a partner records its own."
    button = "Record contribution"
    anchor = "contributions"

    def prepare(self):
        who = _Viewer(self.request.user, self.object)
        participants = self.object.participants.all()
        if not who.can_manage:
            participants = participants.filter(organisation_id=who.organisation_id)
        self.participants = participants

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "participants": self.participants}

    def perform(self, form):
        data = dict(form.cleaned_data)
        participant = data.pop("participant")
        participant.project = self.object
        services.add_contribution(actor=self.request.user, participant=participant, **data)
        return f"Contribution of {participant.organisation} recorded."


class InjectAddView(ProjectPage):
    access_action = "manage"
    form_class = InjectForm
    heading = "Add an inject"
    lede = "A scripted event of the exercise. Its targets see it from its release time."
    button = "Add inject"
    anchor = "exercise"

    def state_problem(self):
        if not self.object.is_exercise:
            return "Only cross-border exercises have injects."
        return super().state_problem()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        inject = services.add_inject(
            actor=self.request.user, project=self.object, **form.cleaned_data
        )
        return f"Inject “{inject.title}” added."


# --- Pages about one milestone or deliverable ------------------------------------------------


class ItemPage(ProjectPage):
    """A page about one item of the project: `<item>/<item_pk>` is looked up only within it."""

    template_name = "projects/item_page.html"

    def prepare(self):
        model = ITEM_MODELS.get(self.kwargs["item"])
        if model is None:
            raise Http404
        self.item = get_object_or_404(
            model.objects.filter(project=self.object).select_related(
                "work_package__lead__organisation"
            ),
            pk=self.kwargs["item_pk"],
        )
        self.item.project = self.object
        self.item.kind = self.kwargs["item"]
        self.anchor = f"{self.item.kind}-{self.item.pk}"

    def state_problem(self) -> str:
        return super().state_problem() or self.item_problem()

    def item_problem(self) -> str:
        return ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.item, **kwargs)

    def _item_state(self, transition: str) -> str:
        if lifecycle.item_machine.allows(self.item, transition):
            return ""
        return (
            f"{self.item.code} is {self.item.get_status_display().lower()}: "
            "this is not possible now."
        )


class DueDateView(ItemPage):
    access_action = "submit"  # a programme manager of a participant; the service narrows it
    form_class = DueDateForm
    button = "Change due date"

    @property
    def heading(self):
        return f"Change the due date of {self.item.code}"

    @property
    def lede(self):
        if self.object.baseline_frozen_at:
            return (
                "The baseline is frozen: the original date stays visible next to the new one, "
                "with your reason."
            )
        return "The project is not active yet, so its plan can still change freely."

    def prepare(self):
        super().prepare()
        if not _Viewer(self.request.user, self.object).plans(self.item.work_package):
            raise PermissionDenied(
                "Only the coordinator, or the partner leading this work package, plans it."
            )

    def get_initial(self):
        return {"due_date": self.item.due_date}

    def item_problem(self):
        return self._item_state("reschedule")

    def perform(self, form):
        item = services.change_due_date(
            actor=self.request.user,
            item=self.item,
            new_date=form.cleaned_data["due_date"],
            reason=form.cleaned_data["reason"],
        )
        return f"{item.code} is now due on {item.due_date:%d %B %Y}."


class SubmitItemView(ItemPage):
    access_action = "submit"
    form_class = SubmitItemForm
    transition = "work"
    button = "Submit for review"

    @property
    def heading(self):
        verb = "Resubmit" if self.item.status == ItemStatus.CHANGES_REQUESTED else "Submit"
        return f"{verb} {self.item.code}"

    @property
    def lede(self):
        due = f"{self.item.due_date.day} {self.item.due_date:%B %Y}"
        if timezone.localdate() > self.item.due_date:
            return f"It was due on {due}: say why it is late. The reviewers are asked to review it."
        return f"It is due on {due}. The assigned reviewers are asked to review it."

    def prepare(self):
        super().prepare()
        lead = self.item.work_package.lead.organisation
        if lead.pk != self.request.user.membership.organisation_id:
            raise PermissionDenied(f"{lead} leads this work package.")

    def item_problem(self):
        return self._item_state("submit")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "is_milestone": isinstance(self.item, Milestone),
            "is_late": timezone.localdate() > self.item.due_date,
        }

    def get_initial(self):
        return {"evidence": self.item.evidence}

    def perform(self, form):
        data = form.cleaned_data
        item = services.submit_item(
            actor=self.request.user,
            item=self.item,
            evidence=data["evidence"],
            resources=data.get("resources") or (),
            versions=data.get("versions") or (),
            late_justification=data.get("late_justification", ""),
        )
        return f"{item.code} submitted: the reviewers have been asked to review it."


class ReviewItemView(ItemPage):
    access_action = "review"
    form_class = ReviewForm
    transition = ""
    button = "Record review"

    @property
    def heading(self):
        return f"Review {self.item.code}, submission {self.item.round}"

    lede = (
        "One request for changes sends it back to the partner; acceptance needs as many "
        "accepting reviews of the same submission as the project asks for."
    )

    def item_problem(self):
        problem = self._item_state("review")
        if (
            not problem
            and self.item.reviews.filter(round=self.item.round, reviewer=self.request.user).exists()
        ):
            problem = "You already reviewed this submission."
        return problem

    def get_context_data(self, **kwargs):
        visible = _visible_resources(self.request.user, [self.item])
        return super().get_context_data(
            links=_links(self.item, visible),
            hidden_resource_text=HIDDEN_RESOURCE,
            earlier_reviews=list(
                self.item.reviews.select_related("reviewer").order_by("round", "pk")
            ),
            **kwargs,
        )

    def perform(self, form):
        review = services.review_item(
            actor=self.request.user,
            item=self.item,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
        )
        if review.decision == ReviewDecision.REQUEST_CHANGES:
            return f"{self.item.code} was sent back with your comments."
        return f"Your acceptance of {self.item.code} is recorded."


# --- Lifecycle --------------------------------------------------------------------------------


class LifecycleView(ProjectPage):
    """A confirmation page and its POST for one lifecycle action of the coordinator."""

    access_action = "manage"
    template_name = "projects/form_page.html"
    success = ""

    def perform(self, form):
        self.change(form)
        return self.success

    def change(self, form):
        raise NotImplementedError


class ActivateView(LifecycleView):
    transition = "activate"
    heading = "Activate"
    explanation = (
        "Activating starts the work: the governing agreement must be in force, and today's due "
        "dates become the baseline. Later date changes need a reason and stay visible as slip."
    )
    button = "Activate"
    success = "Active: the baseline is frozen."

    def change(self, form):
        services.activate(actor=self.request.user, project=self.object)


class SuspendView(LifecycleView):
    transition = "suspend"
    form_class = ReasonForm
    heading = "Suspend"
    explanation = "Nothing can be submitted while the project is suspended."
    button = "Suspend"
    danger = True
    success = "Suspended."

    def change(self, form):
        services.suspend(
            actor=self.request.user, project=self.object, reason=form.cleaned_data["reason"]
        )


class ResumeView(LifecycleView):
    transition = "resume"
    heading = "Resume"
    explanation = "The governing agreement must be in force, with every participant a party."
    button = "Resume"
    success = "Active again."

    def change(self, form):
        services.resume(actor=self.request.user, project=self.object)


class CompleteView(LifecycleView):
    transition = "complete"
    heading = "Complete"
    explanation = "Every milestone and deliverable must be accepted first."
    button = "Complete the project"
    success = "Completed."

    def change(self, form):
        services.complete(actor=self.request.user, project=self.object)


class CancelView(LifecycleView):
    transition = "cancel"
    form_class = ReasonForm
    heading = "Cancel the project"
    explanation = "Cancelling ends the project for good. Participants keep seeing its record."
    button = "Cancel the project"
    danger = True
    success = "Cancelled."

    def change(self, form):
        services.cancel(
            actor=self.request.user, project=self.object, reason=form.cleaned_data["reason"]
        )
