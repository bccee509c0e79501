"""The filter bar of the agreement list (and the API's filters)."""

import datetime

import django_filters
from django.db.models import Count, Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, AgreementKind, AgreementStatus, Party, Signature
from portal.filters import organisation_filter

AWAITING_MY_SIGNATURE = "my_signature"
AWAITING_PARTNERS = "partners"


class AgreementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=AgreementStatus.choices, empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices, empty_label=_("Any kind"))
    party = organisation_filter(_("Party"), field_name="parties__organisation")
    expiring_within = django_filters.NumberFilter(
        label=_("Expiring within (days)"),
        method="filter_expiring_within",
        min_value=0,
        max_value=3650,
    )
    awaiting = django_filters.ChoiceFilter(
        label=_("Awaiting"),
        choices=[
            (AWAITING_MY_SIGNATURE, _("My signature")),
            (AWAITING_PARTNERS, _("Other parties' signatures")),
        ],
        method="filter_awaiting",
        empty_label=_("Anything"),
    )

    class Meta:
        model = Agreement
        fields = ["status", "kind", "party", "expiring_within", "awaiting"]

    def filter_expiring_within(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            status=AgreementStatus.ACTIVE,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=int(value)),
        )

    def filter_awaiting(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value == AWAITING_MY_SIGNATURE:
            return awaiting_signature_of(user, queryset)
        if value == AWAITING_PARTNERS:
            return awaiting_partners_of(user, queryset)
        return queryset


def awaiting_signature_of(user, queryset):
    """Agreements out for signature that name the user a signatory of their organisation,
    which has not yet given every signature it owes, and that the user has not signed."""
    membership = getattr(user, "membership", None)
    if membership is None or not membership.signatory:
        return queryset.none()
    organisation = membership.organisation_id
    designated = Party.signatories.through.objects.filter(
        user_id=user.pk, party__organisation_id=organisation
    ).values("party__agreement")
    signed_by_me = Signature.objects.filter(
        agreement=OuterRef("pk"),
        user_id=user.pk,
        voided_at__isnull=True,
        content_hash=OuterRef("content_hash"),
    )
    return (
        queryset.filter(status=AgreementStatus.AWAITING_SIGNATURES, pk__in=designated)
        .exclude(pk__in=_signed_parties().filter(organisation_id=organisation).values("agreement"))
        .exclude(Exists(signed_by_me))
    )


def awaiting_partners_of(user, queryset):
    """Agreements out for signature that the user's organisation has signed in full, so
    only the other parties' signatures are missing."""
    membership = getattr(user, "membership", None)
    if membership is None:
        return queryset.none()
    ours = _signed_parties().filter(organisation_id=membership.organisation_id)
    return queryset.filter(
        status=AgreementStatus.AWAITING_SIGNATURES, pk__in=ours.values("agreement")
    )


def _signed_parties():
    """Parties that have given every signature they owe on their agreement's current terms
    (valid signatures on its content hash, as many as the party requires)."""
    given = (
        Signature.objects.filter(
            party=OuterRef("pk"),
            voided_at__isnull=True,
            content_hash=OuterRef("agreement__content_hash"),
        )
        .order_by()
        .values("party")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Party.objects.annotate(given=Coalesce(Subquery(given), Value(0))).filter(
        given__gte=F("required_signatures")
    )
