"""Threat intelligence held as STIX 2.1 objects, every version kept, shared under agreements.

- `StixObject` is the protected model: one STIX id, its owner organisation, data category and
  TLP, and the searchable facts of its newest version.
- `StixVersion` keeps each version's JSON as validated; a new `modified` is a new version.
- `IntelShare` shares an object with one partner under one agreement, under the rules of
  resources (the same statuses, the same "live" rule, the same sharing problems).
- `CollectionEntry` is what a TAXII collection lists: each version as it reached each
  organisation's view of the agreement's collection, with the time it did (`date_added`).
- `Sighting` and `Correlation` are derived from the objects, for feedback and correlation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from portal.models import GroupGrant, Organisation, UserGrant, held_index
from portal.vocabulary import TLP, DataCategory
from resources.models import ShareQuerySet, ShareStatus


class StixObject(models.Model):
    """One STIX object (one id) an organisation owns; its versions hold the JSON."""

    #: Unique per owner, not across the portal: an organisation importing an id another one
    #: holds (the same report, passed on by hand) must not learn that the other holds it.
    stix_id = models.CharField("STIX id", max_length=100, db_index=True)
    type = models.CharField(max_length=40, db_index=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    data_category = models.CharField(max_length=32, choices=DataCategory.choices)
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices)
    # The newest version's facts, kept here so that lists and search read one row.
    name = models.CharField(max_length=250, blank=True)
    description = models.TextField(blank=True)
    pattern = models.TextField(blank=True)
    observable_values = models.TextField(blank=True)
    modified = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "stix_id"], name="one_stix_id_per_owner")
        ]
        indexes = [
            models.Index(fields=["-added_at", "-id"], name="intel_newest_first"),
            models.Index(fields=["owner", "-added_at"], name="intel_owner_newest"),
        ]
        verbose_name = "intelligence object"

    def __str__(self) -> str:
        return self.name or self.stix_id

    def get_absolute_url(self) -> str:
        return reverse("intel:detail", kwargs={"pk": self.pk})

    #: How the sharing rules' messages name it (resources.services.sharing_problem).
    sharing_noun = "object"

    @property
    def title(self) -> str:
        """What the object is called in lists and messages (sharing reuses this word)."""
        return str(self)


class StixObjectGroupObjectPermission(GroupGrant):
    content_object = models.ForeignKey(StixObject, on_delete=models.CASCADE)

    class Meta(GroupGrant.Meta):
        abstract = False
        indexes = [held_index("stix_grant_held")]


class StixObjectUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(StixObject, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        abstract = False


class StixVersion(models.Model):
    """One version of a STIX object: its JSON exactly as validated and stored."""

    object = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="versions")
    modified = models.DateTimeField()
    created = models.DateTimeField()
    spec_version = models.CharField(max_length=8, default="2.1")
    revoked = models.BooleanField(default=False)
    data = models.JSONField()
    #: Denormalised for TAXII's match[version]=first|last, answered from an index.
    is_first = models.BooleanField(default=True)
    is_last = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-modified"]
        constraints = [
            models.UniqueConstraint(fields=["object", "modified"], name="one_version_per_modified")
        ]

    def __str__(self) -> str:
        return f"{self.object.stix_id} @ {self.modified.isoformat()}"


class IntelShare(models.Model):
    """An object shared with one recipient organisation under one agreement."""

    object = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="shares")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
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
                fields=["object", "recipient"],
                condition=Q(status="active"),
                name="one_active_intel_share_per_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object} → {self.recipient.slug} under {self.agreement.label}"


class CollectionEntry(models.Model):
    """One version in one organisation's view of an agreement's TAXII collection.

    A recipient's entries hang on the share that brought them; the owner's entries of what it
    shared have no share. `date_added` is when the version reached that view (shared then,
    or added later to an object already shared), so old intelligence shared today reaches
    pollers that ask for what was added after yesterday.
    """

    collection = models.CharField(max_length=20)  # the agreement's reference
    viewer = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(StixVersion, on_delete=models.CASCADE, related_name="+")
    object = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="+")
    share = models.ForeignKey(IntelShare, null=True, on_delete=models.CASCADE, related_name="+")
    date_added = models.DateTimeField(db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "viewer", "version"], name="one_entry_per_view_and_version"
            )
        ]
        indexes = [
            # A poll walks one view in date order from its cursor: one index range scan.
            models.Index(
                fields=["collection", "viewer", "date_added", "id"], name="intel_entry_poll"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collection}/{self.viewer_id}: {self.version}"


class Sighting(models.Model):
    """A `sighting` object's facts, for the producer's "who used my indicator" panel."""

    sighting = models.OneToOneField(StixObject, on_delete=models.CASCADE, related_name="+")
    sighted = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="sightings")
    #: The organisation its where_sighted_refs name; None: the sighting stays anonymous.
    sighted_by = models.ForeignKey(
        Organisation, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(null=True)
    last_seen = models.DateTimeField(null=True)
    #: Whether the producer is told of it (its TLP allowed passing it to the producer).
    reported_to_owner = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"sighting of {self.sighted}"


class Correlation(models.Model):
    """A normalised observable value or pattern an object carries ("ipv4-addr:value:…"):
    objects of different owners with the same value correlate."""

    object = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="correlations")
    value = models.CharField(max_length=300, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object", "value"], name="one_value_per_object")
        ]

    def __str__(self) -> str:
        return self.value


class TaxiiStatus(models.Model):
    """The outcome of one TAXII POST, per object, kept for the poster's status requests."""

    uuid = models.UUIDField(unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    successes = models.JSONField(default=list)
    failures = models.JSONField(default=list)

    def __str__(self) -> str:
        return str(self.uuid)
