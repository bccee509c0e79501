"""The core every app leans on: organisations, their members' roles and the audit trail."""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class OrganisationKind(models.TextChoices):
    NATIONAL_CSIRT = "national_csirt", _("National CSIRT")
    GOVERNMENT = "government", _("Government")
    DEFENCE = "defence", _("Defence")
    REGULATOR = "regulator", _("Regulator")
    INDUSTRY = "industry", _("Industry")
    ACADEMIA = "academia", _("Academia")
    INTERNATIONAL_BODY = "international_body", _("International body")


class Organisation(models.Model):
    """A partner organisation. Its one-to-one group is the principal object grants go to."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(
        "short name", max_length=40, unique=True, help_text=_("Used in addresses, e.g. ee-csirt.")
    )
    country = CountryField(help_text=_("ISO 3166-1 alpha-2 code of the organisation's nation."))
    kind = models.CharField(max_length=32, choices=OrganisationKind.choices)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True, max_length=4000)
    is_active = models.BooleanField(default=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("view_members", "Can see the organisation's member list")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:organisation-detail", kwargs={"slug": self.slug})


class GroupGrant(GroupObjectPermissionBase):
    """A guardian grant to a group that may end on a known day.

    A grant whose fact ends on a date (a share under an agreement that expires, a partner's
    member list under an agreement being terminated) carries that date, and the access layer
    ignores it from the next day on, so access never waits for `tick` to delete the row.
    """

    #: The last day (inclusive, in the portal's time zone) the grant holds; null: no end.
    valid_until = models.DateField(null=True, blank=True)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = True


def held_index(name: str) -> models.Index:
    """A group grant table's index for "what does this group hold": every column the access
    queries read, so a hub's tens of thousands of grants come from the index alone, without
    a heap fetch per row (a tenth of the time at national scale)."""
    return models.Index(fields=["group", "permission", "content_object", "valid_until"], name=name)


class UserGrant(UserObjectPermissionBase):
    """A guardian grant to a named user that may end on a known day (see GroupGrant)."""

    valid_until = models.DateField(null=True, blank=True)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True


class OrganisationGroupObjectPermission(GroupGrant):
    """guardian's direct-FK grant table for organisations, given to organisation groups."""

    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)

    class Meta(GroupGrant.Meta):
        abstract = False
        indexes = [held_index("org_grant_held")]


class OrganisationUserObjectPermission(UserGrant):
    """guardian's direct-FK grant table for organisations, given to named users."""

    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        abstract = False


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organisation admin")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager")
    SIGNATORY = "signatory", _("Signatory")
    REVIEWER = "reviewer", _("Reviewer")


#: What each role lets a person do, in one line, where roles are chosen.
ROLE_DESCRIPTIONS = {
    Role.ORG_ADMIN: _(
        "Invites people, changes their roles and reads the organisation's audit log."
    ),
    Role.PROGRAMME_MANAGER: _(
        "Drafts agreements, runs projects, and shares resources and intelligence with partners."
    ),
    Role.SIGNATORY: _("Signs or declines agreements on behalf of the organisation."),
    Role.REVIEWER: _(
        "Accepts the milestones and deliverables of projects they review, or asks for changes."
    ),
}


class Membership(models.Model):
    """Gives a user exactly one organisation, and the roles they hold in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    org_admin = models.BooleanField(_("organisation admin"), default=False)
    programme_manager = models.BooleanField(default=False)
    signatory = models.BooleanField(default=False)
    reviewer = models.BooleanField(default=False)
    job_title = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation.slug}"

    @property
    def roles(self) -> list[str]:
        """The role values this member holds, in a stable order."""
        return [role.value for role in Role if getattr(self, role.value)]

    def role_labels(self) -> list[str]:
        return [role.label for role in Role if getattr(self, role.value)]

    def status(self) -> tuple[str, str]:
        """(value, label) for member lists: an open or revoked invitation says so; otherwise
        active or deactivated. Select "invitation" with the membership to read it for free."""
        try:
            invitation = self.invitation
        except models.ObjectDoesNotExist:
            invitation = None
        if invitation is not None:
            state = invitation.state()
            if state == InvitationState.REVOKED:
                return "revoked", _("Invitation revoked")
            if state != InvitationState.ACCEPTED and self.user.is_active:
                return (
                    ("invited", _("Invited"))
                    if state == "pending"
                    else ("expired", _("Link expired"))
                )
        if self.user.is_active:
            return "active", _("Active")
        return "inactive", _("Deactivated")

    def has_role(self, role: str) -> bool:
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r}")
        return bool(getattr(self, role))


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    EXPIRED = "expired", _("Link expired")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """The invitation that created a membership: pending until the person sets a password
    through its emailed link. Resending sends a new link and voids the old one; revoking
    voids the link and switches the account off (portal.services)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="invitation"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the link that works now was sent; it lasts settings.PASSWORD_RESET_TIMEOUT.
    sent_at = models.DateTimeField()
    times_sent = models.PositiveIntegerField(default=1)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "pk"]

    def __str__(self) -> str:
        return f"Invitation of {self.membership.user}"

    @property
    def link_expires_at(self):
        return self.sent_at + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    def state(self, now=None) -> str:
        """Accepted once the person has a password of their own (set through the link, or by
        any other way); a link older than the reset timeout has expired."""
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.membership.user.has_usable_password():
            return InvitationState.ACCEPTED
        if (now or timezone.now()) >= self.link_expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    def get_state_display(self) -> str:
        return InvitationState(self.state()).label


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk update and delete would bypass the model's own refusal; refuse them here too."""

    def update(self, **kwargs):
        raise ValidationError("Audit events are append-only.")

    def delete(self):
        raise ValidationError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One append-only, hash-chained entry of the audit trail. Written only by portal.audit."""

    #: Sequential, unlike every other model's (portal.ids): the chain is verified in id
    #: order. Pages and exports do not show it, as it counts every nation's events.
    id = models.BigAutoField(primary_key=True, serialize=False, verbose_name="ID")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    actor_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: The organisation whose admins the event concerns (the actor's, unless stated).
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    #: The object history (timeline) the event belongs to, e.g. "agreements.agreement:42",
    #: blank for none. It follows from the fields above (portal.audit.history_of), and each
    #: history is a hash chain of its own, so evidence can prove one object's history whole
    #: without showing anything of the events around it.
    history = models.CharField(max_length=140, blank=True)
    history_prev_hash = models.CharField(max_length=64, blank=True)
    history_hash = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"]),
            models.Index(fields=["organisation", "id"]),
            models.Index(fields=["history", "id"], name="portal_audit_history_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only.")


class Notification(models.Model):
    """An in-app notice to one person; the same text is emailed to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=4000)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title
