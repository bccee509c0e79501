"""How resources' audit events read (portal.audit_words), and what deactivating a person
ends of theirs here: the TLP:RED shares naming them."""

from django.utils.translation import gettext, ngettext

from portal.audit_words import register
from portal.invitations import describe_named_grants_of, register_deactivation_effect
from portal.vocabulary import TLP
from resources.models import Resource, Share


@register("resource.created")
def _created(w, e):
    tlp = w.details(e).get("tlp")
    return w.say(
        gettext("%(actor)s uploaded %(object)s, marked %(tlp)s."),
        actor=w.actor(e),
        object=w.object(e),
        tlp=TLP(tlp).label if tlp in TLP.values else gettext("with no TLP"),
    )


@register("resource.version_added")
def _version_added(w, e):
    return w.say(
        gettext("%(actor)s added version %(number)s of %(object)s."),
        actor=w.actor(e),
        number=str(w.details(e).get("version", "")),
        object=w.object(e),
    )


@register("resource.updated")
def _updated(w, e):
    fields = ", ".join(sorted(w.details(e).get("changes") or {})).replace("_", " ")
    return w.say(
        gettext("%(actor)s changed %(fields)s of %(object)s."),
        actor=w.actor(e),
        fields=fields or gettext("nothing"),
        object=w.object(e),
    )


def share_sentence(w, e):
    """A share to a partner under an agreement; RED says to whom by name. Intelligence
    shares read the same (intel.audit_words)."""
    details = w.details(e)
    values = {
        "actor": w.actor(e),
        "object": w.object(e),
        "recipient": w.reference("recipient", details.get("recipient", "")),
        "agreement": w.reference("agreement", details.get("agreement", "")),
    }
    if details.get("named_users"):
        return w.say(
            gettext(
                "%(actor)s shared %(object)s with %(people)s of %(recipient)s, by name, "
                "under %(agreement)s."
            ),
            people=w.people(details["named_users"]),
            **values,
        )
    return w.say(
        gettext("%(actor)s shared %(object)s with %(recipient)s under %(agreement)s."), **values
    )


def share_revoked_sentence(w, e):
    details = w.details(e)
    return w.say(
        gettext("%(actor)s revoked the share of %(object)s with %(recipient)s."),
        actor=w.actor(e),
        object=w.object(e),
        recipient=w.reference("recipient", details.get("recipient", "")),
    )


def share_ended_sentence(w, e):
    return w.say(
        gettext("The share of %(object)s under %(agreement)s ended with the agreement."),
        object=w.object(e),
        agreement=w.reference("agreement", w.details(e).get("agreement", "")),
    )


def share_suspended_sentence(w, e):
    details = w.details(e)
    return w.say(
        gettext("A share of %(object)s was suspended: %(reason)s"),
        object=w.object(e),
        reason=details.get("reason") or gettext("it no longer meets the sharing rules."),
    )


register("resource.shared")(share_sentence)
register("resource.share_revoked")(share_revoked_sentence)
register("resource.share_ended")(share_ended_sentence)
register("resource.share_suspended")(share_suspended_sentence)


@register("resource.share_carried_over")
def _carried_over(w, e):
    return w.say(
        gettext("The share of %(object)s carried over to the amendment %(agreement)s."),
        object=w.object(e),
        agreement=w.reference("agreement", w.details(e).get("agreement", "")),
    )


@register(
    "resource.viewed",
    fold=lambda count: ngettext(
        "You viewed %(object)s once.", "You viewed %(object)s %(count)d times.", count
    ),
)
def _viewed(w, e):
    return w.say(gettext("%(actor)s viewed %(object)s."), actor=w.actor(e), object=w.object(e))


@register("resource.downloaded")
def _downloaded(w, e):
    return w.say(
        gettext("%(actor)s downloaded version %(number)s of %(object)s."),
        actor=w.actor(e),
        number=str(w.details(e).get("version", "")),
        object=w.object(e),
    )


@register("resource.access_report_exported")
def _report_exported(w, e):
    return w.say(
        gettext("%(actor)s exported the access report of %(object)s."),
        actor=w.actor(e),
        object=w.object(e),
    )


# --- What deactivation ends ---------------------------------------------------------------------


def _red_shares(user) -> list[str]:
    count = Share.objects.live().filter(recipient_users=user).values("resource").distinct().count()
    if not count:
        return []
    return [
        ngettext(
            "They lose %(count)d TLP:RED resource shared with them by name.",
            "They lose %(count)d TLP:RED resources shared with them by name.",
            count,
        )
        % {"count": count}
    ]


register_deactivation_effect(_red_shares)
describe_named_grants_of(Resource)
