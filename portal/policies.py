"""Access policy for organisations: a public directory, member lists for the organisation
itself (and, through later apps, its partners), member management for its admins."""

from django.db.models import Q
from django.utils.translation import gettext_lazy

from portal import access
from portal.models import (
    Organisation,
    OrganisationGroupObjectPermission,
    OrganisationUserObjectPermission,
)


def own_organisation_grants(organisation: Organisation):
    """An organisation always sees itself and its own member list."""
    reason = "Its own organisation."
    yield access.Grant("view", group_id=organisation.group_id, reason=reason)
    yield access.Grant("view_members", group_id=organisation.group_id, reason=reason)


def is_member_of(user, organisation: Organisation) -> bool:
    membership = getattr(user, "membership", None)
    return membership is not None and membership.organisation_id == organisation.pk


def is_org_admin_of(user, organisation: Organisation) -> bool:
    membership = getattr(user, "membership", None)
    return bool(
        membership is not None
        and membership.organisation_id == organisation.pk
        and membership.org_admin
    )


access.register(
    access.Policy(
        model=Organisation,
        group_grants=OrganisationGroupObjectPermission,
        user_grants=OrganisationUserObjectPermission,
        grant_actions=frozenset({"view", "view_members"}),
        # The directory (name, country, kind) is open to every signed-in user.
        everyone=lambda user: Q(is_active=True),
        everyone_reason=gettext_lazy(
            "The directory entry (name, country, kind) is public to the portal."
        ),
        action_labels={
            "view": gettext_lazy("See the directory entry"),
            "view_members": gettext_lazy("See the member list"),
        },
        sources=[own_organisation_grants],
        rules={
            "view_history": access.Rule(
                is_org_admin_of,
                gettext_lazy("Only this organisation's admins can see its history."),
                role="org_admin",
            ),
            "view_access": access.Rule(
                is_member_of,
                gettext_lazy("Only this organisation's members can see who has access."),
            ),
            "manage_members": access.Rule(
                is_org_admin_of,
                gettext_lazy("Only this organisation's admins can manage its members."),
                role="org_admin",
            ),
        },
    )
)
