"""Access policy for agreements: parties' members only; roles decide who acts.

Also opens member lists (contacts) between the parties of a live agreement.
"""

from django.utils.translation import gettext_lazy

from agreements.models import (
    Agreement,
    AgreementGroupObjectPermission,
    AgreementUserObjectPermission,
    Party,
)
from portal import access
from portal.models import Organisation


def party_grants(agreement: Agreement):
    for party in agreement.parties.select_related("organisation"):
        yield access.Grant(
            "view",
            group_id=party.organisation.group_id,
            reason=f"{party.organisation} is a party to {agreement.label}.",
        )


def partner_member_lists(organisation: Organisation):
    """Each party of a live agreement sees the other parties' member lists."""
    live = Agreement.objects.live().filter(parties__organisation=organisation)
    partners = (
        Party.objects.filter(agreement__in=live)
        .exclude(organisation=organisation)
        .select_related("organisation", "agreement")
    )
    for party in partners:
        yield access.Grant(
            "view_members",
            group_id=party.organisation.group_id,
            until=party.agreement.last_day_in_force(),
            reason=f"Active agreement {party.agreement.label} with {party.organisation}.",
        )


def _membership(user):
    return getattr(user, "membership", None)


def is_party_programme_manager(user, agreement: Agreement) -> bool:
    m = _membership(user)
    return bool(
        m
        and m.programme_manager
        and agreement.parties.filter(organisation_id=m.organisation_id).exists()
    )


def is_own_party_programme_manager(user, party: Party) -> bool:
    """A programme manager of the party's own organisation: who designates its signatories."""
    m = _membership(user)
    return bool(m and m.programme_manager and m.organisation_id == party.organisation_id)


def is_designated_signatory(user, agreement: Agreement) -> bool:
    m = _membership(user)
    return bool(
        m
        and m.signatory
        and Party.signatories.through.objects.filter(
            party__agreement=agreement, party__organisation_id=m.organisation_id, user_id=user.pk
        ).exists()
    )


def is_party_signatory(user, agreement: Agreement) -> bool:
    m = _membership(user)
    return bool(
        m and m.signatory and agreement.parties.filter(organisation_id=m.organisation_id).exists()
    )


def is_party_member(user, agreement: Agreement) -> bool:
    m = _membership(user)
    return bool(m and agreement.parties.filter(organisation_id=m.organisation_id).exists())


PM_ONLY = gettext_lazy("Only a programme manager of a party can do this.")

access.register(
    access.Policy(
        model=Agreement,
        group_grants=AgreementGroupObjectPermission,
        user_grants=AgreementUserObjectPermission,
        sources=[party_grants],
        action_labels={"view": gettext_lazy("See the agreement, its signatures and its history")},
        rules={
            "edit": access.Rule(is_party_programme_manager, PM_ONLY),
            "submit": access.Rule(is_party_programme_manager, PM_ONLY),
            "withdraw": access.Rule(is_party_programme_manager, PM_ONLY),
            "amend": access.Rule(is_party_programme_manager, PM_ONLY),
            "sign": access.Rule(
                is_designated_signatory,
                gettext_lazy(
                    "Only a designated signatory of a party can sign or decline this agreement."
                ),
                role="signatory",
            ),
            "terminate": access.Rule(
                is_party_signatory,
                gettext_lazy("Only a signatory of a party can terminate this agreement."),
                role="signatory",
            ),
            "view_history": access.Rule(
                is_party_member, gettext_lazy("Only parties see the history.")
            ),
            "view_access": access.Rule(
                is_party_member, gettext_lazy("Only parties see who has access.")
            ),
        },
    )
)
access.add_grant_source(Organisation, partner_member_lists)
