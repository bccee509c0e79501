"""HTML views of projects: the list, the project page with its timeline, and one page per
action. They translate HTTP into service calls; access comes from the base classes, and what a
person may do is decided by the policy, the state machines and the services."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, View

from agreements.models import Agreement
from portal import access, audit_words, feedback, reauth
from portal.base_views import (
    AccessListView,
    KeptPageMixin,
    ObjectAccessMixin,
    RoleRequiredMixin,
)
from portal.forms import ReauthenticationForm, add_service_errors
from portal.models import Role
from portal.vocabulary import TLP
from projects import gantt, health, lifecycle, policies, services
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
    ReviewAccess,
    ReviewDecision,
)
from resources.models import Resource
from resources.services import REAUTH_TLP

#: The URL's `item` segment, and the model it names.
ITEM_MODELS = {"milestone": Milestone, "deliverable": Deliverable}
HIDDEN_RESOURCE = gettext_lazy(
    "A linked resource your organisation cannot see (not shared with you)"
)

#: Lifecycle buttons on the project page: transition, URL name, label. All need "manage".
LIFECYCLE_ACTIONS = [
    ("edit", "projects:edit", gettext_lazy("Edit details")),
    ("activate", "projects:activate", gettext_lazy("Activate")),
    ("suspend", "projects:suspend", gettext_lazy("Suspend")),
    ("resume", "projects:resume", gettext_lazy("Resume")),
    ("complete", "projects:complete", gettext_lazy("Complete")),
    ("cancel", "projects:cancel", gettext_lazy("Cancel project")),
]


# --- The list -------------------------------------------------------------------------------


class ProjectListView(AccessListView):
    model = Project
    shared_filter_bar = True
    keep_page = True
    filterset_class = ProjectFilter
    search_fields = ("acronym", "title", "summary")
    sort_options = {"acronym": "acronym", "start": "start_date", "end": "end_date"}
    sort_labels = {
        "acronym": gettext_lazy("Acronym"),
        "start": gettext_lazy("Start date"),
        "end": gettext_lazy("End date"),
    }
    default_sort = "acronym"
    results_template = "projects/project_rows.html"
    template_name = "projects/project_list.html"
    extra_context = {
        "title": gettext_lazy("Projects"),
        "intro": gettext_lazy(
            "Joint projects and exercises your organisation takes part in, and those you "
            "review. Nobody else sees them."
        ),
        "empty_text": gettext_lazy(
            "Projects your organisation takes part in, or that you review, appear here."
        ),
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
    #: For the owner's programme managers while the project runs: the reviewers who cannot
    #: open it and where to let them, or where to end the access they were given.
    blocked: tuple[str, ...] = ()
    open_url: str = ""
    close_url: str = ""

    @property
    def hidden(self) -> bool:
        return not self.url


class _Evidence:
    """What the owner's programme manager may do about the evidence the reviewers judge:
    asked once per page, in a fixed number of queries."""

    def __init__(self, who: _Viewer, items):
        self.project = who.project
        self.owned: dict[int, Resource] = {}
        if who.manages_evidence:
            for item in items:
                for resource in _linked(item):
                    if resource.owner_id == who.organisation_id:
                        self.owned[resource.pk] = resource
        self.blocked = services.reviewers_who_cannot_open(self.project, self.owned.values())
        self.opened = {pk for pk, resource in self.owned.items() if resource.opened}

    def link(self, item, resource: Resource, label: str) -> Link:
        if resource.pk not in self.owned:
            return Link(resource.get_absolute_url(), label)
        kwargs = {
            "pk": self.project.pk,
            "item": _item_kind(item),
            "item_pk": item.pk,
            "resource_pk": resource.pk,
        }
        if resource.pk in self.opened:
            return Link(
                resource.get_absolute_url(),
                label,
                close_url=reverse("projects:evidence-close", kwargs=kwargs),
            )
        blocked = tuple(_person(user) for user in self.blocked.get(resource.pk, ()))
        return Link(
            resource.get_absolute_url(),
            label,
            blocked=blocked,
            open_url=reverse("projects:evidence-open", kwargs=kwargs) if blocked else "",
        )


class ProjectDetailView(ObjectAccessMixin, KeptPageMixin, DetailView):
    """The project page. It asks a fixed number of queries however many participants,
    reviewers, work packages, items and linked resources the project has: the consortium is
    read once with the project, and every policy check and the access panel reuse it.

    It is kept per person until a table it was read from is written (KeptPageMixin), its
    history until an event joins that history (audit_words.history)."""

    model = Project
    template_name = "projects/project_detail.html"

    def get_access_queryset(self):
        # Whether this person may open the governing agreement comes with the project, from
        # the access layer's own condition.
        return (
            Project.objects.select_related("agreement", "created_by")
            .with_consortium()
            .annotate(agreement_visible=_visible_through(self.request.user, "agreement", Agreement))
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project, user = self.object, self.request.user
        today = timezone.localdate()
        who = _Viewer(user, project)
        participants = policies.participants_of(project)
        reviewers = policies.reviewer_assignments_of(project)
        work_packages = list(project.work_packages.select_related("lead__organisation"))
        milestones, deliverables = _items(who, work_packages)
        items = milestones + deliverables
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
            # Its confirmation names the reviewers who stop reviewing with it.
            participant.reviewers_lost = [
                _person(r.user)
                for r in reviewers
                if _reviews_as_participant(r, participant.organisation)
            ]
        evidence = _Evidence(who, items)
        for item in items:
            _describe_item(item, who, evidence, running, today)
        own = next((p for p in participants if p.organisation_id == who.organisation_id), None)
        project_health = health.health(project, today, items=items)
        context.update(
            today=today,
            who=who,
            actions=who.lifecycle_actions(),
            participants=participants,
            reviewers=reviewers,
            work_packages=work_packages,
            milestones=milestones,
            deliverables=deliverables,
            tracked=running,
            health=project_health,
            health_label=health.label(project_health),
            hidden_resource_text=HIDDEN_RESOURCE,
            gantt=gantt.render_gantt(project, items, work_packages, today),
            can_see_agreement=project.agreement_visible,
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
        #: Whether the page tells this person which reviewers can open the evidence their
        #: organisation owns (_Evidence); the service asks "open_evidence" and "share".
        self.manages_evidence = self.work_open and self.is_programme_manager

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
                r.round == item.round and r.reviewer_id == self.user.pk for r in item.review_list
            )
        )

    def may_reschedule(self, item) -> bool:
        return (
            self.planning_open
            and self.plans(item.work_package)
            and lifecycle.item_machine.allows(item, "reschedule")
        )


def _items(who: _Viewer, work_packages) -> tuple[list, list]:
    """The project's milestones and deliverables with what the page shows of each, in a
    fixed number of queries: their work packages from the list read already, their linked
    resources as this person may see them (_load_links), and the reviews and the date
    changes of both kinds at once."""
    project = who.project
    packages = {wp.pk: wp for wp in work_packages}
    milestones = list(project.milestones.all())
    deliverables = list(project.deliverables.all())
    items = milestones + deliverables
    for item in items:
        item.work_package = packages[item.work_package_id]
        item.review_list, item.change_list = [], []
    _load_links(who, milestones, deliverables)
    by_key = {(_item_kind(item), item.pk): item for item in items}

    def item_of(row):
        if row.milestone_id:
            return by_key[("milestone", row.milestone_id)]
        return by_key[("deliverable", row.deliverable_id)]

    # A review is of a submission, and a date change is kept only once the baseline is
    # frozen: before either, there is nothing to ask for.
    submitted = [item for item in items if item.round]
    if submitted:
        for review in Review.objects.filter(_of_items(submitted)).select_related("reviewer"):
            item_of(review).review_list.append(review)
    if project.baseline_frozen_at and items:
        changes = DateChange.objects.filter(_of_items(items)).select_related("changed_by")
        for change in changes:
            item_of(change).change_list.append(change)
    return milestones, deliverables


def _of_items(items) -> Q:
    """Rows (reviews, date changes) that belong to one of these milestones or deliverables."""
    return Q(milestone_id__in=[i.pk for i in items if isinstance(i, Milestone)]) | Q(
        deliverable_id__in=[i.pk for i in items if isinstance(i, Deliverable)]
    )


def _load_links(who: _Viewer, milestones, deliverables) -> None:
    """Give each item `link_list`: (resource, label) for each resource it links, the links
    of both kinds read in one query. Each resource carries `seen`, whether this person may
    see it, and for the owner's programme managers while the work goes on, `opened`,
    whether the project's reviewers may open it now: one more query, when there are links."""
    items = {("milestone", m.pk): m for m in milestones}
    items.update({("deliverable", d.pk): d for d in deliverables})
    for item in items.values():
        item.link_list = []
    if not items:
        return
    by_milestone = Milestone.linked_resources.through.objects.filter(
        milestone__in=list(milestones)
    ).values_list(
        Value("milestone", output_field=CharField()),
        "milestone",
        "resource",
        "resource__title",
        "resource__owner",
        "resource__created_at",
        Value(None, output_field=IntegerField()),
    )
    by_deliverable = Deliverable.linked_versions.through.objects.filter(
        deliverable__in=list(deliverables)
    ).values_list(
        Value("deliverable", output_field=CharField()),
        "deliverable",
        "resourceversion__resource",
        "resourceversion__resource__title",
        "resourceversion__resource__owner",
        "resourceversion__resource__created_at",
        "resourceversion__number",
    )
    rows = list(by_milestone.union(by_deliverable, all=True))
    if not rows:
        return
    # What the person may see, asked of the access layer once for all the resources.
    visible = access.visible_to(who.user, Resource.objects.filter(pk__in={r[2] for r in rows}))
    if who.manages_evidence:
        opened = ReviewAccess.objects.filter(
            project=who.project, ended_at=None, resource=OuterRef("pk")
        )
        visible = visible.annotate(opened=Exists(opened))
    else:
        visible = visible.annotate(opened=Value(False, output_field=BooleanField()))
    opened = dict(visible.order_by().values_list("pk", "opened"))
    links = []
    for kind, item_id, pk, title, owner_id, created_at, number in rows:
        resource = Resource(pk=pk, title=title, owner_id=owner_id, created_at=created_at)
        resource.seen, resource.opened = pk in opened, opened.get(pk, False)
        label = title if number is None else f"{title}, version {number}"
        links.append((items[(kind, item_id)], resource, label, number))
    # As each relation orders them: a milestone's resources newest first, a deliverable's
    # versions highest number first.
    links.sort(key=lambda link: (-(link[3] or 0), -link[1].created_at.timestamp(), -link[1].pk))
    for item, resource, label, _number in links:
        item.link_list.append((resource, label))


