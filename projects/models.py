"""Joint projects and exercises: consortium, work packages, milestones, deliverables, reviews."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from portal.models import GroupGrant, Organisation, UserGrant, held_index
from portal.vocabulary import TLP
from resources.models import Resource, ResourceVersion


def choice_label(choices: type[models.Choices], value) -> str:
    """What get_FOO_display() says for value. Django's hashes every (lazily translated) label
    of the field on each call; the pages that show many items use this instead."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class ProjectKind(models.TextChoices):
    RESEARCH = "research", _("Research and development")
    PILOT = "pilot", _("Pilot")
    EXERCISE = "exercise", _("Cross-border exercise")
    TRAINING = "training", _("Training")
    STANDARDS = "standards", _("Standards")
    TECHNOLOGY_EXCHANGE = "technology_exchange", _("Technology exchange")


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ProjectQuerySet(models.QuerySet):
    def with_consortium(self) -> ProjectQuerySet:
        """Each project with its participants (and their organisations) and its reviewer
        assignments (with the reviewers' organisations), read in one query each, as
        `participant_list` and `reviewer_list`. The policy's checks and grant sources read
        these lists when they are there (projects.policies), so a page that shows a
        project asks for its consortium once. For read paths only: a service that changes
        the consortium reads it afresh."""
        return self.prefetch_related(
            models.Prefetch(
                "participants",
                queryset=Participant.objects.select_related("organisation"),
                to_attr="participant_list",
            ),
            models.Prefetch(
                "reviewers",
                queryset=ReviewerAssignment.objects.select_related(
                    "user__membership__organisation"
                ).order_by("user__last_name", "user__username"),
                to_attr="reviewer_list",
            ),
        )


class Project(models.Model):
    """A joint project or exercise run under an active agreement."""

    acronym = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]*$", "Capital letters, digits and dashes.")],
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=5000, blank=True)
    kind = models.CharField(max_length=24, choices=ProjectKind.choices)
    status = models.CharField(
        max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.PROPOSED, editable=False
    )
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="projects",
        help_text=_("Governing agreement."),
    )
    start_date = models.DateField()
    end_date = models.DateField()
    required_acceptances = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # Cross-border exercises only.
    scenario = models.TextField(max_length=10_000, blank=True)
    exercise_start = models.DateTimeField(null=True, blank=True)
    exercise_end = models.DateTimeField(null=True, blank=True)
    baseline_frozen_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["acronym"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="project_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.acronym}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", kwargs={"pk": self.pk})

    @property
    def is_exercise(self) -> bool:
        return self.kind == ProjectKind.EXERCISE


class ProjectGroupObjectPermission(GroupGrant):
    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Meta(GroupGrant.Meta):
        abstract = False
        indexes = [held_index("prj_grant_held")]


class ProjectUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        abstract = False


class ParticipantRole(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    PARTNER = "partner", _("Partner")
    OBSERVER = "observer", _("Observer")


class Participant(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)

    class Meta:
        ordering = ["role", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "organisation"], name="one_participation"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(role="coordinator"), name="one_coordinator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug} ({self.get_role_display()}) in {self.project.acronym}"

    def get_role_display(self) -> str:
        return choice_label(ParticipantRole, self.role)


class ReviewerAssignment(models.Model):
    """A person with the reviewer role, assigned to a project by its coordinator."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_assignment_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"{self.user} reviews {self.project.acronym}"


class WorkPackage(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="work_packages")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    lead = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="led_work_packages"
    )
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="one_wp_number"),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="wp_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"WP{self.number} {self.title}"


class ItemStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class ReviewedItem(models.Model):
    """What milestones and deliverables share: a due date with a baseline, and the review flow."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    work_package = models.ForeignKey(WorkPackage, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=12)
    title = models.CharField(max_length=200)
    due_date = models.DateField()
    baseline_due_date = models.DateField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=20, choices=ItemStatus.choices, default=ItemStatus.PLANNED, editable=False
    )
    evidence = models.TextField(max_length=10_000, blank=True, editable=False)
    late_justification = models.TextField(max_length=2000, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    round = models.PositiveIntegerField(default=0, editable=False)  # submissions so far

    class Meta:
        abstract = True
        ordering = ["due_date", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def slip_days(self) -> int:
        if self.baseline_due_date is None:
            return 0
        return (self.due_date - self.baseline_due_date).days


class Milestone(ReviewedItem):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    work_package = models.ForeignKey(
        WorkPackage, on_delete=models.PROTECT, related_name="milestones"
    )
    means_of_verification = models.CharField(max_length=500, blank=True)
    linked_resources = models.ManyToManyField(Resource, blank=True, related_name="+")

    class Meta(ReviewedItem.Meta):
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="one_milestone_code")
        ]

    def get_status_display(self) -> str:
        return choice_label(ItemStatus, self.status)


