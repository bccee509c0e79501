"""How intelligence's audit events read (portal.audit_words): shares read as resources'
do; and what deactivating a person ends here: the TLP:RED shares naming them."""

from django.utils.translation import gettext, ngettext

from intel.models import IntelShare, StixObject
from portal.audit_words import register
from portal.invitations import describe_named_grants_of, register_deactivation_effect
from resources.audit_words import (
    share_ended_sentence,
    share_revoked_sentence,
    share_sentence,
    share_suspended_sentence,
)

register("intel.shared")(share_sentence)
register("intel.share_revoked")(share_revoked_sentence)
register("intel.share_ended")(share_ended_sentence)
register("intel.share_suspended")(share_suspended_sentence)


@register("intel.object_added")
def _added(w, e):
    return w.say(
        gettext("%(actor)s added %(object)s (through %(via)s)."),
        actor=w.actor(e),
        object=w.object(e),
        via=str(w.details(e).get("via", "")).replace("_", " ") or gettext("the portal"),
    )


@register("intel.version_added")
def _version_added(w, e):
    return w.say(
        gettext("%(actor)s added a new version of %(object)s."),
        actor=w.actor(e),
        object=w.object(e),
    )


@register("intel.imported")
def _imported(w, e):
    details = w.details(e)
    return w.say(
        gettext(
            "%(actor)s imported intelligence through %(via)s: %(stored)d stored, "
            "%(unchanged)d unchanged, %(refused)d refused."
        ),
        actor=w.actor(e),
        via=str(details.get("via", "")).replace("_", " "),
        stored=int(details.get("stored") or 0),
        unchanged=int(details.get("unchanged") or 0),
        refused=int(details.get("refused") or 0),
    )


@register("intel.exported")
def _exported(w, e):
    count = int(w.details(e).get("exported") or 0)
    return w.say(
        ngettext(
            "%(actor)s exported %(count)d intelligence object (through %(via)s).",
            "%(actor)s exported %(count)d intelligence objects (through %(via)s).",
            count,
        ),
        actor=w.actor(e),
        count=count,
        via=str(w.details(e).get("via", "")).replace("_", " "),
    )


def _red_shares(user) -> list[str]:
    live = IntelShare.objects.live().filter(recipient_users=user)
    count = live.values("object").distinct().count()
    if not count:
        return []
    return [
        ngettext(
            "They lose %(count)d TLP:RED intelligence object shared with them by name.",
            "They lose %(count)d TLP:RED intelligence objects shared with them by name.",
            count,
        )
        % {"count": count}
    ]


register_deactivation_effect(_red_shares)
describe_named_grants_of(StixObject)