def _visible_through(user, field: str, model) -> ExpressionWrapper:
    """access.visible_through as a column: whether user may see the object `field` names."""
    return ExpressionWrapper(
        access.visible_through(user, field, model), output_field=BooleanField()
    )


def _linked(item) -> list[Resource]:
    """The resources an item links, from what _load_links read."""
    return [resource for resource, _label in item.link_list]


def _item_kind(item) -> str:
    return "milestone" if isinstance(item, Milestone) else "deliverable"


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _links(item, evidence: _Evidence) -> list[Link]:
    """Links to what the person may see; for the rest only the fact, never a title."""
    return [
        evidence.link(item, resource, label) if resource.seen else Link()
        for resource, label in item.link_list
    ]


def _describe_item(item, who: _Viewer, evidence: _Evidence, running: bool, today) -> None:
    """Attach what the page shows about one milestone or deliverable."""
    item.kind = _item_kind(item)
    item.overdue = running and health.is_overdue(item, today)
    item.links = _links(item, evidence)
    rounds = defaultdict(list)
    for review in item.review_list:
        rounds[review.round].append(review)
    item.review_rounds = sorted(rounds.items())
    item.changes = item.change_list
    actions = []  # (URL name, label, is the main action)
    if who.may_submit(item):
        label = _("Resubmit") if item.status == ItemStatus.CHANGES_REQUESTED else _("Submit")
        actions.append(("projects:item-submit", label, True))
    if who.may_review(item):
        actions.append(("projects:item-review", _("Review"), True))
    if who.may_reschedule(item):
        actions.append(("projects:item-due-date", _("Change due date"), False))
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
        "heading": gettext_lazy("Propose a project"),
        "lede": gettext_lazy(
            "Your organisation coordinates it. The project runs under a joint R&D agreement or "
            "an MoU in force, and every participant must be a party to it."
        ),
        "button": gettext_lazy("Propose"),
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
            _("%(project)s proposed. Plan its work packages and milestones, then activate it.")
            % {"project": project.acronym},
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
    button = gettext_lazy("Save")
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
            return _("%(project)s is %(status)s: this is not possible now.") % {
                "project": self.object.acronym,
                "status": self.object.get_status_display().lower(),
            }
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
        # Back to the item acted on, with the message next to it rather than out of sight.
        messages.success(self.request, message, extra_tags=feedback.at(self.anchor))
        return feedback.redirect_to(self.object, self.anchor)

    def perform(self, form) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError


