"""Resources partners share: reports, datasets, tools, threat intelligence, marked with TLP."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from portal.models import GroupGrant, Organisation, UserGrant
from portal.vocabulary import TLP, DataCategory, label


class ResourceKind(models.TextChoices):
    REPORT = "report", _("Report")
    DATASET = "dataset", _("Dataset")
    TOOL = "tool", _("Tool")
    THREAT_INTELLIGENCE = "threat_intelligence", _("Threat intelligence")
    INDICATOR_FEED = "indicator_feed", _("Indicator feed")
    TRAINING_MATERIAL = "training_material", _("Training material")
    STANDARD_DRAFT = "standard_draft", _("Standard draft")
    EXERCISE_MATERIAL = "exercise_material", _("Exercise material")


class Resource(models.Model):
    """Something an organisation owns and may share under its agreements."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="resources")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10_000, blank=True)
    kind = models.CharField(max_length=32, choices=ResourceKind.choices)
    data_category = models.CharField(max_length=32, choices=DataCategory.choices)
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices, default=TLP.AMBER)
    tags = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: The newest version, kept by the upload service (services._store_version): a list joins
    #: it, where ranking every row's versions cost more than the rest of the page's queries.
    current_version = models.ForeignKey(
        "ResourceVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # A filter on the library's facets walks only the matching rows, newest first.
            models.Index(
                fields=["tlp", "kind", "-created_at", "-id"], name="resource_facets_newest"
            ),
            # The library's order: the first page walks this index and stops after a page of
            # visible rows, instead of sorting everything the user may see.
            models.Index(fields=["-created_at", "-id"], name="resource_newest_first"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("resources:detail", kwargs={"pk": self.pk})

    @property
    def kind_label(self) -> str:
        return label(ResourceKind, self.kind)

    @property
    def data_category_label(self) -> str:
        return label(DataCategory, self.data_category)

    @property
    def latest_version(self) -> ResourceVersion | None:
        return self.current_version


class ResourceGroupObjectPermission(GroupGrant):
    """A resource's grant to a group. It carries copies of the resource's TLP and kind
    (kept by `access.sync_object`, policy `grant_copies`), so a filter on them narrows a
    hub's grants in the index instead of checking each of its tens of thousands of
    resources."""

    content_object = models.ForeignKey(Resource, on_delete=models.CASCADE)
    tlp = models.CharField(max_length=16, choices=TLP.choices, default="")
    kind = models.CharField(max_length=32, choices=ResourceKind.choices, default="")

    class Meta(GroupGrant.Meta):
        abstract = False
        indexes = [
            models.Index(
                fields=["group", "permission", "tlp", "kind", "content_object", "valid_until"],
                name="res_grant_held",
            )
        ]


class ResourceUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Resource, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        abstract = False


class _PrivateStorage(LazyObject):
    """The "private" storage of settings.STORAGES, looked up again whenever that setting
    changes (Django binds a field's storage once, at import)."""

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed, dispatch_uid="resources.private_storage")
def _forget_private_storage(setting, **kwargs) -> None:
    if setting == "STORAGES":
        _private._wrapped = empty


def private_storage():
    """Uploaded files live in the private storage, which no URL maps to."""
    return _private


def _stored_name(instance: ResourceVersion, filename: str) -> str:
    # A generated name: nothing of the uploader's choosing reaches the file system.
    return f"resources/{instance.resource_id}/{uuid.uuid4().hex}"


class ResourceVersion(models.Model):
    """One uploaded file of a resource. The original name is metadata, never a path."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=_stored_name, max_length=200, storage=private_storage)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    original_name = models.CharField(max_length=255)
    note = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="one_number_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.resource} v{self.number}"


class ShareStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class ShareQuerySet(models.QuerySet):
    def live(self, on: datetime.date | None = None) -> ShareQuerySet:
        """Shares in effect on a date: active, under an agreement in force that day."""
        on = on or timezone.localdate()
        return self.filter(
            status=ShareStatus.ACTIVE, agreement__in=Agreement.objects.live(on).values("pk")
        )


class Share(models.Model):
    """A resource shared with one recipient organisation, under one agreement."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="shares")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="shares")
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text=_("For TLP:RED: the only people who may see it."),
    )
    status = models.CharField(
        max_length=16, choices=ShareStatus.choices, default=ShareStatus.ACTIVE, db_index=True
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-shared_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "recipient"],
                condition=Q(status="active"),
                name="one_active_share_per_recipient",
            )
        ]
        indexes = [
            # "Shared with us", newest first: the dashboard card and the library's scope.
            models.Index(
                fields=["recipient", "-shared_at", "-id"],
                condition=Q(status="active"),
                name="share_active_to_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} → {self.recipient.slug} under {self.agreement.label}"

    def is_live(self, on: datetime.date | None = None) -> bool:
        return Share.objects.live(on).filter(pk=self.pk).exists()
