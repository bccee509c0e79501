"""Agreements between partner organisations: the legal basis of everything they share."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.models import GroupGrant, Organisation, UserGrant, held_index
from portal.vocabulary import TLP, DataCategory, PermittedActions


class AgreementKind(models.TextChoices):
    MOU = "mou", _("Memorandum of understanding")
    DATA_SHARING = "data_sharing", _("Data-sharing agreement")
    JOINT_RD = "joint_rd", _("Joint R&D agreement")
    NDA = "nda", _("Non-disclosure agreement")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_SIGNATURES = "awaiting_signatures", _("Awaiting signatures")
    SIGNED = "signed", _("Signed, not yet in force")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    SUPERSEDED = "superseded", _("Superseded")


class OnTermination(models.TextChoices):
    DELETE = "delete", _("Recipients delete shared data")
    RETURN = "return", _("Recipients return shared data")
    RETAIN = "retain", _("Recipients may retain it under these terms")


class AgreementQuerySet(models.QuerySet):
    def live(self, on: datetime.date | None = None) -> AgreementQuerySet:
        """Agreements in force on a date: fully signed, within their dates, not ended.

        This is the rule every sensitive exit re-checks, so it holds even before `tick` has
        moved a signed agreement to active or an ended one out of it.
        """
        on = on or timezone.localdate()
        return self.filter(
            Q(status__in=[AgreementStatus.SIGNED, AgreementStatus.ACTIVE]),
            Q(effective_from__lte=on),
            Q(expires_on__isnull=True) | Q(expires_on__gte=on),
            Q(termination_effective_on__isnull=True) | Q(termination_effective_on__gt=on),
        )


class Agreement(models.Model):
    """One version of a bilateral or multilateral agreement, and its terms."""

    reference = models.CharField(max_length=20, db_index=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendment",
        editable=False,
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AgreementKind.choices)
    purpose = models.TextField(max_length=4000)
    body = models.TextField(
        max_length=100_000, blank=True, help_text=_("The agreement's text, in Markdown.")
    )
    status = models.CharField(
        max_length=24,
        choices=AgreementStatus.choices,
        default=AgreementStatus.DRAFT,
        db_index=True,
        editable=False,
    )
    # Data-sharing terms, in the IEP 2.0 vocabulary.
    data_categories = models.JSONField(default=list, blank=True)
    tlp_ceiling = models.CharField(
        "TLP ceiling", max_length=16, choices=TLP.choices, default=TLP.AMBER
    )
    permitted_actions = models.CharField(
        max_length=32, choices=PermittedActions.choices, default=PermittedActions.INTERNALLY_VISIBLE
    )
    attribution_allowed = models.BooleanField(default=False)
    encryption_required = models.BooleanField("encryption in transit required", default=True)
    affected_parties_notifiable = models.BooleanField(
        "affected parties may be notified", default=False
    )
    retention_days = models.PositiveIntegerField(
        "retention period (days)", default=365, validators=[MaxValueValidator(36500)]
    )
    on_termination = models.CharField(
        "shared data at termination",
        max_length=16,
        choices=OnTermination.choices,
        default=OnTermination.DELETE,
    )
    # Dates and law.
    effective_from = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    renewal_notice_days = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(3650)]
    )
    governing_law = models.CharField(max_length=100, blank=True)
    prevailing_language = models.CharField(max_length=50, default="English")
    # Lifecycle facts, written only by the services.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    #: The terms document exactly as submitted for signature; the content hash covers it,
    #: and evidence is built from it, so later renames cannot change what was signed.
    signed_document = models.JSONField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    termination_reason = models.TextField(blank=True, editable=False)
    termination_effective_on = models.DateField(null=True, blank=True, editable=False)
    renewal_notice_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reference", "version"], name="agreement_version"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("effective_from")),
                name="agreement_expires_after_effective",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" v{self.version}" if self.version > 1 else ""
        return f"{self.reference}{suffix} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("agreements:detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        unknown = set(self.data_categories or []) - set(DataCategory.values)
        if unknown:
            raise ValidationError(
                {
                    "data_categories": gettext("Unknown categories: %(categories)s.")
                    % {"categories": sorted(unknown)}
                }
            )
        if self.expires_on and self.effective_from and self.expires_on <= self.effective_from:
            raise ValidationError(
                {"expires_on": _("The expiry date must come after the effective date.")}
            )

    @property
    def label(self) -> str:
        return f"{self.reference} v{self.version}" if self.version > 1 else self.reference

    def last_day_in_force(self) -> datetime.date | None:
        """The last day the agreement can be in force on its own dates (the day before a
        termination takes effect, or its expiry); None if it has no end date yet.

        Grants that follow from the agreement carry this day, so they lapse with it even
        before `tick` has run (see `AgreementQuerySet.live`)."""
        ends = [self.expires_on] if self.expires_on else []
        if self.termination_effective_on:
            ends.append(self.termination_effective_on - datetime.timedelta(days=1))
        return min(ends) if ends else None

    def is_live(self, on: datetime.date | None = None) -> bool:
        return Agreement.objects.live(on).filter(pk=self.pk).exists()

    def covers(self, category: str) -> bool:
        return category in (self.data_categories or [])

    def allows_tlp(self, tlp: str) -> bool:
        return TLP.rank(self.tlp_ceiling) >= TLP.rank(tlp)

    def category_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [labels.get(c, c) for c in self.data_categories or []]


class AgreementGroupObjectPermission(GroupGrant):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)

    class Meta(GroupGrant.Meta):
        abstract = False
        indexes = [held_index("agr_grant_held")]


class AgreementUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        abstract = False


class Party(models.Model):
    """An organisation bound by an agreement, with who signs for it and whom to call."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    signatories = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text=_("Designated signatories."),
    )
    required_signatures = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    legal_contact = models.CharField(max_length=200, blank=True)
    technical_contact = models.CharField(max_length=200, blank=True)
    incident_contact = models.CharField("24/7 incident contact", max_length=200, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "organisation"], name="one_party_per_org")
        ]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return f"{self.organisation} in {self.agreement.label}"


class SignatureMethod(models.TextChoices):
    PASSWORD = "password", _("Password re-authentication")
    PASSWORD_TOTP = "password+totp", _("Password and TOTP re-authentication")


class Signature(models.Model):
    """One signatory's signature for their organisation, on one content hash."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="signatures")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=20, choices=SignatureMethod.choices)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            # Two parallel sign requests of one signatory give one signature.
            models.UniqueConstraint(
                fields=["party", "user", "content_hash"],
                condition=Q(voided_at__isnull=True),
                name="one_valid_signature_per_signatory",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.organisation.slug} on {self.agreement.label}"