class ProjectEditView(ProjectPage):
    access_action = "manage"
    form_class = ProjectDetailsForm
    heading = gettext_lazy("Edit details")
    button = gettext_lazy("Save details")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        project = Project.objects.get(pk=self.object.pk)
        changes = {k: v for k, v in form.details().items() if getattr(project, k) != v}
        if not changes:
            return _("Nothing changed.")
        services.update_project(actor=self.request.user, project=project, **changes)
        return _("Details saved.")


class ParticipantAddView(ProjectPage):
    access_action = "manage"
    form_class = ParticipantForm
    heading = gettext_lazy("Add a participant")
    lede = gettext_lazy("Its members see the project and everything in it at once.")
    button = gettext_lazy("Add participant")
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
        return _("%(organisation)s takes part as %(role)s.") % {
            "organisation": participant.organisation,
            "role": participant.get_role_display().lower(),
        }


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
        here = feedback.at("consortium")
        try:
            services.remove_participant(actor=request.user, participant=participant)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages), extra_tags=here)
        else:
            messages.success(
                request,
                _("%(organisation)s no longer takes part: its members lost access.")
                % {"organisation": participant.organisation},
                extra_tags=here,
            )
        return feedback.redirect_to(self.object, "consortium")


class ReviewerAssignView(ProjectPage):
    access_action = "manage"
    form_class = ReviewerForm
    heading = gettext_lazy("Assign a reviewer")
    lede = gettext_lazy(
        "Reviewers accept milestones and deliverables or ask for changes. They see the whole "
        "project, even when their organisation does not take part."
    )
    button = gettext_lazy("Assign reviewer")
    anchor = "consortium"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        user = form.cleaned_data["user"]
        services.assign_reviewer(actor=self.request.user, project=self.object, user=user)
        return _("%(person)s reviews %(project)s.") % {
            "person": user.get_full_name() or user.get_username(),
            "project": self.object.acronym,
        }


