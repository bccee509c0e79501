"""Access policy for resources, after TLP 2.0 and the agreements they are shared under.

- The owner organisation always sees its resources; TLP:CLEAR is seen by every signed-in user.
- GREEN, AMBER and AMBER+STRICT: the members of each recipient organisation of a live share.
- RED: only the named recipient users of a live share.
Only the owner's programme managers share, revoke and change; recipients never re-share.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy

from agreements.models import Agreement
from portal import access, mfa
from portal.vocabulary import TLP
from resources.models import (
    Resource,
    ResourceGroupObjectPermission,
    ResourceUserObjectPermission,
    Share,
)


def owner_grants(resource: Resource):
    yield access.Grant(
        "view", group_id=resource.owner.group_id, reason=f"{resource.owner} owns it."
    )


def share_grants(resource: Resource):
    """One grant per live share: the recipient organisation, or for RED its named people."""
    live = Share.objects.live().filter(resource=resource).select_related("recipient", "agreement")
    yield from live_share_grants(resource, live)


def live_share_grants(item, live_shares):
    """The grants of an item's live shares (a resource's, an intelligence object's): the
    recipient organisation until the agreement's last day, or for RED its named people."""
    for share in live_shares:
        until = share.agreement.last_day_in_force()
        reason = f"Shared with {share.recipient} under {share.agreement.label}"
        reason += f", until {until:%d %b %Y}." if until else "."
        if item.tlp == TLP.RED:
            # Named people keep access only while they are active members of an active
            # recipient organisation.
            named = share.recipient_users.filter(
                is_active=True,
                membership__organisation_id=share.recipient_id,
                membership__organisation__is_active=True,
            )
            for user in named:
                yield access.Grant(
                    "view", user_id=user.pk, until=until, reason=f"Named recipient. {reason}"
                )
        else:
            yield access.Grant(
                "view", group_id=share.recipient.group_id, until=until, reason=reason
            )


def _membership(user):
    return getattr(user, "membership", None)


def is_owner_member(user, resource: Resource) -> bool:
    m = _membership(user)
    return bool(m and m.organisation_id == resource.owner_id)


def is_owner_programme_manager(user, resource: Resource) -> bool:
    m = _membership(user)
    return bool(m and m.organisation_id == resource.owner_id and m.programme_manager)


def may_read_access_report(user, resource: Resource) -> bool:
    m = _membership(user)
    return bool(
        m
        and m.organisation_id == resource.owner_id
        and (m.programme_manager or mfa.may_act_as(user, "org_admin"))
    )


#: Further facts, from later apps, under which a person holds live access to a resource
#: (a project's reviewers open its evidence). Each answers (user, resource) -> bool.
live_access_checks: list = []


def holds_live_access(user, resource: Resource) -> bool:
    """Re-checked on every download: grants may lag an agreement's end until tick runs."""
    if is_owner_member(user, resource) or resource.tlp == TLP.CLEAR:
        return True
    m = _membership(user)
    if m is None:
        return False
    live = Share.objects.live().filter(resource=resource, recipient_id=m.organisation_id)
    if resource.tlp == TLP.RED:
        live = live.filter(recipient_users=user)
    return live.exists() or any(check(user, resource) for check in live_access_checks)


def may_read_agreement_access_report(user, agreement) -> bool:
    """A party's programme managers and admins see who used what their organisation shared."""
    m = _membership(user)
    return bool(
        m
        and (m.programme_manager or mfa.may_act_as(user, "org_admin"))
        and agreement.parties.filter(organisation_id=m.organisation_id).exists()
    )


OWNER_PM = gettext_lazy("Only a programme manager of the owner organisation can do this.")

access.register(
    access.Policy(
        model=Resource,
        group_grants=ResourceGroupObjectPermission,
        user_grants=ResourceUserObjectPermission,
        everyone=lambda user: Q(tlp=TLP.CLEAR),
        everyone_reason=gettext_lazy("TLP:CLEAR: disclosure is not limited."),
        sources=[owner_grants, share_grants],
        naming=lambda user: Resource.objects.filter(shares__recipient_users=user),
        grant_copies=("tlp", "kind"),
        action_labels={"view": gettext_lazy("See and download it")},
        rules={
            "change": access.Rule(is_owner_programme_manager, OWNER_PM),
            "share": access.Rule(is_owner_programme_manager, OWNER_PM),
            "download": access.Rule(
                holds_live_access,
                gettext_lazy(
                    "The agreement this was shared under is no longer in force, or the share ended."
                ),
            ),
            "view_access": access.Rule(
                is_owner_member, gettext_lazy("Only the owner sees who has access.")
            ),
            "view_history": access.Rule(
                is_owner_member, gettext_lazy("Only the owner sees the history.")
            ),
            "view_access_report": access.Rule(
                may_read_access_report,
                gettext_lazy(
                    "Only the owner's programme managers and admins read the access report."
                ),
            ),
        },
    )
)

access.add_rule(
    Agreement,
    "view_access_report",
    may_read_agreement_access_report,
    gettext_lazy("Only a party's programme managers and admins read its access report."),
)