class DeliverableType(models.TextChoices):
    REPORT = "report", _("Report")
    DEMONSTRATOR = "demonstrator", _("Demonstrator")
    DECISION = "decision", _("Decision")
    DATA = "data", _("Data")
    SECURITY = "security", _("Security")
    OTHER = "other", _("Other")


class Deliverable(ReviewedItem):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deliverables")
    work_package = models.ForeignKey(
        WorkPackage, on_delete=models.PROTECT, related_name="deliverables"
    )
    type = models.CharField(max_length=16, choices=DeliverableType.choices)
    tlp = models.CharField("TLP / dissemination", max_length=16, choices=TLP.choices)
    linked_versions = models.ManyToManyField(ResourceVersion, blank=True, related_name="+")

    class Meta(ReviewedItem.Meta):
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="one_deliverable_code")
        ]

    def get_status_display(self) -> str:
        return choice_label(ItemStatus, self.status)


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    REQUEST_CHANGES = "request_changes", _("Request changes")


class Review(models.Model):
    """One reviewer's decision on one submission (round) of a milestone or deliverable."""

    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    deliverable = models.ForeignKey(
        Deliverable, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    round = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    comment = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(milestone__isnull=False, deliverable__isnull=True)
                | Q(milestone__isnull=True, deliverable__isnull=False),
                name="review_of_one_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer}"


class ReviewAccess(models.Model):
    """The owner of a linked resource lets a submission's reviewers open it for the review.

    It is a grant source on the resource (projects.policies): each assigned reviewer who may
    still review the project gets a named grant while the project is active. A TLP:RED
    resource goes only to the reviewers named here, when it was given; any other TLP to every
    reviewer assigned while the access lasts. The owner can end it; unassignment, the loss of
    the reviewer role and the project's end take it away without anyone acting.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="review_accesses")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="review_accesses")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deliverable = models.ForeignKey(
        Deliverable, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    #: For TLP:RED: exactly who may open it. Empty for the other TLPs.
    named_reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["granted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(milestone__isnull=False, deliverable__isnull=True)
                | Q(milestone__isnull=True, deliverable__isnull=False),
                name="review_access_for_one_item",
            ),
            models.UniqueConstraint(
                fields=["resource", "project"],
                condition=Q(ended_at__isnull=True),
                name="one_open_review_access",
            ),
        ]

    def __str__(self) -> str:
        return f"Reviewers of {self.project.acronym} may open {self.resource}"

    @property
    def item(self):
        return self.milestone or self.deliverable


class DateChange(models.Model):
    """A due date moved after the baseline was frozen, and why: slip stays visible."""

    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="date_changes"
    )
    deliverable = models.ForeignKey(
        Deliverable, null=True, blank=True, on_delete=models.CASCADE, related_name="date_changes"
    )
    old_date = models.DateField()
    new_date = models.DateField()
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.old_date} → {self.new_date}: {self.reason}"


class ContributionKind(models.TextChoices):
    FUNDING = "funding", _("Funding")
    PERSON_MONTHS = "person_months", _("Person-months")
    EQUIPMENT = "equipment", _("Equipment")
    TEST_RANGE = "test_range", _("Test range")
    DATA = "data", _("Data")
    EXPERTISE = "expertise", _("Expertise")


class Contribution(models.Model):
    """Resources a participant pools into the project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contributions")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="contributions"
    )
    kind = models.CharField(max_length=16, choices=ContributionKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=20, help_text=_("A currency (EUR) or a unit (PM, days)."))
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        # Ids are random (portal.ids): the unit, not the id, orders one partner's amounts.
        ordering = ["participant__organisation__name", "kind", "unit", "pk"]

    def __str__(self) -> str:
        return f"{self.participant.organisation.slug}: {self.amount} {self.unit} {self.kind}"


class Inject(models.Model):
    """A scripted event of an exercise, released to its targets at its time."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="injects")
    release_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10_000)
    targets = models.ManyToManyField(Participant, related_name="injects")

    class Meta:
        ordering = ["release_at", "pk"]

    def __str__(self) -> str:
        return self.title


def _new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's secret iCal address for the due dates they can see; revocable."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar of {self.user}"