class WorkPackageAddView(ProjectPage):
    access_action = "manage"
    form_class = WorkPackageForm
    heading = gettext_lazy("Add a work package")
    button = gettext_lazy("Add work package")
    anchor = "work-packages"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        wp = services.add_work_package(
            actor=self.request.user, project=self.object, **form.cleaned_data
        )
        return _("WP%(number)s %(title)s added.") % {"number": wp.number, "title": wp.title}


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
                    _("Only the coordinator, or the partner leading a work package, plans it.")
                )
        self.work_packages = work_packages

    def state_problem(self):
        if not self.work_packages.exists():
            return _("Add a work package first: every milestone and deliverable belongs to one.")
        return super().state_problem()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "work_packages": self.work_packages}

    def perform(self, form):
        item = self.add(
            actor=self.request.user,
            work_package=form.cleaned_data["work_package"],
            **form.fields_for_service(),
        )
        return _("%(code)s %(title)s added.") % {"code": item.code, "title": item.title}


class MilestoneAddView(ItemAddView):
    form_class = MilestoneForm
    heading = gettext_lazy("Add a milestone")
    button = gettext_lazy("Add milestone")
    anchor = "milestones"

    def add(self, **kwargs):
        return services.add_milestone(**kwargs)


class DeliverableAddView(ItemAddView):
    form_class = DeliverableForm
    heading = gettext_lazy("Add a deliverable")
    button = gettext_lazy("Add deliverable")
    anchor = "deliverables"

    def add(self, **kwargs):
        return services.add_deliverable(**kwargs)


