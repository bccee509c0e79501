"""Access policy for intelligence objects: the resources' rules, applied to STIX objects.

- The owner organisation always sees its objects; TLP:CLEAR is seen by every signed-in user.
- GREEN, AMBER and AMBER+STRICT: the members of each recipient organisation of a live share.
- RED: only the named recipient users of a live share.
Only the owner's programme managers share and revoke; recipients never pass objects on.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy

from intel.models import (
    IntelShare,
    StixObject,
    StixObjectGroupObjectPermission,
    StixObjectUserObjectPermission,
)
from portal import access
from portal.vocabulary import TLP
from resources.policies import (
    OWNER_PM,
    is_owner_member,
    is_owner_programme_manager,
    live_share_grants,
    owner_grants,
)


def share_grants(obj: StixObject):
    live = IntelShare.objects.live().filter(object=obj).select_related("recipient", "agreement")
    yield from live_share_grants(obj, live)


def is_active_member(user, obj: StixObject) -> bool:
    """Anyone who sees an object may report a sighting of it, or an opinion on it."""
    membership = getattr(user, "membership", None)
    return bool(membership and membership.organisation.is_active)


access.register(
    access.Policy(
        model=StixObject,
        group_grants=StixObjectGroupObjectPermission,
        user_grants=StixObjectUserObjectPermission,
        everyone=lambda user: Q(tlp=TLP.CLEAR),
        everyone_reason=gettext_lazy("TLP:CLEAR: disclosure is not limited."),
        sources=[owner_grants, share_grants],
        naming=lambda user: StixObject.objects.filter(shares__recipient_users=user),
        action_labels={"view": gettext_lazy("See it and receive it over TAXII")},
        rules={
            "share": access.Rule(is_owner_programme_manager, OWNER_PM),
            "sight": access.Rule(
                is_active_member,
                gettext_lazy("Only members of an active organisation report sightings."),
            ),
            "view_access": access.Rule(
                is_owner_member, gettext_lazy("Only the owner sees who has access.")
            ),
            "view_history": access.Rule(
                is_owner_member, gettext_lazy("Only the owner sees the history.")
            ),
        },
    )
)