class ContributionAddView(ProjectPage):
    access_action = "submit"  # a programme manager of a participant; the service narrows it
    form_class = ContributionForm
    heading = gettext_lazy("Record a contribution")
    lede = gettext_lazy("The coordinator records anyone's contribution; a partner records its own.")
    button = gettext_lazy("Record contribution")
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
        return _("Contribution of %(organisation)s recorded.") % {
            "organisation": participant.organisation
        }


class InjectAddView(ProjectPage):
    access_action = "manage"
    form_class = InjectForm
    heading = gettext_lazy("Add an inject")
    lede = gettext_lazy(
        "A scripted event of the exercise. Its targets see it from its release time."
    )
    button = gettext_lazy("Add inject")
    anchor = "exercise"

    def state_problem(self):
        if not self.object.is_exercise:
            return _("Only cross-border exercises have injects.")
        return super().state_problem()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.object}

    def perform(self, form):
        inject = services.add_inject(
            actor=self.request.user, project=self.object, **form.cleaned_data
        )
        return _("Inject “%(title)s” added.") % {"title": inject.title}


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
        return _("%(code)s is %(status)s: this is not possible now.") % {
            "code": self.item.code,
            "status": self.item.get_status_display().lower(),
        }


class DueDateView(ItemPage):
    access_action = "submit"  # a programme manager of a participant; the service narrows it
    form_class = DueDateForm
    button = gettext_lazy("Change due date")

    @property
    def heading(self):
        return _("Change the due date of %(code)s") % {"code": self.item.code}

    @property
    def lede(self):
        if self.object.baseline_frozen_at:
            return _(
                "The baseline is frozen: the original date stays visible next to the new one, "
                "with your reason."
            )
        return _("The project is not active yet, so its plan can still change freely.")

    def prepare(self):
        super().prepare()
        if not _Viewer(self.request.user, self.object).plans(self.item.work_package):
            raise PermissionDenied(
                _("Only the coordinator, or the partner leading this work package, plans it.")
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
        return _("%(code)s is now due on %(due_date)s.") % {
            "code": item.code,
            "due_date": f"{item.due_date:%d %B %Y}",
        }


class SubmitItemView(ItemPage):
    access_action = "submit"
    form_class = SubmitItemForm
    transition = "work"
    button = gettext_lazy("Submit for review")

    @property
    def heading(self):
        if self.item.status == ItemStatus.CHANGES_REQUESTED:
            return _("Resubmit %(code)s") % {"code": self.item.code}
        return _("Submit %(code)s") % {"code": self.item.code}

    @property
    def lede(self):
        due = f"{self.item.due_date.day} {self.item.due_date:%B %Y}"
        if timezone.localdate() > self.item.due_date:
            return _(
                "It was due on %(due_date)s: say why it is late. The reviewers are asked to "
                "review it."
            ) % {"due_date": due}
        return _("It is due on %(due_date)s. The assigned reviewers are asked to review it.") % {
            "due_date": due
        }

    def prepare(self):
        super().prepare()
        lead = self.item.work_package.lead.organisation
        if lead.pk != self.request.user.membership.organisation_id:
            raise PermissionDenied(
                _("%(organisation)s leads this work package.") % {"organisation": lead}
            )

    def item_problem(self):
        return self._item_state("submit")

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "is_milestone": isinstance(self.item, Milestone),
            "is_late": timezone.localdate() > self.item.due_date,
            "project": self.object,
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
            open_to_reviewers=form.resources_to_open(),
        )
        return _("%(code)s submitted: the reviewers have been asked to review it.") % {
            "code": item.code
        }


class ReviewItemView(ItemPage):
    access_action = "review"
    form_class = ReviewForm
    transition = ""
    button = gettext_lazy("Record review")

    @property
    def heading(self):
        return _("Review %(code)s, submission %(round)s") % {
            "code": self.item.code,
            "round": self.item.round,
        }

    lede = gettext_lazy(
        "One request for changes sends it back to the partner; acceptance needs as many "
        "accepting reviews of the same submission as the project asks for."
    )

    def item_problem(self):
        problem = self._item_state("review")
        if (
            not problem
            and self.item.reviews.filter(round=self.item.round, reviewer=self.request.user).exists()
        ):
            problem = _("You already reviewed this submission.")
        return problem

    def get_context_data(self, **kwargs):
        who = _Viewer(self.request.user, self.object)
        is_milestone = isinstance(self.item, Milestone)
        _load_links(who, [self.item] if is_milestone else [], [] if is_milestone else [self.item])
        evidence = _Evidence(who, [self.item])
        return super().get_context_data(
            links=_links(self.item, evidence),
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
            return _("%(code)s was sent back with your comments.") % {"code": self.item.code}
        return _("Your acceptance of %(code)s is recorded.") % {"code": self.item.code}


class EvidencePage(ItemPage):
    """The owner's page about one resource linked to an item: `<resource_pk>` must be linked
    there and visible to the person, or the page does not exist for them."""

    access_action = "open_evidence"  # the project's; the resource's "share" is asked too
    transition = "work"

    def prepare(self):
        super().prepare()
        linked = {r.pk: r for r in services.linked_resources(self.item)}
        resource = linked.get(self.kwargs["resource_pk"])
        if resource is None or not access.can(self.request.user, "view", resource):
            raise Http404
        access.require(self.request.user, "share", resource)
        self.resource = resource
        self.review_access = services.open_review_access(item=self.item, resource=resource)

    def get_context_data(self, **kwargs):
        return super().get_context_data(resource=self.resource, **kwargs)


class OpenEvidenceView(EvidencePage):
    button = gettext_lazy("Let the reviewers open it")

    @property
    def heading(self):
        return _("Let the reviewers of %(code)s open “%(title)s”") % {
            "code": self.item.code,
            "title": self.resource.title,
        }

    @property
    def lede(self):
        reviewers = ", ".join(_person(a.user) for a in policies.eligible_reviewers(self.object))
        if self.resource.tlp == TLP.RED:
            return _(
                "It is TLP:RED: only the reviewers assigned now may open it, by name (%(names)s), "
                "and none of them can pass it on. Access ends when they are unassigned, lose "
                "the reviewer role, or %(project)s stops running."
            ) % {"names": reviewers, "project": self.object.acronym}
        return _(
            "The reviewers assigned to %(project)s (%(names)s, and any assigned later) may open "
            "and download it for the review. Nobody can pass it on. Access ends when a reviewer "
            "is unassigned or loses the reviewer role, when %(project)s stops running, or when "
            "you end it."
        ) % {"names": reviewers or _("none yet"), "project": self.object.acronym}

    def get_form_class(self):
        return ReauthenticationForm if self.resource.tlp in REAUTH_TLP else forms.Form

    def item_problem(self):
        if self.review_access is not None:
            return _("The reviewers may already open it.")
        return ""

    def perform(self, form):
        reauthentication = None
        if self.resource.tlp in REAUTH_TLP:
            reauthentication = reauth.reauthenticate(
                self.request.user,
                password=form.cleaned_data["password"],
                otp=form.cleaned_data.get("otp", ""),
            )
        services.open_evidence_to_reviewers(
            actor=self.request.user,
            item=self.item,
            resource=self.resource,
            reauthentication=reauthentication,
        )
        return _("The reviewers of %(code)s may now open “%(title)s”.") % {
            "code": self.item.code,
            "title": self.resource.title,
        }


class CloseEvidenceView(EvidencePage):
    button = gettext_lazy("End their access")
    danger = True

    @property
    def heading(self):
        return _("End the reviewers' access to “%(title)s”") % {"title": self.resource.title}

    @property
    def lede(self):
        return _(
            "The reviewers of %(project)s lose it at once, unless it is shared with their "
            "organisation under an agreement. They still see that %(code)s links a resource."
        ) % {"project": self.object.acronym, "code": self.item.code}

    def item_problem(self):
        if self.review_access is None:
            return _("The reviewers have no access to end.")
        return ""

    def perform(self, form):
        if self.review_access is None:
            raise ValidationError(self.item_problem())
        services.end_review_access(actor=self.request.user, review_access=self.review_access)
        return _("The reviewers can no longer open “%(title)s”.") % {"title": self.resource.title}


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
    heading = gettext_lazy("Activate")
    explanation = gettext_lazy(
        "Activating starts the work: the governing agreement must be in force, and today's due "
        "dates become the baseline. Later date changes need a reason and stay visible as slip."
    )
    button = gettext_lazy("Activate")
    success = gettext_lazy("Active: the baseline is frozen.")

    def change(self, form):
        services.activate(actor=self.request.user, project=self.object)


class SuspendView(LifecycleView):
    transition = "suspend"
    form_class = ReasonForm
    heading = gettext_lazy("Suspend")
    explanation = gettext_lazy("Nothing can be submitted while the project is suspended.")
    button = gettext_lazy("Suspend")
    danger = True
    success = gettext_lazy("Suspended.")

    def change(self, form):
        services.suspend(
            actor=self.request.user, project=self.object, reason=form.cleaned_data["reason"]
        )


class ResumeView(LifecycleView):
    transition = "resume"
    heading = gettext_lazy("Resume")
    explanation = gettext_lazy(
        "The governing agreement must be in force, with every participant a party."
    )
    button = gettext_lazy("Resume")
    success = gettext_lazy("Active again.")

    def change(self, form):
        services.resume(actor=self.request.user, project=self.object)


class CompleteView(LifecycleView):
    transition = "complete"
    heading = gettext_lazy("Complete")
    explanation = gettext_lazy("Every milestone and deliverable must be accepted first.")
    button = gettext_lazy("Complete the project")
    success = gettext_lazy("Completed.")

    def change(self, form):
        services.complete(actor=self.request.user, project=self.object)


class CancelView(LifecycleView):
    transition = "cancel"
    form_class = ReasonForm
    heading = gettext_lazy("Cancel the project")
    explanation = gettext_lazy(
        "Cancelling ends the project for good. Participants keep seeing its record."
    )
    button = gettext_lazy("Cancel the project")
    danger = True
    success = gettext_lazy("Cancelled.")

    def change(self, form):
        services.cancel(
            actor=self.request.user, project=self.object, reason=form.cleaned_data["reason"]
        )


def _reviews_as_participant(assignment, organisation) -> bool:
    """Whether the reviewer reviews only because their organisation takes part (not as an
    independent panel's), so removing that participant ends their review."""
    membership = getattr(assignment.user, "membership", None)
    return bool(
        membership
        and membership.organisation_id == organisation.pk
        and organisation.slug not in settings.PROJECT_REVIEWER_ORGANISATIONS
    )
